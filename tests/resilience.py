"""Helpers for the resilience tests: services, time, notices, a simulated site, faults."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
import math
from typing import Any, Final
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.components.persistent_notification import UpdateType
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_ENTITY_ID, EVENT_HOMEASSISTANT_CLOSE
from homeassistant.core import Event, HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.export_monitor.actuator import ExportMonitorActuator
from custom_components.export_monitor.config_flow import ExportMonitorConfigFlow
from custom_components.export_monitor.const import (
    CONF_CONTROLS,
    CONF_CUTOFF_SOC_ENTITY,
    CONF_DISCHARGE_DURATION_ENTITY,
    CONF_DISCHARGE_POWER_ENTITY,
    CONF_DISCHARGE_SWITCH_ENTITY,
    CONF_PROFILE,
    CONF_SAFETY_MARGIN_KWH,
    DOMAIN,
    EVENT_DISCHARGE_STOPPED,
)
from custom_components.export_monitor.controller import ExportMonitorController
from tests.conftest import (
    BATTERY,
    ENABLE,
    ENERGY_ATTRS,
    EXPORT,
    GRID,
    POWER_ATTRS,
    PV,
    SOC,
    SOC_ATTRS,
)
from tests.discharge import async_settle, clock_forward
from tests.vendors.base import KWH_PER_PERCENT, VendorSim
from tests.vendors.generic import GenericSim

ENTRY_ID: Final = "01JEXPORTMONITOR0000000000"
STORE_KEY: Final = f"{DOMAIN}.{ENTRY_ID}.session"
STATUS: Final = "sensor.export_monitor_discharge_status"
ERROR: Final = "sensor.export_monitor_error_state"
EXPORTED: Final = "sensor.export_monitor_exported_today"
ALLOWANCE: Final = "sensor.export_monitor_export_allowance"
HEADROOM: Final = "sensor.export_monitor_export_headroom"
STEP: Final = timedelta(seconds=5)
# The generic profile's control options, replaced by a vendor's profile and controls.
GENERIC_KEYS: Final = (
    CONF_DISCHARGE_SWITCH_ENTITY,
    CONF_DISCHARGE_POWER_ENTITY,
    CONF_CUTOFF_SOC_ENTITY,
    CONF_DISCHARGE_DURATION_ENTITY,
)
# The simulated meters report every 10 s, a common cadence (5-60 s in the field).
METER_STEP: Final = timedelta(seconds=10)
# Loop turns the pump lets pass before it moves time, so that the monitor sends the
# rest of a sequence first (a count of turns, not a real-time wait).
PUMP_YIELDS: Final = 20
# The actuator's bounded wait for the entities to show polled writes.
READBACK_WAIT: Final = ExportMonitorActuator.async_await_shown.__name__


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    """Return an entity's state string, None when it has no state."""
    state = hass.states.get(entity_id)
    return None if state is None else state.state


def notices(hass: HomeAssistant) -> set[str]:
    """Return the conditions of the test entry shown as persistent notifications."""
    prefix = f"{DOMAIN}_{ENTRY_ID}_"
    # Home Assistant keeps notifications out of the state machine; its tests read them here.
    shown = persistent_notification._async_get_or_create_notifications(hass)  # noqa: SLF001
    return {key.removeprefix(prefix) for key in shown if key.startswith(prefix)}


def issue_placeholders(hass: HomeAssistant, condition: str) -> dict[str, str] | None:
    """Return the placeholders of the test entry's repair issue, None when not raised."""
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"{condition}_{ENTRY_ID}")
    return None if issue is None else dict(issue.translation_placeholders or {})


