"""Helpers for the discharge tests: services, time, notifications and fake inverter controls."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import math
from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.export_monitor.const import DOMAIN

ENTRY_ID: Final = "01JEXPORTMONITOR0000000000"
STATUS: Final = "sensor.export_monitor_discharge_status"
ERROR: Final = "sensor.export_monitor_error_state"
HEALTH: Final = "sensor.export_monitor_system_health"
HEADROOM: Final = "sensor.export_monitor_export_headroom"
FAKE_ENABLE: Final = "switch.fake_enable"
FAKE_POWER: Final = "number.fake_power"
FAKE_CUTOFF: Final = "number.fake_cutoff"
FAKE_DURATION: Final = "number.fake_duration"
STEP: Final = timedelta(seconds=5)

BATTERY: Final = "sensor.battery_power"
GRID: Final = "sensor.grid_power"
POWER_UNIT: Final = {"unit_of_measurement": "W", "device_class": "power"}

SOURCES: Final = (
    "sensor.battery_soc",
    "sensor.pv_energy_today",
    "sensor.export_energy_today",
    "sensor.grid_power",
    "sensor.battery_power",
)


def notification_id(condition: str) -> str:
    """Return the persistent notification id of a condition of the test entry."""
    return f"{DOMAIN}_{ENTRY_ID}_{condition}"


def notifications(hass: HomeAssistant) -> set[str]:
    """Return the ids of the persistent notifications currently shown."""
    # Home Assistant keeps notifications out of the state machine; its tests read them here.
    return set(persistent_notification._async_get_or_create_notifications(hass))  # noqa: SLF001


def shown(hass: HomeAssistant) -> tuple[str, str, str]:
    """Return what the entities show: discharge status, error state, system health."""
    return (
        hass.states.get(STATUS).state,
        hass.states.get(ERROR).state,
        hass.states.get(HEALTH).state,
    )


def local(text: str) -> datetime:
    """Return an aware moment of the local wall-clock time `text` (ISO, no offset)."""
    return datetime.fromisoformat(text).replace(tzinfo=dt_util.get_default_time_zone())


async def async_settle(hass: HomeAssistant) -> None:
    """Let every task finish, background tasks included (stops run in the background)."""
    await hass.async_block_till_done(wait_background_tasks=True)


async def async_call(hass: HomeAssistant, service: str, **data: Any) -> ServiceResponse:
    """Call one of our services, blocking; let its side effects settle, even on error."""
    try:
        return await hass.services.async_call(
            DOMAIN,
            service,
            data,
            blocking=True,
            return_response=service in {"calculate_discharge", "get_history"},
        )
    finally:
        await async_settle(hass)


async def async_start(hass: HomeAssistant, **data: Any) -> None:
    """Call start_discharge."""
    await async_call(hass, "start_discharge", **data)


async def async_stop(hass: HomeAssistant) -> None:
    """Call stop_discharge."""
    await async_call(hass, "stop_discharge")


async def async_failing_starts(hass: HomeAssistant, count: int) -> list[str]:
    """Try `count` starts that must fail in the actuator; return their error keys."""
    keys: list[str] = []
    for _ in range(count):
        try:
            await async_start(hass)
        except HomeAssistantError as err:
            keys.append(str(err.translation_key))
    return keys


def report(hass: HomeAssistant, entity_ids: Iterable[str] = SOURCES) -> None:
    """Have sources report their current state again, as a live meter does."""
    for entity_id in entity_ids:
        state = hass.states.get(entity_id)
        if state is not None:
            hass.states.async_set(entity_id, state.state, state.attributes)


def clock_forward(freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Move the clock `delta` past now.

    On a ticking clock (freeze_time(..., tick=True)) freezegun's tick counts from the
    clock's last anchor (its start, before the fixtures) and drops the wall time since:
    states written during a slow setup would look younger than the tick says, and a
    timer set then would not be due. On a frozen clock both are the same. In UTC: a
    local time's fold (the hour the clocks go back) is lost in arithmetic.
    """
    freezer.move_to(dt_util.utcnow() + delta)


async def async_advance(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    seconds: float,
    *,
    live: Iterable[str] = SOURCES,
) -> None:
    """Move time forward in 5 s steps; the `live` sources re-report at each step."""
    live = tuple(live)
    for _ in range(math.ceil(seconds / STEP.total_seconds())):
        clock_forward(freezer, STEP)
        report(hass, live)
        async_fire_time_changed(hass)
        await async_settle(hass)


