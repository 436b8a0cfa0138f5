"""Run the integration inside a real Home Assistant on simulated time, the plant as its inverter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
import copy
from dataclasses import replace
from datetime import datetime, timedelta
import os
from pathlib import Path
import time
from typing import Any, Final
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
)
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.export_monitor.config_flow import ExportMonitorConfigFlow
from custom_components.export_monitor.const import (
    DEFAULT_TITLE,
    DOMAIN,
    EVENT_DISCHARGE_STOPPED,
)
from custom_components.export_monitor.logic import (
    control,
    control_active,
    supervision as rules,
)
from custom_components.export_monitor.profiles import DEFAULT_PROFILE as GENERIC_KEY
from custom_components.export_monitor.profiles.options import FLAT_KEYS
from custom_components.export_monitor.supervisor import ExportMonitorSupervisor
from sim.bridge import (
    CONTROL_ENTITIES,
    CUTOFF_ENTITY,
    DURATION_ENTITY,
    ENABLE_ENTITY,
    POWER_ENTITY,
    SENSOR_ENTITIES,
    EntityState,
    command_for,
    helper_config,
    reported_since,
    sensor_states,
)
from sim.clock import next_local_midnight
from sim.commands import Command, SetEnable, apply_command
from sim.inverter import DischargeSettings
from sim.meters import BATTERY_POWER, EXPORT_TODAY, GRID_POWER, PV_TODAY, SOC
from sim.plant import Plant
from sim.scenarios import ScenarioDay

from .config import PLANT_STEP_S, HassSpan, bench_options, export_window
from .records import OURS, ControllerDay, Reaction
from .tracker import EPS, DayTracker, advance, allowance_kwh, day_result, seconds_at
from .vendor import VendorBridge, profile_for

# The sensors the monitor reads (import and forecast are not configured, so not written).
MONITORED: Final = frozenset(
    SENSOR_ENTITIES[key]
    for key in (SOC, PV_TODAY, EXPORT_TODAY, GRID_POWER, BATTERY_POWER)
)


def wall_clock() -> float:
    """Return real monotonic seconds: freezegun patches perf_counter, not clock_gettime."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


# Why a stop became due: a source write in this step, or a timer (staleness, the clock).
SOURCE_TRIGGER: Final = "source_write"
TIMER_TRIGGER: Final = "timer"

# A file to append every control write and stop of ours to, with the true export and
# allowance at that moment (single-day analysis: BENCH_TRACE=/tmp/t scripts/bench -k DAY).
TRACE_ENV: Final = "BENCH_TRACE"
# Loop passes allowed for Home Assistant's queued work and our background tasks (a stop,
# a re-arm) to finish at one moment; the clock is frozen, so nothing sleeps meanwhile.
SETTLE_ROUNDS: Final = 500
# Where a task waits for simulated time: a polled read-back, a retry's pause.
CLOCK_WAITS: Final = frozenset({"_async_confirm", "sleep"})

# After a vendor's span its entry is unloaded on a clock moved on in these steps (at
# most an hour): long enough for any read-back latency and stop retry to run out.
UNLOAD_CLOCK_STEP: Final = timedelta(seconds=5)
UNLOAD_CLOCK_STEPS: Final = 720


def waits_on_clock(task: asyncio.Future[Any]) -> bool:
    """Return whether a task waits for simulated time to pass (it cannot end now)."""
    if not isinstance(task, asyncio.Task):
        return False
    coro: Any = task.get_coro()
    while coro is not None:
        frame = getattr(coro, "cr_frame", None)
        if frame is not None and frame.f_code.co_name in CLOCK_WAITS:
            return True
        coro = getattr(coro, "cr_await", None)
    return False


def busy(hass: HomeAssistant) -> bool:
    """Return whether queued work or our tasks can still finish at this moment."""
    tracked: set[asyncio.Future[Any]] = hass._tasks  # noqa: SLF001 - what block_till_done waits for
    ours = {t for t in asyncio.all_tasks() if t.get_name().startswith(DOMAIN)}
    return any(not t.done() and not waits_on_clock(t) for t in tracked | ours)