async def async_tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move time forward in 5 s steps, firing the timers and settling at each step."""
    for _ in range(math.ceil(seconds / STEP.total_seconds())):
        clock_forward(freezer, STEP)
        async_fire_time_changed(hass)
        await async_settle(hass)


# -- a simulated plant behind the helper-entity inverter --------------------------------

SAFETY_MARGIN_KWH: Final = 0.5
PUBLISHED: Final = (SOC, PV, EXPORT, GRID, BATTERY)

type Publish = Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]]]


@dataclass
class Plant:
    """A battery, PV and meters that follow the simulated inverter, as a real site would.

    The inverter (a vendor's fake from tests/vendors, the generic helpers by default) says
    whether a forced discharge runs, at what power, until when its own backstop lets it
    run, what it falls back to then, and down to which SOC. The meters report every step;
    faults change what they report.
    """

    hass: HomeAssistant
    inverter: VendorSim
    soc: float = 80.0
    pv_kwh: float = 4.1
    export_kwh: float = 3.5
    obeys: bool = True
    running: bool = False
    power_kw: float = 0.0
    breach_kwh: float = 0.0
    frozen: set[str] = field(default_factory=set)
    faults: dict[str, Publish] = field(default_factory=dict)
    timer_ends: datetime | None = None
    fallback_kw: float = 0.0
    floor_soc: float | None = None
    stop_delay_s: float = 0.0
    # Meters that write only when their state changes (no re-report of a same value).
    changes_only: bool = False
    # An inverter that ignores the power setpoint and discharges at this power instead.
    actual_power_kw: float | None = None
    # An inverter that ignores its discharge cutoff (the SOC floor) as well.
    ignores_floor: bool = False
    # House load: the battery covers it while idle (self-use, its energy not counted);
    # a forced discharge exports only what is left over.
    house_kw: float = 0.0
    # Meters that report only this often (seconds), not at every step.
    every_s: dict[str, float] = field(default_factory=dict)
    _reported_at: dict[str, datetime] = field(default_factory=dict)
    _off_since: datetime | None = None
    _on_seen: bool | None = None
    _day: date | None = None

    def margin_kwh(self, entry: ConfigEntry) -> float:
        """Return the safety margin the entry holds now."""
        return float(entry.options.get(CONF_SAFETY_MARGIN_KWH, SAFETY_MARGIN_KWH))

    def follow_inverter(self) -> None:
        """Start or end the physical discharge as the inverter says."""
        drive = self.inverter.drive()
        changed = drive.on is not None and drive.on != self._on_seen
        if changed and not self._stops_late(bool(drive.on)):
            self.running = bool(drive.on) and self.obeys
            self._on_seen = drive.on
        if drive.power_kw is not None:
            self.power_kw = drive.power_kw
        if self.actual_power_kw is not None:
            self.power_kw = self.actual_power_kw
        self.timer_ends = drive.ends or self.timer_ends
        self.fallback_kw = drive.fallback_kw
        self.floor_soc = None if self.ignores_floor else drive.floor_soc

    @property
    def resting(self) -> bool:
        """Return whether the battery rests at the inverter's cutoff: nothing flows."""
        return self.floor_soc is not None and self.soc <= self.floor_soc + 1e-9

    def _stops_late(self, on: bool) -> bool:
        """Return whether an 'off' is still waiting out the inverter's stop delay."""
        if on or not self.running or self.stop_delay_s <= 0:
            return False
        now = dt_util.utcnow()
        self._off_since = self._off_since or now
        if (now - self._off_since).total_seconds() < self.stop_delay_s:
            return True
        self._off_since = None
        return False

    def flow(self, seconds: float, allowance_kwh: float) -> None:
        """Let energy flow for the last `seconds`; count export beyond the allowance."""
        self._new_day_resets()
        if not self.running:
            return
        energy = self._energy(seconds, dt_util.utcnow())
        if self.floor_soc is not None:
            room = max(0.0, (self.soc - self.floor_soc) * KWH_PER_PERCENT)
            if energy >= room and not self.inverter.floor_rests:
                # The battery reached the inverter's cutoff: it stopped there.
                self.running = False
            # An inverter that rests at its cutoff goes on when it is written lower.
            energy = min(energy, room)
        self.soc -= energy / KWH_PER_PERCENT
        energy = max(0.0, energy - self.house_kw * seconds / 3600.0)
        self.export_kwh += energy
        self.breach_kwh += max(0.0, min(energy, self.export_kwh - allowance_kwh))

    def _energy(self, seconds: float, now: datetime) -> float:
        """Return the energy of the last `seconds`; the backstop may have ended it."""
        if self.timer_ends is None or now < self.timer_ends:
            return self.power_kw * seconds / 3600.0
        # The inverter's own backstop ran out during the step: it stopped then, or
        # fell back to a mode that keeps exporting.
        after = min(seconds, (now - self.timer_ends).total_seconds())
        energy = (self.power_kw * (seconds - after) + self.fallback_kw * after) / 3600.0
        self.running = self.fallback_kw > 0
        self.power_kw, self.timer_ends = self.fallback_kw, None
        return energy

    def _new_day_resets(self) -> None:
        """Reset the daily counters at local midnight, as inverters do."""
        today = dt_util.now().date()
        if self._day is not None and today != self._day:
            self.pv_kwh = 0.0
            self.export_kwh = 0.0
        self._day = today

    def publish(self) -> None:
        """Have every meter report, through its fault if it has one."""
        power_w = self.power_kw * 1000.0 if self.running and not self.resting else 0.0
        battery_w = power_w if self.running else self.house_kw * 1000.0
        values = {
            SOC: (f"{self.soc:.1f}", SOC_ATTRS),
            PV: (f"{self.pv_kwh:.3f}", ENERGY_ATTRS),
            EXPORT: (f"{self.export_kwh:.3f}", ENERGY_ATTRS),
            GRID: (f"{-(battery_w - self.house_kw * 1000.0):.0f}", POWER_ATTRS),
            BATTERY: (f"{battery_w:.0f}", POWER_ATTRS),
        }
        for entity_id, (value, attributes) in values.items():
            if entity_id in self.frozen or not self._due(entity_id):
                continue
            fault = self.faults.get(entity_id)
            state, attrs = (
                (value, attributes) if fault is None else fault(value, attributes)
            )
            if self.changes_only and state == state_of(self.hass, entity_id):
                continue
            self.hass.states.async_set(entity_id, state, attrs)

    def _due(self, entity_id: str) -> bool:
        """Return whether a meter reports now (its own cadence, if it has one)."""
        every = self.every_s.get(entity_id)
        now = dt_util.utcnow()
        last = self._reported_at.get(entity_id)
        if (
            every is not None
            and last is not None
            and (now - last).total_seconds() < every
        ):
            return False
        self._reported_at[entity_id] = now
        return True


def delayed_meter(delay_s: float) -> Publish:
    """Return a meter that shows the value of `delay_s` ago under a fresh timestamp."""
    history: deque[tuple[datetime, str]] = deque()

    def publish(value: str, attributes: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        now = dt_util.utcnow()
        history.append((now, value))
        while len(history) > 1 and (now - history[1][0]).total_seconds() >= delay_s:
            history.popleft()
        return history[0][1], attributes

    return publish


def coarse_slow_meter(step_kwh: float, every_s: float) -> Publish:
    """Return a counter in `step_kwh` steps (truncated) that changes every `every_s`."""
    held: dict[str, Any] = {}

    def publish(value: str, attributes: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        now = dt_util.utcnow()
        if "at" not in held or (now - held["at"]).total_seconds() >= every_s:
            shown = math.floor(float(value) / step_kwh + 1e-9) * step_kwh
            held["value"], held["at"] = f"{shown:.3f}", now
        return held["value"], attributes

    return publish


# -- inverter controls that misbehave on demand ---------------------------------------------


class Behaviour(StrEnum):
    """How a broken control answers a service call."""

    HANG = "hang"
    RAISE = "raise"
    WRONG = "wrong"
    ROUND_UP = "round_up"
    IGNORE = "ignore"


@dataclass
class Controls:
    """Takes over the helpers' services once one is broken; the others keep obeying."""

    hass: HomeAssistant
    inverter: VendorSim
    broken: dict[str, Behaviour] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def break_entity(self, entity_id: str, behaviour: Behaviour) -> None:
        """Make every later call on `entity_id` (or a vendor service) behave so."""
        if not isinstance(self.inverter, GenericSim):
            # A vendor's fake answers its own commands, broken ones too.
            self.inverter.break_target(entity_id, behaviour)
            return
        self.broken[entity_id] = behaviour
        domain = entity_id.partition(".")[0]
        services = (
            ("set_value",) if domain == "input_number" else ("turn_on", "turn_off")
        )
        for service in services:
            self.hass.services.async_register(domain, service, self._async_handle)

    async def _async_handle(self, call: ServiceCall) -> None:
        """Answer one call as the entity's behaviour says."""
        entity_id = str(call.data[ATTR_ENTITY_ID])
        self.calls.append((entity_id, call.service))
        behaviour = self.broken.get(entity_id)
        if behaviour is Behaviour.HANG:
            await asyncio.Event().wait()
        if behaviour is Behaviour.RAISE:
            raise HomeAssistantError("the inverter did not answer")
        if behaviour is Behaviour.IGNORE:
            return
        up = 1.0 if behaviour is Behaviour.ROUND_UP else 0.0
        self._apply(entity_id, call, wrong=behaviour is Behaviour.WRONG, up=up)

    def _apply(
        self, entity_id: str, call: ServiceCall, *, wrong: bool, up: float = 0.0
    ) -> None:
        """Write the state the call asks for (wrong when `wrong`, `up` higher)."""
        state = self.hass.states.get(entity_id)
        if state is None:
            return
        value = {"turn_on": "on", "turn_off": "off"}.get(call.service)
        if value is None:
            # Wrong by far more than a step: not a device rounding to its step.
            value = str(float(call.data["value"]) + (5.0 if wrong else 0.0) + up)
        elif wrong:
            value = state.state
        self.hass.states.async_set(entity_id, value, state.attributes)


# -- the rig: a loaded entry, the site and what the user saw ------------------------------


def advance(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    plant: Plant,
    entry: ConfigEntry,
) -> None:
    """Let one meter step pass: energy flows, meters report, timers fire (no settle)."""
    freezer.tick(METER_STEP)
    plant.follow_inverter()
    plant.flow(METER_STEP.total_seconds(), plant.pv_kwh - plant.margin_kwh(entry))
    plant.publish()
    async_fire_time_changed(hass)


async def async_pump(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    plant: Plant,
    entry: ConfigEntry,
) -> None:
    """Move simulated time, in meter steps, while the fake owes a read-back.

    A vendor integration shows a write only at its next refresh or poll; the monitor
    waits for it (a start, a stop) while the site runs on. The wait is on simulated
    time, so the site runs on in steps: never on the machine's speed.
    """
    inverter = plant.inverter
    while True:
        await inverter.wrote.wait()
        inverter.wrote.clear()
        while True:
            for _ in range(PUMP_YIELDS):  # let the monitor send its other writes
                await asyncio.sleep(0)
            if not (inverter.alive and awaits_readback(hass)):
                break
            advance(hass, freezer, plant, entry)


def awaits_readback(hass: HomeAssistant) -> bool:
    """Return whether the monitor waits for a polled read-back (on simulated time)."""
    return any(
        _awaits(task.get_coro(), READBACK_WAIT) for task in asyncio.all_tasks(hass.loop)
    )


def _awaits(awaited: object, name: str) -> bool:
    """Return whether a chain of awaiting coroutines passes through function `name`."""
    while isinstance(awaited, Coroutine):
        if awaited.cr_code.co_name == name:
            return True
        awaited = awaited.cr_await
    return False


@dataclass
class Rig:
    """One monitor on a simulated site, with the clock in the test's hands."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    entry: ConfigEntry
    plant: Plant
    controls: Controls
    stopped: list[Event]
    pump: asyncio.Task[None]
    seen_notices: set[str] = field(default_factory=set)

    @callback
    def watch_notices(
        self,
        _update: UpdateType,
        shown: dict[str, persistent_notification.Notification],
    ) -> None:
        """Note every condition of the test entry the user is shown, however briefly."""
        prefix = f"{DOMAIN}_{ENTRY_ID}_"
        self.seen_notices |= {
            key.removeprefix(prefix) for key in shown if key.startswith(prefix)
        }

    async def async_step(self) -> None:
        """Let one meter step pass: energy flows, meters report, timers fire."""
        advance(self.hass, self.freezer, self.plant, self.entry)
        await async_settle(self.hass)

    async def async_run(self, seconds: float) -> None:
        """Let `seconds` pass in meter steps."""
        for _ in range(math.ceil(seconds / METER_STEP.total_seconds())):
            await self.async_step()

    async def async_run_until(self, moment: datetime) -> None:
        """Let time pass in meter steps until `moment`."""
        await self.async_run((moment - dt_util.now()).total_seconds())

    async def async_settle(self) -> None:
        """Let every task finish."""
        await async_settle(self.hass)

    @property
    def inverter(self) -> VendorSim:
        """Return the simulated vendor integration and inverter."""
        return self.plant.inverter

    @property
    def reasons(self) -> tuple[str, ...]:
        """Return the reasons of the stops so far."""
        return tuple(str(event.data["reason"]) for event in self.stopped)


async def async_setup_rig(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    *,
    sim: Callable[..., VendorSim] = GenericSim,
    **site: Any,
) -> Rig:
    """Set up the site's meters and the vendor's inverter, then the monitor, frozen.

    `sim` makes the vendor's fake (tests/vendors); a vendor's entry names its profile
    and the fake's controls instead of the generic helpers.
    """
    plant = Plant(hass, sim(hass=hass), **site)
    plant.publish()
    await plant.inverter.async_setup()
    entry.add_to_hass(hass)
    pump = hass.loop.create_task(async_pump(hass, freezer, plant, entry))

    @callback
    def _async_end_pump(_event: Event) -> None:
        """End the pump with Home Assistant (a test that does not heal its rig)."""
        pump.cancel()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_CLOSE, _async_end_pump)
    if not isinstance(plant.inverter, GenericSim):
        hass.config_entries.async_update_entry(
            entry,
            options=profile_options(entry.options, plant.inverter),
            minor_version=ExportMonitorConfigFlow.MINOR_VERSION,
        )
    assert await hass.config_entries.async_setup(entry.entry_id)
    rig = Rig(
        hass=hass,
        freezer=freezer,
        entry=entry,
        plant=plant,
        controls=Controls(hass, plant.inverter),
        stopped=async_capture_events(hass, EVENT_DISCHARGE_STOPPED),
        pump=pump,
    )
    persistent_notification.async_register_callback(hass, rig.watch_notices)
    await async_settle(hass)
    return rig


def profile_options(options: Mapping[str, Any], inverter: VendorSim) -> dict[str, Any]:
    """Return an entry's options with a vendor's profile and controls, no generic ones."""
    kept = {key: value for key, value in options.items() if key not in GENERIC_KEYS}
    return {**kept, CONF_PROFILE: inverter.key, CONF_CONTROLS: inverter.controls}


async def async_crash_and_restart(
    rig: Rig, meanwhile: Callable[[], None] = lambda: None
) -> None:
    """Simulate a crash (no unload), then start again with the stored session.

    `meanwhile` runs while Home Assistant is down (e.g. a downgrade's stores).
    """

    async def _async_crash(self: ExportMonitorController) -> None:
        """Forget the discharge in memory; the inverter and the Store keep it."""
        self.session = None

    with patch.object(ExportMonitorController, "async_shutdown", _async_crash):
        assert await rig.hass.config_entries.async_unload(rig.entry.entry_id)
    meanwhile()
    rig.inverter.restart()  # the vendor integration starts again, too
    assert await rig.hass.config_entries.async_setup(rig.entry.entry_id)
    await rig.async_settle()


async def async_home_assistant_dies(rig: Rig, seconds: float) -> None:
    """Let Home Assistant die: the site runs alone for `seconds`, then HA starts again.

    Nothing of Home Assistant runs meanwhile: no timer fires, no meter is read, so only
    the inverter's own timer (and its floor) can end a discharge.
    """
    plant = rig.plant
    rig.inverter.die()
    for _ in range(math.ceil(seconds / METER_STEP.total_seconds())):
        rig.freezer.tick(METER_STEP)
        plant.follow_inverter()
        plant.flow(
            METER_STEP.total_seconds(), plant.pv_kwh - plant.margin_kwh(rig.entry)
        )
    plant.publish()
    await async_crash_and_restart(rig)


async def async_heal(rig: Rig) -> None:
    """Mend the controls and leave the inverter idle, so the entry can unload."""
    rig.pump.cancel()
    rig.controls.broken.clear()
    rig.inverter.answers.clear()
    rig.inverter.alive = True
    rig.inverter.mend()
    if isinstance(rig.inverter, GenericSim):
        rig.hass.states.async_set(ENABLE, "off")
    await async_settle(rig.hass)