async def async_exporting(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    seconds: float,
    *,
    power_kw: float = 3.0,
) -> None:
    """Move time forward in 5 s steps while the export counter counts `power_kw`.

    A discharge whose export counter stands still is stopped as stale: a running
    discharge's meter must move as the export implies.
    """
    export = "sensor.export_energy_today"
    for _ in range(math.ceil(seconds / STEP.total_seconds())):
        clock_forward(freezer, STEP)
        state = hass.states.get(export)
        if state is not None:
            value = float(state.state) + power_kw * STEP.total_seconds() / 3600.0
            hass.states.async_set(export, f"{value:.4f}", state.attributes)
        report(hass, [source for source in SOURCES if source != export])
        async_fire_time_changed(hass)
        await async_settle(hass)


async def async_later(hass: HomeAssistant, seconds: float) -> None:
    """Fire the timers due within `seconds`, the wall clock running on for real.

    For tests whose actuator calls must time out in real time (no freezer).
    """
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await async_settle(hass)


async def async_jump(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime
) -> None:
    """Jump to a moment; every source reports there, then the timers fire."""
    freezer.move_to(moment)
    report(hass)
    async_fire_time_changed(hass)
    await async_settle(hass)


async def async_age(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Let `seconds` pass from now (clock_forward); the timers fire."""
    clock_forward(freezer, timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await async_settle(hass)


async def async_idle_hour(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let an hour pass with every source re-reporting.

    Daily counters may then rise by far more than in an instant: a jump faster than
    the PV or the inverter could deliver is held as implausible.
    """
    await async_jump(hass, freezer, dt_util.now() + timedelta(hours=1))


async def async_setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up an entry at the current (frozen) time; the sources report then first."""
    report(hass)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await async_settle(hass)


def follow_enable(hass: HomeAssistant, enable: str, power_w: float = 3000.0) -> None:
    """Make battery and grid power follow the enable entity, as an obeying inverter."""

    @callback
    def _async_follow(event: Event[EventStateChangedData]) -> None:
        """Discharge while on, idle while off."""
        new_state = event.data["new_state"]
        power = power_w if new_state is not None and new_state.state == "on" else 0.0
        hass.states.async_set(BATTERY, str(power), POWER_UNIT)
        hass.states.async_set(GRID, str(-power), POWER_UNIT)

    async_track_state_change_event(hass, [enable], _async_follow)


class Behaviour(StrEnum):
    """How a fake control answers a service call."""

    OBEY = "obey"
    RAISE = "raise"
    HANG = "hang"
    IGNORE = "ignore"
    WRONG_VALUE = "wrong_value"
    OBEY_THEN_RAISE = "obey_then_raise"
    OBEY_THEN_HANG = "obey_then_hang"


@dataclass
class FakeControls:
    """Switch and number services answering as each test says, counting every call."""

    hass: HomeAssistant
    behaviour: dict[tuple[str, str], Behaviour] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def install(self) -> None:
        """Take over switch.turn_on/turn_off and number.set_value (after setup)."""
        for domain, service in (
            ("switch", "turn_on"),
            ("switch", "turn_off"),
            ("number", "set_value"),
        ):
            self.hass.services.async_register(domain, service, self._async_handle)

    def set(self, entity_id: str, service: str, behaviour: Behaviour) -> None:
        """Make calls of `service` on `entity_id` behave as `behaviour` from now on."""
        self.behaviour[(entity_id, service)] = behaviour

    def attempts(self, entity_id: str, service: str) -> int:
        """Return how often `service` was called on `entity_id`."""
        return self.calls.count((entity_id, service))

    async def _async_handle(self, call: ServiceCall) -> None:
        """Answer one call."""
        entity_id = str(call.data[ATTR_ENTITY_ID])
        self.calls.append((entity_id, call.service))
        behaviour = self.behaviour.get((entity_id, call.service), Behaviour.OBEY)
        if behaviour is Behaviour.HANG:
            await asyncio.Event().wait()
        if behaviour is Behaviour.RAISE:
            raise HomeAssistantError("the inverter did not answer")
        if behaviour is Behaviour.IGNORE:
            return
        self._apply(entity_id, call, offset=behaviour is Behaviour.WRONG_VALUE)
        if behaviour is Behaviour.OBEY_THEN_RAISE:
            raise HomeAssistantError("the inverter answered with an error")
        if behaviour is Behaviour.OBEY_THEN_HANG:
            await asyncio.Event().wait()

    def _apply(self, entity_id: str, call: ServiceCall, *, offset: bool) -> None:
        """Change the entity's state as the call asks (a wrong value when `offset`)."""
        state = self.hass.states.get(entity_id)
        attributes = {} if state is None else dict(state.attributes)
        value = {"turn_on": "on", "turn_off": "off"}.get(call.service)
        if value is None:
            value = str(float(call.data["value"]) + (1.0 if offset else 0.0))
        self.hass.states.async_set(entity_id, value, attributes)