async def async_cancel_clock_waits() -> None:
    """Cancel our tasks still waiting for simulated time when the span ends.

    The next day moves the frozen clock on: left pending, such a task would wake up then,
    in a Home Assistant that is gone.
    """
    tasks = [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith(DOMAIN) and not task.done()
    ]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def async_settle(hass: HomeAssistant, *, polled: bool = False) -> None:
    """Let queued work finish; never wait on a task that waits for the frozen clock.

    With the generic helpers (nothing read back at a poll) Home Assistant's own wait is
    used, as in the reference run; a vendor's polled read-back would hang it.
    """
    if not polled:
        await hass.async_block_till_done()
    for _ in range(SETTLE_ROUNDS):
        await asyncio.sleep(0)
        if not busy(hass):
            return


def helpers_at(controls: DischargeSettings) -> dict[str, Any]:
    """Return the helper config with the inverter's current settings as initial values."""
    config = copy.deepcopy(helper_config())
    numbers = config["input_number"]
    initial = {
        POWER_ENTITY: controls.power_kw,
        CUTOFF_ENTITY: controls.cutoff_soc,
        DURATION_ENTITY: controls.duration_minutes,
    }
    for entity_id, value in initial.items():
        numbers[entity_id.partition(".")[2]]["initial"] = value
    return config


def timed[**P, R](function: Callable[P, R], cpu_s: list[float]) -> Callable[P, R]:
    """Return the function, noting the process CPU seconds of every call in cpu_s."""

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        """Call the real function and note its CPU time."""
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            cpu_s.append(time.process_time() - start)

    return wrapper


@contextmanager
def timed_supervision(cpu_s: list[float], rule_cpu_s: list[float]) -> Iterator[None]:
    """Time every supervisor evaluation, and apart the pure rules it consults."""
    evaluate = ExportMonitorSupervisor.async_evaluate
    with (
        patch.object(ExportMonitorSupervisor, "async_evaluate", timed(evaluate, cpu_s)),
        patch.object(
            control_active, "stop_reason", timed(rules.stop_reason, rule_cpu_s)
        ),
        patch.object(
            control, "auto_start_due", timed(rules.auto_start_due, rule_cpu_s)
        ),
    ):
        yield


