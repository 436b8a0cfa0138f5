"""Run the integration inside a real Home Assistant on simulated time, the plant as its inverter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
import copy
from datetime import datetime
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

from custom_components.export_monitor.const import (
    DEFAULT_TITLE,
    DOMAIN,
    EVENT_DISCHARGE_STOPPED,
)
from custom_components.export_monitor.logic import supervision as rules
from custom_components.export_monitor.supervisor import ExportMonitorSupervisor
from sim.bridge import (
    CONTROL_ENTITIES,
    CUTOFF_ENTITY,
    DURATION_ENTITY,
    POWER_ENTITY,
    EntityState,
    command_for,
    helper_config,
    reported_since,
    sensor_states,
)
from sim.clock import next_local_midnight
from sim.commands import SetEnable, apply_command
from sim.inverter import DischargeSettings
from sim.plant import Plant
from sim.runner import StopRecord
from sim.scenarios import ScenarioDay

from .config import PLANT_STEP_S, HassSpan, bench_options, export_window
from .records import OURS, ControllerDay
from .tracker import EPS, DayTracker, advance, day_result, seconds_at

# The module whose imported pure rules get timed.
SUPERVISOR: Final = ExportMonitorSupervisor.__module__
# Loop passes allowed for our background tasks (a stop, a re-arm) to finish in one second.
SETTLE_ROUNDS: Final = 50


async def async_settle(hass: HomeAssistant) -> None:
    """Let queued work finish; never wait on a task sleeping on the frozen clock."""
    await hass.async_block_till_done()
    for _ in range(SETTLE_ROUNDS):
        if not any(
            not task.done() and task.get_name().startswith(DOMAIN)
            for task in asyncio.all_tasks()
        ):
            return
        await asyncio.sleep(0)


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
        patch(f"{SUPERVISOR}.stop_reason", timed(rules.stop_reason, rule_cpu_s)),
        patch(f"{SUPERVISOR}.auto_start_due", timed(rules.auto_start_due, rule_cpu_s)),
    ):
        yield


class HassSession:
    """One Home Assistant span: sensors written in, control writes carried to the plant."""

    def __init__(
        self,
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory,
        plant: Plant,
        tracker: DayTracker,
    ) -> None:
        """Bind Home Assistant, the frozen clock and the plant."""
        self.hass = hass
        self.freezer = freezer
        self.plant = plant
        self.tracker = tracker
        self.reported: dict[str, datetime] = {}
        self.stops: list[StopRecord] = []
        self.stop_reasons: list[str] = []
        self._unsubs: list[CALLBACK_TYPE] = []

    async def async_start(self) -> None:
        """Publish the sensors, create the helpers, then set the integration up."""
        hass, plant = self.hass, self.plant
        await hass.config.async_set_time_zone(plant.config.timezone)
        self.freezer.move_to(plant.now_utc)
        published = plant.published()
        self._write(sensor_states(published))
        for domain, config in helpers_at(published.controls).items():
            if not await async_setup_component(hass, domain, {domain: config}):
                raise RuntimeError(f"could not set up the {domain} helpers")
        self._listen()
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=DEFAULT_TITLE,
            options=bench_options(published, plant.config),
        )
        entry.add_to_hass(hass)
        if not await hass.config_entries.async_setup(entry.entry_id):
            raise RuntimeError("the integration did not set up")
        await async_settle(hass)

    async def async_run_until(self, end_s: float, step_s: float) -> None:
        """Step plant and clock together; fire Home Assistant's timers every step_s."""
        plant = self.plant
        next_tick_s = plant.elapsed_s + step_s
        while plant.elapsed_s < end_s - EPS:
            plant.step(min(PLANT_STEP_S, end_s - plant.elapsed_s))
            self.tracker.observe()
            self.freezer.move_to(plant.now_utc)
            self._write(reported_since(plant.published(), self.reported))
            if plant.elapsed_s + EPS >= next_tick_s:
                next_tick_s += step_s
                async_fire_time_changed(self.hass)
            await async_settle(self.hass)

    def close(self) -> None:
        """Stop carrying writes to the plant (the plant keeps what it was told)."""
        while self._unsubs:
            self._unsubs.pop()()

    def _write(self, states: list[EntityState]) -> None:
        """Write sensor states with the moment each was reported."""
        for state in states:
            self.hass.states.async_set(
                state.entity_id,
                state.state,
                state.attributes,
                timestamp=state.reported_at.timestamp(),
            )
            self.reported[state.entity_id] = state.reported_at

    def _listen(self) -> None:
        """Carry every write of a control entity to the plant; note stop reasons."""
        hass, entities = self.hass, list(CONTROL_ENTITIES)
        self._unsubs += [
            async_track_state_change_event(hass, entities, self._on_changed),
            async_track_state_report_event(hass, entities, self._on_reported),
            hass.bus.async_listen(EVENT_DISCHARGE_STOPPED, self._on_stopped),
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
        self.stop_reasons.append(str(event.data["reason"]))

    def _forward(self, entity_id: str, state: str) -> None:
        """Send one write to the plant; a stop notes its triggering meter update."""
        command = command_for(entity_id, state)
        if command is None:
            return
        plant = self.plant
        if command == SetEnable(False):
            trigger = plant.published().export_today.last_reported
            self.stops.append(StopRecord(trigger=trigger, command=plant.now_utc))
        apply_command(plant, command)


async def async_run_ours(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    day: ScenarioDay,
    span: HassSpan,
) -> ControllerDay:
    """Run a scenario-day: plant alone, then inside Home Assistant, then alone to midnight."""
    plant = day.plant()
    timezone = plant.config.timezone
    tracker = DayTracker(plant, export_window(day.day, timezone))
    start_truth = plant.truth()
    span_start, span_end = span.bounds(day.day, timezone)
    midnight_s = seconds_at(plant, next_local_midnight(plant.start_utc, plant.tz))
    end_s = midnight_s if span_end is None else seconds_at(plant, span_end)
    advance(plant, tracker, seconds_at(plant, span_start))
    session = HassSession(hass, freezer, plant, tracker)
    cpu_s: list[float] = []
    rule_cpu_s: list[float] = []
    with timed_supervision(cpu_s, rule_cpu_s):
        try:
            await session.async_start()
            await session.async_run_until(min(end_s, midnight_s), span.step_s)
        finally:
            session.close()
    hass_span = (span_start, plant.now)
    advance(plant, tracker, midnight_s)
    return ControllerDay(
        controller=OURS,
        result=day_result(plant, tracker, start_truth, session.stops),
        window=tracker.figures(),
        cpu_s=tuple(cpu_s),
        rule_cpu_s=tuple(rule_cpu_s),
        stop_reasons=tuple(session.stop_reasons),
        hass_span=hass_span,
    )