class HassSession:
    """One Home Assistant span: sensors written in, control writes carried to the plant."""

    def __init__(
        self,
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory,
        day: ScenarioDay,
        plant: Plant,
        tracker: DayTracker,
    ) -> None:
        """Bind Home Assistant, the frozen clock and the plant."""
        self.hass = hass
        self.freezer = freezer
        self.day = day
        self.plant = plant
        self.tracker = tracker
        self.entry: MockConfigEntry | None = None
        self.describe_meter = False
        self.reported: dict[str, datetime] = {}
        self.reactions: list[Reaction] = []
        self.stop_reasons: list[str] = []
        self.update_cpu_s: list[float] = []
        self.state_writes = 0
        self._stale_after_s = 0.0
        self._trigger = TIMER_TRIGGER
        self._trigger_at = plant.now_utc
        self._trigger_wall = 0.0
        self._last_tick = plant.now_utc
        self._unsubs: list[CALLBACK_TYPE] = []
        key = profile_for(plant.config.inverter.backstop)
        # The generic profile drives the generic helpers (sim.bridge); every other
        # variant drives its vendor's entities through that vendor's profile.
        self.bridge = (
            None if key == GENERIC_KEY else VendorBridge(hass, plant, key, self._send)
        )

    async def async_start(self) -> None:
        """Publish the sensors, create the controls, then set the integration up."""
        hass, plant = self.hass, self.plant
        await hass.config.async_set_time_zone(plant.config.timezone)
        self.freezer.move_to(plant.now_utc)
        published = plant.published()
        self._write(sensor_states(published))
        options = bench_options(
            published, plant.config, self.day.events.daily_cap_kwh, self.describe_meter
        )
        if self.bridge is None:
            await self._async_setup_helpers(published.controls)
            entry = MockConfigEntry(domain=DOMAIN, title=DEFAULT_TITLE, options=options)
        else:
            await self.bridge.async_setup()
            self._listen()
            # Not every profile is offered by the setup yet (profiles.OFFERED): the
            # bench writes the entry as the setup would, at the options' version.
            options = {
                key: value for key, value in options.items() if key not in FLAT_KEYS
            } | self.bridge.options()
            entry = MockConfigEntry(
                domain=DOMAIN,
                title=DEFAULT_TITLE,
                options=options,
                version=ExportMonitorConfigFlow.VERSION,
                minor_version=ExportMonitorConfigFlow.MINOR_VERSION,
            )
        self._stale_after_s = float(options["stale_after_seconds"])
        self.entry = entry
        entry.add_to_hass(hass)
        await self._async_setup_entry()

    async def _async_setup_helpers(self, controls: DischargeSettings) -> None:
        """Create the generic helpers at the inverter's settings; carry their writes."""
        for domain, config in helpers_at(controls).items():
            if not await async_setup_component(self.hass, domain, {domain: config}):
                raise RuntimeError(f"could not set up the {domain} helpers")
        self._listen()

    async def _async_setup_entry(self) -> None:
        """Set the config entry up and let it settle."""
        if self.entry is None or not await self.hass.config_entries.async_setup(
            self.entry.entry_id
        ):
            raise RuntimeError("the integration did not set up")
        await async_settle(self.hass, polled=self.bridge is not None)

    async def async_crash(self) -> None:
        """Lose Home Assistant at once: nothing it does from now reaches the inverter."""
        self.close()
        if self.entry is not None:
            await self.hass.config_entries.async_unload(self.entry.entry_id)
            await async_settle(self.hass, polled=self.bridge is not None)

    async def async_come_back(self) -> None:
        """Start again after a crash: controls as the inverter reports them, fresh sensors."""
        plant = self.plant
        self.freezer.move_to(plant.now_utc)
        controls = plant.published().controls
        if self.bridge is None:
            await self._async_restore_helpers(controls)
        else:
            self.bridge.vendor.restart(plant.now_utc, controls.enabled)
            self.bridge.listen()
            self.bridge.publish()
        self._write(sensor_states(plant.published()))
        self._listen()
        await self._async_setup_entry()

    async def _async_restore_helpers(self, controls: DischargeSettings) -> None:
        """Set the generic helpers to what the inverter reports."""
        hass = self.hass
        service = "turn_on" if controls.enabled else "turn_off"
        await hass.services.async_call(
            "input_boolean", service, {"entity_id": ENABLE_ENTITY}, blocking=True
        )
        for entity_id, value in (
            (POWER_ENTITY, controls.power_kw),
            (CUTOFF_ENTITY, controls.cutoff_soc),
            (DURATION_ENTITY, controls.duration_minutes),
        ):
            await hass.services.async_call(
                "input_number",
                "set_value",
                {"entity_id": entity_id, "value": value},
                blocking=True,
            )

    async def async_run_until(self, end_s: float, step_s: float) -> None:
        """Step plant and clock together; fire Home Assistant's timers every step_s.

        The plant moves 1 s at a time (the tracker checks the allowance at each); Home
        Assistant's clock moves only to the next meter poll or timer tick, where
        something can happen for it.
        """
        plant, hass = self.plant, self.hass
        next_tick_s = plant.elapsed_s + step_s
        while plant.elapsed_s < end_s - EPS:
            target = min(end_s, next_tick_s, plant.next_poll_s)
            while plant.elapsed_s < target - EPS:
                plant.step(min(PLANT_STEP_S, target - plant.elapsed_s))
                self.tracker.observe()
            self.freezer.move_to(plant.now_utc)
            if self.bridge is not None:
                self.bridge.tick()
            states = [
                state
                for state in reported_since(plant.published(), self.reported)
                if state.entity_id in MONITORED
            ]
            if states:
                await self._async_source_update(states)
            if plant.elapsed_s + EPS >= next_tick_s:
                next_tick_s += step_s
                self._trigger = TIMER_TRIGGER
                self._trigger_at = self._last_tick
                self._trigger_wall = wall_clock()
                self._last_tick = plant.now_utc
                async_fire_time_changed(hass)
                await async_settle(hass, polled=self.bridge is not None)

    async def _async_source_update(self, states: list[EntityState]) -> None:
        """Write one poll's states and let everything they trigger run; time the whole path."""
        self._trigger = SOURCE_TRIGGER
        self._trigger_at = self.plant.now_utc
        start = time.process_time()
        self._trigger_wall = wall_clock()
        self._write(states)
        await async_settle(self.hass, polled=self.bridge is not None)
        self.update_cpu_s.append(time.process_time() - start)
        self.state_writes += len(states)

    async def async_unload_on_moving_clock(self) -> None:
        """Unload the entry while Home Assistant's clock moves on (not the plant's).

        Its stop may wait for a vendor's read-back at the next poll: on the frozen clock
        that never comes, and the test's own teardown would wait for it for ever.
        """
        if self.entry is None:
            return
        unload = self.hass.async_create_task(
            self.hass.config_entries.async_unload(self.entry.entry_id)
        )
        moved = self.plant.now_utc
        for _ in range(UNLOAD_CLOCK_STEPS):
            await async_settle(self.hass, polled=True)
            if unload.done():
                break
            moved += UNLOAD_CLOCK_STEP
            self.freezer.move_to(moved)
            async_fire_time_changed(self.hass)
        await unload

    def close(self) -> None:
        """Stop carrying writes to the plant (the plant keeps what it was told)."""
        while self._unsubs:
            self._unsubs.pop()()
        if self.bridge is not None:
            self.bridge.close()

    def _write(self, states: list[EntityState]) -> None:
        """Write the monitor's sensor states with the moment each was reported."""
        for state in states:
            if state.entity_id not in MONITORED:
                continue
            self.hass.states.async_set(
                state.entity_id,
                state.state,
                state.attributes,
                timestamp=state.reported_at.timestamp(),
            )
            self.reported[state.entity_id] = state.reported_at

    def _listen(self) -> None:
        """Carry every write of a generic helper to the plant; note stop reasons."""
        hass, entities = self.hass, list(CONTROL_ENTITIES)
        self._unsubs.append(
            hass.bus.async_listen(EVENT_DISCHARGE_STOPPED, self._on_stopped)
        )
        if self.bridge is None:
            self._unsubs += [
                async_track_state_change_event(hass, entities, self._on_changed),
                async_track_state_report_event(hass, entities, self._on_reported),
            ]

    @callback
    def _on_changed(self, event: Event[EventStateChangedData]) -> None:
        """Carry a changed control to the plant."""
        new_state = event.data["new_state"]
        if new_state is not None:
            self._forward(event.data["entity_id"], new_state.state)

    @callback
    def _on_reported(self, event: Event[EventStateReportedData]) -> None:
        """Carry a re-written control (same value) to the plant: it re-arms the timer."""
        self._forward(event.data["entity_id"], event.data["new_state"].state)

    @callback
    def _on_stopped(self, event: Event[dict[str, Any]]) -> None:
        """Note why the integration stopped."""
        _trace(self.plant, f"stopped {event.data['reason']}", self.tracker.cap_kwh)
        self.stop_reasons.append(str(event.data["reason"]))

    def _forward(self, entity_id: str, state: str) -> None:
        """Send one write to the plant; a stop notes when it became due."""
        _trace(self.plant, f"write {entity_id}={state}", self.tracker.cap_kwh)
        command = command_for(entity_id, state)
        if command is not None:
            self._send(command)

    def _send(self, command: Command) -> None:
        """Send one command to the plant; a stop notes when it became due."""
        if self.bridge is not None:  # a vendor's write: its commands are what it meant
            _trace(self.plant, f"command {command}", self.tracker.cap_kwh)
        if command == SetEnable(False):
            self.reactions.append(self._reaction())
        apply_command(self.plant, command)

    def _reaction(self) -> Reaction:
        """Return the stop's reaction: from the source write or deadline that made it due."""
        now = self.plant.now_utc
        due = self._trigger_at
        if self._trigger == TIMER_TRIGGER:
            limit = timedelta(seconds=self._stale_after_s)
            deadlines = [
                at + limit for at in self.reported.values() if at + limit <= now
            ]
            due = max([due, *deadlines])
        return Reaction(
            due=due,
            command=now,
            trigger=self._trigger,
            wall_s=wall_clock() - self._trigger_wall,
        )


def _trace(plant: Plant, what: str, cap: float | None) -> None:
    """Append ours' write or stop, with the true plant, to the file named by $BENCH_TRACE."""
    path = os.environ.get(TRACE_ENV)
    if not path:
        return
    truth = plant.truth()
    allowance = allowance_kwh(truth.pv_today_kwh, cap)
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(
            f"{truth.now:%H:%M:%S} exp={truth.export_today_kwh:.4f} "
            f"allow={allowance:.4f} room={allowance - truth.export_today_kwh:.4f} "
            f"grid={truth.grid_kw:.2f} bat={truth.battery_kw:.2f} pv={truth.pv_kw:.2f} {what}\n"
        )


async def async_run_ours(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    day: ScenarioDay,
    span: HassSpan,
) -> ControllerDay:
    """Run a scenario-day: plant alone, then inside Home Assistant, then alone to midnight."""
    begin = time.process_time()
    plant = day.plant()
    timezone = plant.config.timezone
    tracker = DayTracker(
        plant, export_window(day.day, timezone), day.events.daily_cap_kwh
    )
    start_truth = plant.truth()
    span_start, span_end = span.bounds(day.day, timezone)
    midnight_s = seconds_at(plant, next_local_midnight(plant.start_utc, plant.tz))
    end_s = (
        midnight_s if span_end is None else min(midnight_s, seconds_at(plant, span_end))
    )
    advance(plant, tracker, seconds_at(plant, span_start), PLANT_STEP_S * 10)
    session = HassSession(hass, freezer, day, plant, tracker)
    session.describe_meter = span.describe_meter
    cpu_s: list[float] = []
    rule_cpu_s: list[float] = []
    with timed_supervision(cpu_s, rule_cpu_s):
        try:
            await session.async_start()
            await _async_run_span(session, day, end_s, span.step_s)
        finally:
            session.close()
            if session.bridge is not None:
                await session.async_unload_on_moving_clock()
                await async_cancel_clock_waits()
    hass_span = (span_start, plant.now)
    advance(plant, tracker, midnight_s)
    result = day_result(plant, tracker, start_truth, [])
    if session.bridge is not None:
        # Writes are the vendor's entity writes and service calls, not plant commands.
        vendor = session.bridge.vendor
        result = replace(
            result, commands_written=vendor.writes, flash_writes=vendor.flash_writes
        )
    return ControllerDay(
        controller=OURS,
        result=result,
        window=tracker.figures(),
        cpu_s=tuple(cpu_s),
        rule_cpu_s=tuple(rule_cpu_s),
        update_cpu_s=tuple(session.update_cpu_s),
        state_writes=session.state_writes,
        reactions=tuple(session.reactions),
        stop_reasons=tuple(session.stop_reasons),
        hass_span=hass_span,
        run_cpu_s=time.process_time() - begin,
    )


async def _async_run_span(
    session: HassSession, day: ScenarioDay, end_s: float, step_s: float
) -> None:
    """Run the span, with the day's crash (and comeback) or death of Home Assistant."""
    plant, events = session.plant, day.events
    if events.ha_dies_at is not None:
        dies_s = min(end_s, seconds_at(plant, events.ha_dies_at))
        await session.async_run_until(dies_s, step_s)
        session.close()
        plant.controller_gone()
        return
    if events.restart_at is not None:
        crash_s = seconds_at(plant, events.restart_at)
        await session.async_run_until(crash_s, step_s)
        await session.async_crash()
        advance(plant, session.tracker, crash_s + events.restart_gap_s)
        await session.async_come_back()
    await session.async_run_until(end_s, step_s)
