"""The fault matrix: every injected fault, with a discharge running or about to start.

Each case runs against a real Home Assistant, the helper-entity inverter and a simulated
site (tests/resilience.py) whose meters follow what the inverter is told. Every run asserts
that the discharge ends (or never starts) within two simulated minutes, that no energy is
exported beyond the allowance, what the user was told, the error state left behind, that
nothing unexpected was logged at error level, and that the settings are intact.

Adding a row (one fault class):
- Write an injection: an `async def (rig: Rig) -> None` that breaks one thing, e.g. a meter
  through `publish_as(entity_id, publish)` or `rig.plant.faults`, a control through
  `broken(entity_id, Behaviour.X)`, the plant through `rig.plant` (`obeys`, `running`,
  `frozen`), or time through `until("YYYY-MM-DDTHH:MM:SS")`. Build injections from the
  factories below rather than new plumbing; put new plumbing in tests/resilience.py.
- Describe it as a `Fault`: a unique `id` (the test id is "<id>-<mode>"), the `inject`, a
  one-line `summary` (what the docs' matrix table says of it), and an `Outcome` for each mode:
  `active` (a discharge runs when the fault hits) and `idle` (the fault hits, then a start
  is tried). An `Outcome` names the stop reasons in order, the error state left, every
  persistent notification seen during the run (ids without the entry prefix; a measured
  export beyond the allowance adds "allowance_exceeded" from the breach detector), the
  start refusal's translation key and the enable entity's final state.
- Reuse a shape when it fits: `data_fault` (a required source: stop at once, refuse while
  idle), `stuck_switch`, `failed_setpoint`, `lost_control`.
- Keep `breach_limit_kwh` at 0.0: no row may export beyond the allowance, by any amount.
  `bound` (how long after the fault the flow must have ended) stays BOUND unless the
  inverter's own timer is the only way out. List expected error-level log lines in
  `errors_logged`, changed options in `options_changed`.
- Add the row to a list function for its class (`source_faults`, `control_faults`,
  `event_faults`, or a new one) and that list to FAULTS. Time waits are simulated
  (`rig.async_run`); the only real-time wait is ACTUATOR_TIMEOUT for hanging controls.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
from importlib.util import find_spec
import logging
import random
from typing import Any, Final
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor import (
    actuator as actuator_module,
    coordinator as coordinator_module,
    stopper as stopper_module,
)
from custom_components.export_monitor.config_schema import profile_schema
from custom_components.export_monitor.const import CONF_PROFILE, CONF_SAFETY_MARGIN_KWH
from custom_components.export_monitor.profiles import OFFERED, PROFILES
from custom_components.export_monitor.profiles.base import Role
from tests.conftest import (
    CUTOFF,
    DURATION,
    ENABLE,
    EXPORT,
    POWER,
    PV,
    SOC,
    real_seconds,
)
from tests.discharge import async_call, local
from tests.resilience import (
    ERROR,
    METER_STEP,
    Behaviour,
    Publish,
    Rig,
    async_crash_and_restart,
    async_heal,
    async_home_assistant_dies,
    async_setup_rig,
    coarse_slow_meter,
    delayed_meter,
    state_of,
)
from tests.vendors import SIMS
from tests.vendors.solaredge import SolarEdgeSim

# Real seconds: the clock ticks (stops retry with real sleeps), so keep waits short,
# yet far above what a healthy helper takes (about a millisecond) even on a loaded
# machine; scaled by EXPORT_MONITOR_TEST_TIME_SCALE (tests/conftest.py).
ACTUATOR_TIMEOUT: Final = real_seconds(1.0)
# A fault must have ended the discharge this long after it hit: two minutes, and the
# one meter step in which the end shows.
BOUND: Final = timedelta(minutes=2) + METER_STEP
NOON: Final = "2026-06-15T12:00:00"
STOP_FAILED_LOG: Final = "Could not stop the forced discharge"
# With the switch stuck on, only the inverter's own timer ends the flow. It is written
# in whole minutes, rounded up from the time the headroom lasts, so it may run up to
# one minute (at 3 kW) too long: a known limit, reported (see backstop_minutes).
TIMER_RESOLUTION: Final = timedelta(minutes=1)
# 0.17 kWh of headroom: a little more than a start needs when the inverter's own timer
# (one minute at least) must end within the headroom less the stop reserve, both at
# 1.5 x the planned power (0.075 + 0.0875 kWh at 3 kW with a 60 s meter).
SITE: Final = {"export_kwh": 3.43}
VENDOR_SLACK: Final = timedelta(minutes=3)
FLOOR_SLACK: Final = timedelta(minutes=8)
ZERO: Final = timedelta(0)
# An inverter whose only dead-man is the SOC floor (no timer) starts only when the
# headroom less the stop reserve spans a whole cutoff step at the energy per percent
# assumed before it is measured (0.22 kWh at 2 x 10 kWh + 10 %): 0.4 kWh of headroom.
FLOOR_SITE: Final = {"export_kwh": 3.2}
# The profiles whose only dead-man is that floor (no backstop, one that exports on
# fallback, or a slot that recurs daily): Fox ESS, GivEnergy, Sigenergy.
FLOOR_ONLY: Final = tuple(key for key, p in PROFILES.items() if p.needs_soc_floor)
# The day-end cases need headroom that outlasts the day.
LATE_SITE: Final = {"export_kwh": 3.0}
# The timer cases need a 2-minute first timer, so that it is re-armed (with 1 min).
REARM_SITE: Final = {"export_kwh": 3.36}
# 0.6 kWh: a start the grid never shows keeps that time in the reserve (its lag may be
# a late feed), so on the 0.17 kWh site a 1-minute timer has no room left at ~86 s,
# the moment the 90 s obey check falls due: which ended it (headroom_exhausted or
# inverter_not_obeying, both safe) depended on the start's sub-second phase to the
# meters and the re-arms. Here the check ends it, whatever that phase.
OBEY_SITE: Final = {"export_kwh": 3.0}

# Profiles: every row runs with the generic helpers; each vendor's fake (tests/vendors)
# runs the rows that do not break the generic helpers by entity id, and its own traps.
GENERIC: Final = frozenset({"generic"})

INTEGRATION: Final = "custom_components.export_monitor"

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00", tick=True)

type Inject = Callable[[Rig], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What a run must end with."""

    stops: tuple[str, ...] = ()
    error_state: str = "none"
    notices: frozenset[str] = frozenset()
    start_error: str | None = None
    enable: str | None = "off"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """One injected fault and what each mode must end with."""

    id: str
    inject: Inject
    active: Outcome
    idle: Outcome
    start_at: str = NOON
    errors_logged: tuple[str, ...] = ()
    options_changed: Mapping[str, Any] = field(default_factory=dict)
    bound: timedelta = BOUND
    breach_limit_kwh: float = 0.0
    summary: str = ""
    site: Mapping[str, Any] = field(default_factory=lambda: SITE)
    # The profiles the row applies to (None: every profile), and how the vendor's fake
    # is set up for it (tests/vendors).
    profiles: frozenset[str] | None = None
    sim: Mapping[str, Any] = field(default_factory=dict)
    # Where a vendor's own shape changes how the row ends (read from its real signal,
    # never a looser bound on export): profile -> mode -> outcome.
    vendor_outcomes: Mapping[str, Mapping[str, Outcome]] = field(default_factory=dict)


# -- injections --------------------------------------------------------------------------


def publish_as(entity_id: str, publish: Publish) -> Inject:
    """Return an injection making a meter report through `publish` from now on."""

    async def _async_inject(rig: Rig) -> None:
        """Break the meter and let it report once."""
        rig.plant.faults[entity_id] = publish
        rig.plant.publish()
        await rig.async_settle()

    return _async_inject


def publish_fresh(entity_id: str, make: Callable[[], Publish]) -> Inject:
    """Return an injection like `publish_as`, with a meter made anew for each run."""

    async def _async_inject(rig: Rig) -> None:
        """Make the meter, break the sensor with it, and let it report once."""
        await publish_as(entity_id, make())(rig)

    return _async_inject


def reporting(state: str) -> Publish:
    """Return a meter fault that reports `state` instead of the value."""
    return lambda _value, attributes: (state, attributes)


def went_backwards(value: str, attributes: dict[str, Any]) -> tuple[str, Any]:
    """Report a counter 1 kWh below the truth (a glitch after an integration restart)."""
    return f"{float(value) - 1.0:.3f}", attributes


def jumped_up(value: str, attributes: dict[str, Any]) -> tuple[str, Any]:
    """Report 30 kWh more than the site made (another register after a restart)."""
    return f"{float(value) + 30.0:.3f}", attributes


def held_value() -> Publish:
    """Return a meter that keeps re-reporting the first value it shows (cached data)."""
    held: dict[str, str] = {}

    def publish(value: str, attributes: dict[str, Any]) -> tuple[str, Any]:
        return held.setdefault("value", value), attributes

    return publish


def bad_unit(value: str, attributes: dict[str, Any]) -> tuple[str, Any]:
    """Report an energy counter in a unit that is not energy."""
    return value, {**attributes, "unit_of_measurement": "kW"}


def yesterday_after_gap(hours: float) -> Inject:
    """Return an injection: HA is away `hours`, the counters return with yesterday's totals.

    As a cloud integration that has not reset them yet would report them.
    """

    async def _async_inject(rig: Rig) -> None:
        """Hold the day's totals, jump the clock into the next day, report them again."""
        plant = rig.plant
        totals = {PV: f"{plant.pv_kwh:.3f}", EXPORT: f"{plant.export_kwh:.3f}"}
        for entity_id, total in totals.items():
            plant.faults[entity_id] = reporting(total)
        plant.running = False  # the inverter's own timer ended the discharge meanwhile
        rig.freezer.tick(timedelta(hours=hours))
        await rig.async_step()

    return _async_inject


def stale(entity_id: str) -> Inject:
    """Return an injection silencing a meter until it counts as stale."""

    async def _async_inject(rig: Rig) -> None:
        """Re-report once (a meter that re-writes its value), go silent, wait past 30 s."""
        # A sensor never seen re-writing may write only on change: its silence is then
        # quiet, not stale, while idle (logic/freshness.py, tests/test_change_only.py).
        state = rig.hass.states.get(entity_id)
        assert state is not None
        rig.hass.states.async_set(entity_id, state.state, state.attributes)
        rig.plant.frozen.add(entity_id)
        await rig.async_run(40)

    return _async_inject


def vanish(entity_id: str) -> Inject:
    """Return an injection removing a source's state (a YAML sensor deleted)."""

    async def _async_inject(rig: Rig) -> None:
        """Stop publishing the sensor and remove its state."""
        rig.plant.frozen.add(entity_id)
        rig.hass.states.async_remove(entity_id)
        await rig.async_settle()

    return _async_inject


def broken(entity_id: str, behaviour: Behaviour) -> Inject:
    """Return an injection making a control hang, raise or read back wrong."""

    async def _async_inject(rig: Rig) -> None:
        """Break the control."""
        rig.controls.break_entity(entity_id, behaviour)

    return _async_inject


def broken_role(role: str, behaviour: Behaviour) -> Inject:
    """Return an injection breaking the vendor's control of a role."""

    async def _async_inject(rig: Rig) -> None:
        """Break the control."""
        rig.controls.break_entity(rig.inverter.controls[role], behaviour)

    return _async_inject


def removed(entity_id: str) -> Inject:
    """Return an injection removing a control from the entity registry."""

    async def _async_inject(rig: Rig) -> None:
        """Remove the control; the helper removes its state."""
        er.async_get(rig.hass).async_remove(entity_id)
        await rig.async_settle()

    return _async_inject


async def async_ignore_commands(rig: Rig) -> None:
    """Make the inverter drop out of forced discharge and ignore further commands."""
    rig.plant.obeys = False
    rig.plant.running = False


async def async_cloud_override(rig: Rig) -> None:
    """Enrol the SolarEdge in a cloud programme: it resets the command mode in 1 s."""
    inverter = rig.inverter
    assert isinstance(inverter, SolarEdgeSim)
    inverter.override_after_s = 1.0
    inverter.later(1.0, inverter.override)


async def async_reload(rig: Rig) -> None:
    """Reload the entry (as the options flow does)."""
    assert await rig.hass.config_entries.async_reload(rig.entry.entry_id)
    await rig.async_settle()


def plant_change(**changes: Any) -> Inject:
    """Return an injection changing how the simulated inverter behaves from now on."""

    async def _async_inject(rig: Rig) -> None:
        """Change the simulated inverter."""
        for name, value in changes.items():
            setattr(rig.plant, name, value)

    return _async_inject


def inverter_change(**changes: Any) -> Inject:
    """Return an injection changing how the vendor's fake behaves from now on."""

    async def _async_inject(rig: Rig) -> None:
        """Change the fake."""
        for name, value in changes.items():
            setattr(rig.inverter, name, value)

    return _async_inject


def ha_dies(seconds: float) -> Inject:
    """Return an injection where Home Assistant dies: the site runs alone, then HA starts.

    Nothing of Home Assistant runs meanwhile: no timer fires, no meter is read, so only
    the inverter's own timer can end a discharge.
    """

    async def _async_inject(rig: Rig) -> None:
        """Run the site alone for `seconds`, then start Home Assistant again."""
        await async_home_assistant_dies(rig, seconds)

    return _async_inject


def until(text: str) -> Inject:
    """Return an injection letting the site run until the local time `text`."""

    async def _async_inject(rig: Rig) -> None:
        """Run the site until the moment."""
        await rig.async_run_until(local(text))

    return _async_inject


async def async_nothing(rig: Rig) -> None:
    """Inject nothing: the clock alone brings the case (a DST change)."""


async def async_raise_margin(rig: Rig) -> None:
    """Raise the safety margin (as the user) until no headroom is left."""
    await rig.hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.export_monitor_safety_margin", "value": 5.0},
        blocking=True,
    )
    await rig.async_settle()


async def async_concurrent_calls(rig: Rig) -> None:
    """Call start three times and stop twice, all at once; the last call is a stop."""
    await asyncio.gather(
        async_try_start(rig),
        async_try_start(rig),
        async_call(rig.hass, "stop_discharge"),
        async_try_start(rig),
        async_call(rig.hass, "stop_discharge"),
    )
    await rig.async_settle()


async def async_trip_breaker(rig: Rig) -> None:
    """Count five failed inverter calls in a row: the action breaker opens."""
    coordinator = rig.entry.runtime_data.coordinator
    for _ in range(5):
        coordinator.async_record_action(success=False)
    coordinator.async_refresh_now()
    await rig.async_settle()


# -- the matrix --------------------------------------------------------------------------


def data_fault(case: str, inject: Inject, shown: str, summary: str) -> Fault:
    """Return a required-source fault: stop at once when active, refuse when idle."""
    return Fault(
        id=case,
        inject=inject,
        active=Outcome(
            stops=("data_unsafe",), error_state=shown, notices=frozenset({shown})
        ),
        idle=Outcome(
            error_state=shown,
            notices=frozenset({shown}),
            start_error=f"start_blocked_{shown}",
        ),
        summary=summary,
    )


def source_faults() -> list[Fault]:
    """Return the faults of the three required sources."""
    sources = {"soc": (SOC, "150"), "pv": (PV, "5000"), "export": (EXPORT, "5000")}
    faults = []
    for name, (entity_id, out_of_range) in sources.items():
        error = f"{name}_read_failed"
        faults += [
            data_fault(
                f"{name}_unavailable",
                publish_as(entity_id, reporting("unavailable")),
                error,
                f"{entity_id} unavailable",
            ),
            data_fault(
                f"{name}_unknown",
                publish_as(entity_id, reporting("unknown")),
                error,
                f"{entity_id} unknown",
            ),
            data_fault(
                f"{name}_not_numeric",
                publish_as(entity_id, reporting("abc")),
                error,
                f"{entity_id} not a number",
            ),
            data_fault(
                f"{name}_nan",
                publish_as(entity_id, reporting("nan")),
                error,
                f"{entity_id} NaN",
            ),
            data_fault(
                f"{name}_out_of_range",
                publish_as(entity_id, reporting(out_of_range)),
                error,
                f"{entity_id} reports {out_of_range}",
            ),
            data_fault(
                f"{name}_stale",
                stale(entity_id),
                "stale_data",
                f"{entity_id} stops reporting",
            ),
        ]
    faults += [
        data_fault(
            "pv_backwards",
            publish_as(PV, went_backwards),
            "counter_went_backwards",
            "PV counter drops 1 kWh mid-day",
        ),
        data_fault(
            "export_backwards",
            publish_as(EXPORT, went_backwards),
            "counter_went_backwards",
            "export counter drops 1 kWh mid-day",
        ),
        data_fault(
            "pv_jump_up",
            publish_as(PV, jumped_up),
            "implausible_counter",
            "PV counter jumps up 30 kWh (faster than the PV can make)",
        ),
        data_fault(
            "export_bad_unit",
            publish_as(EXPORT, bad_unit),
            "export_read_failed",
            "export counter switches to kW",
        ),
    ]
    return faults


def stuck_switch(
    case: str, inject: Inject, summary: str, active: Outcome, idle: Outcome
) -> Fault:
    """Return an enable-switch fault: the stop cannot be confirmed; the inverter timer ends it."""
    return Fault(
        id=case,
        inject=inject,
        active=active,
        idle=idle,
        errors_logged=(STOP_FAILED_LOG,),
        bound=BOUND + TIMER_RESOLUTION,
        summary=summary,
    )


def failed_setpoint(
    case: str,
    inject: Inject,
    error: str,
    summary: str,
    active: Outcome,
    site: Mapping[str, Any] = SITE,
) -> Fault:
    """Return a setpoint fault: a start fails on it (and is undone)."""
    return Fault(
        id=case,
        inject=inject,
        active=active,
        idle=Outcome(error_state=error, notices=frozenset({error}), start_error=error),
        summary=summary,
        site=site,
    )


def lost_control(case: str, entity_id: str) -> Fault:
    """Return the removal of a setpoint control from the registry."""
    return Fault(
        id=case,
        inject=removed(entity_id),
        active=Outcome(
            stops=("source_removed",),
            error_state="source_missing",
            notices=frozenset({"source_missing"}),
        ),
        idle=Outcome(
            error_state="source_missing",
            notices=frozenset({"source_missing"}),
            start_error="start_blocked_source_missing",
        ),
        summary=f"{entity_id} removed from the entity registry",
    )


HEADROOM_END: Final = Outcome(stops=("headroom_exhausted",))
# The switch stays on: no stop is confirmed; the inverter's own timer, armed for no
# longer than the headroom lasts, ends the flow.
STUCK_ON: Final = Outcome(
    error_state="discharge_stop_failed",
    notices=frozenset({"discharge_stop_failed", "circuit_breaker_open"}),
    enable="on",
)
# The inverter's timer cannot be re-armed mid-discharge: stop (no dead-man otherwise).
REARM_FAILED: Final = Outcome(
    stops=("rearm_failed",),
    error_state="duration_set_failed",
    notices=frozenset({"duration_set_failed"}),
)
# The SOC floor cannot be moved mid-discharge: stop (the floor is its dead-man).
FLOOR_FAILED: Final = Outcome(
    stops=("actuator_unavailable",),
    error_state="cutoff_soc_set_failed",
    notices=frozenset({"cutoff_soc_set_failed"}),
)
# The headroom ended the discharge, but the inverter took longer to stop than the
# reaction the reserve assumed: told as not obeying (the reserve grows with it).
SLOW_STOP: Final = Outcome(
    stops=("headroom_exhausted",),
    error_state="inverter_not_obeying",
    notices=frozenset({"inverter_not_obeying"}),
)
NOT_OBEYING: Final = Outcome(
    stops=("inverter_not_obeying",),
    error_state="inverter_not_obeying",
    notices=frozenset({"inverter_not_obeying"}),
)
START_FAILED: Final = Outcome(
    error_state="discharge_start_failed",
    notices=frozenset({"discharge_start_failed"}),
    start_error="discharge_start_failed",
)


def control_faults() -> list[Fault]:
    """Return the faults of the inverter's controls."""
    return [
        stuck_switch(
            "enable_hangs",
            broken(ENABLE, Behaviour.HANG),
            f"{ENABLE} never answers",
            STUCK_ON,
            START_FAILED,
        ),
        stuck_switch(
            "enable_raises",
            broken(ENABLE, Behaviour.RAISE),
            f"{ENABLE} raises",
            STUCK_ON,
            START_FAILED,
        ),
        stuck_switch(
            "enable_reads_back_wrong",
            broken(ENABLE, Behaviour.WRONG),
            f"{ENABLE} ignores the write",
            STUCK_ON,
            START_FAILED,
        ),
        stuck_switch(
            "enable_removed",
            removed(ENABLE),
            f"{ENABLE} removed from the entity registry",
            Outcome(
                error_state="discharge_stop_failed",
                notices=frozenset(
                    {"source_missing", "discharge_stop_failed", "circuit_breaker_open"}
                ),
                enable=None,
            ),
            Outcome(
                error_state="source_missing",
                notices=frozenset({"source_missing"}),
                start_error="start_blocked_source_missing",
                enable=None,
            ),
        ),
        failed_setpoint(
            "power_hangs",
            broken(POWER, Behaviour.HANG),
            "discharge_power_set_failed",
            f"{POWER} never answers",
            HEADROOM_END,
        ),
        failed_setpoint(
            "power_raises",
            broken(POWER, Behaviour.RAISE),
            "discharge_power_set_failed",
            f"{POWER} raises",
            HEADROOM_END,
        ),
        failed_setpoint(
            "power_reads_back_wrong",
            broken(POWER, Behaviour.WRONG),
            "discharge_power_set_failed",
            f"{POWER} reads back another value",
            HEADROOM_END,
        ),
        lost_control("power_removed", POWER),
        failed_setpoint(
            "cutoff_raises",
            broken(CUTOFF, Behaviour.RAISE),
            "cutoff_soc_set_failed",
            f"{CUTOFF} raises",
            FLOOR_FAILED,
        ),
        failed_setpoint(
            "cutoff_hangs",
            broken(CUTOFF, Behaviour.HANG),
            "cutoff_soc_set_failed",
            f"{CUTOFF} never answers",
            FLOOR_FAILED,
        ),
        failed_setpoint(
            "cutoff_reads_back_wrong",
            broken(CUTOFF, Behaviour.WRONG),
            "cutoff_soc_set_failed",
            f"{CUTOFF} reads back another value",
            FLOOR_FAILED,
        ),
        lost_control("cutoff_removed", CUTOFF),
        failed_setpoint(
            "duration_hangs",
            broken(DURATION, Behaviour.HANG),
            "duration_set_failed",
            f"{DURATION} never answers (the inverter timer cannot be re-armed)",
            REARM_FAILED,
            REARM_SITE,
        ),
        failed_setpoint(
            "duration_raises",
            broken(DURATION, Behaviour.RAISE),
            "duration_set_failed",
            f"{DURATION} raises (the inverter timer cannot be re-armed)",
            REARM_FAILED,
            REARM_SITE,
        ),
        failed_setpoint(
            "duration_rounded_up_by_a_step",
            broken(DURATION, Behaviour.ROUND_UP),
            "duration_set_failed",
            f"{DURATION} arms a step (1 min) longer than written",
            REARM_FAILED,
            REARM_SITE,
        ),
        failed_setpoint(
            "duration_reads_back_wrong",
            broken(DURATION, Behaviour.WRONG),
            "duration_set_failed",
            f"{DURATION} reads back another value (the timer is not what was set)",
            REARM_FAILED,
            REARM_SITE,
        ),
        lost_control("duration_removed", DURATION),
    ]


RESTARTED: Final = Outcome(
    stops=("restart",), notices=frozenset({"discharge_stopped_on_restart"})
)
# SolaX's block lasts 30 s unless re-sent, and the autorepeat that re-sends it dies
# with Home Assistant: after minutes away the inverter is found off. Huawei's own
# duration ends the export while HA is away and its status then reads "Stopped". The
# stored session is closed ("restart"); nothing was found running, so nothing to tell of.
FOUND_OFF: Final = {"active": Outcome(stops=("restart",))}
EXPIRED_WHILE_DEAD: Final = {"solax": FOUND_OFF, "huawei": FOUND_OFF}


def event_faults() -> list[Fault]:
    """Return the faults that are events: restarts, day ends, users, the inverter."""
    not_obeying = NOT_OBEYING
    no_headroom = Outcome(
        error_state="no_headroom", start_error="start_blocked_no_headroom"
    )
    midnight = Outcome(stops=("midnight",))
    restarted = Outcome(
        stops=("restart",), notices=frozenset({"discharge_stopped_on_restart"})
    )
    return [
        Fault(
            id="inverter_stops_60s_late",
            inject=plant_change(stop_delay_s=60.0),
            active=HEADROOM_END,
            idle=HEADROOM_END,
            bound=BOUND + timedelta(seconds=60),
            summary="the inverter follows 'off' 60 s late: its own end bounds the flow",
            # On this site every discharge ends in its last timer minute, which runs
            # on to a reaction before its end (generic, Huawei, SolarEdge; Alpha ESS's
            # dispatch): the timer ends the flow within seconds of the late stop, so
            # the 60 s cannot show (it did when the stop went out half a minute before
            # the timer's end: reported then). A late stop mid-timer is measured and
            # reported: tests/test_stop_latency.py. SolaX's last block expires on the
            # inverter 30 s after it was sent: a late 'Disabled' cannot keep it
            # running. On a floor-only inverter the SOC floor (below the headroom, as
            # energy per percent is never understated) rests the battery before the stop.
        ),
        Fault(
            id="timer_rearms_only_on_change",
            profiles=GENERIC,
            inject=inverter_change(timer_on_change_only=True),
            # Re-armed with changed values (2 -> 1 min); at the shortest timer only the
            # same value fits, the inverter ends by itself, and that is noticed.
            active=not_obeying,
            idle=not_obeying,
            site=REARM_SITE,
            bound=BOUND + timedelta(minutes=2),
            summary="the inverter's timer re-arms only when its value changes",
        ),
        Fault(
            id="export_stuck_but_reporting",
            inject=publish_as(EXPORT, held_value()),
            # The time it stands still enters the reserve: the headroom ends early.
            active=HEADROOM_END,
            idle=HEADROOM_END,
            summary="the export counter re-reports its last value while 3 kW flow",
        ),
        Fault(
            id="ha_dies_after_an_arm",
            inject=ha_dies(180),
            active=restarted,
            idle=HEADROOM_END,
            vendor_outcomes=EXPIRED_WHILE_DEAD,
            summary="Home Assistant dies right after a timer write: the inverter alone",
        ),
        Fault(
            id="ha_dies_after_a_start_at_2350",
            inject=ha_dies(12 * 60),
            active=restarted,
            idle=no_headroom,
            vendor_outcomes=EXPIRED_WHILE_DEAD,
            start_at="2026-06-15T23:50:00",
            site=LATE_SITE,
            summary="start at 23:50, then HA dies: the timer ends before midnight",
        ),
        Fault(
            id="inverter_ignores_commands",
            inject=async_ignore_commands,
            active=not_obeying,
            idle=not_obeying,
            summary="battery power stays 0 while the enable switch is on",
            # Every profile, Alpha ESS too: on this site its dispatch is re-armed with a
            # changed value (on the 0.17 kWh one it ended by headroom before the check).
            site=OBEY_SITE,
        ),
        Fault(
            id="restart",
            inject=async_crash_and_restart,
            active=Outcome(
                stops=("restart",), notices=frozenset({"discharge_stopped_on_restart"})
            ),
            idle=HEADROOM_END,
            summary="Home Assistant restarts (no unload) with the session stored",
        ),
        Fault(
            id="reload",
            inject=async_reload,
            active=Outcome(stops=("unload",)),
            idle=HEADROOM_END,
            summary="the entry is reloaded",
        ),
        Fault(
            id="midnight",
            inject=until("2026-06-16T00:00:30"),
            active=midnight,
            idle=no_headroom,
            start_at="2026-06-15T23:58:00",
            site=LATE_SITE,
            summary="local midnight: the counters reset",
        ),
        Fault(
            id="dst_midnight_spring",
            inject=until("2026-03-30T00:00:30"),
            active=midnight,
            idle=no_headroom,
            start_at="2026-03-29T23:58:00",
            site=LATE_SITE,
            summary="midnight ending the 23-hour day (Europe/London)",
        ),
        Fault(
            id="dst_midnight_autumn",
            inject=until("2026-10-26T00:00:30"),
            active=midnight,
            idle=no_headroom,
            start_at="2026-10-25T23:58:00",
            site=LATE_SITE,
            summary="midnight ending the 25-hour day (Europe/London)",
        ),
        Fault(
            id="dst_spring_forward",
            inject=async_nothing,
            active=HEADROOM_END,
            idle=HEADROOM_END,
            start_at="2026-03-29T00:59:00",
            summary="clocks go forward 01:00 -> 02:00 mid-discharge",
        ),
        Fault(
            id="dst_fall_back",
            inject=async_nothing,
            active=HEADROOM_END,
            idle=HEADROOM_END,
            start_at="2026-10-25T01:59:00",
            summary="clocks go back 02:00 -> 01:00 mid-discharge",
        ),
        Fault(
            id="margin_raised",
            inject=async_raise_margin,
            # The allowance falls below what was already exported: measured export
            # is beyond it, which the breach detector reports (and stops for).
            active=Outcome(
                stops=("allowance_exceeded",),
                notices=frozenset({"allowance_exceeded"}),
            ),
            idle=Outcome(
                error_state="no_headroom",
                notices=frozenset({"allowance_exceeded"}),
                start_error="start_blocked_no_headroom",
            ),
            options_changed={CONF_SAFETY_MARGIN_KWH: 5.0},
            summary="the safety margin is raised until no headroom is left",
        ),
        Fault(
            id="concurrent_calls",
            inject=async_concurrent_calls,
            active=Outcome(stops=("user", "user")),
            idle=Outcome(stops=("user", "user", "headroom_exhausted")),
            summary="start x3 and stop x2 called at the same moment, a stop last",
        ),
        Fault(
            id="breaker_open",
            inject=async_trip_breaker,
            active=Outcome(
                stops=("circuit_breaker_open",),
                notices=frozenset({"circuit_breaker_open"}),
            ),
            idle=Outcome(
                notices=frozenset({"circuit_breaker_open"}),
                start_error="start_blocked_circuit_breaker_open",
            ),
            summary="five inverter calls fail in a row",
        ),
        Fault(
            id="soc_vanishes",
            inject=vanish(SOC),
            active=Outcome(
                stops=("source_removed",),
                error_state="source_missing",
                notices=frozenset({"source_missing"}),
            ),
            idle=Outcome(
                error_state="source_missing",
                notices=frozenset({"source_missing"}),
                start_error="start_blocked_source_missing",
            ),
            summary=f"{SOC}'s state disappears without a registry event",
        ),
    ]


async def async_enable_glitch(rig: Rig) -> None:
    """Make the enable entity read off for one poll, then on again (a read error)."""
    rig.hass.states.async_set(ENABLE, "off")
    await rig.async_settle()
    rig.hass.states.async_set(ENABLE, "on")
    await rig.async_settle()


async def async_late_turn_on(rig: Rig) -> None:
    """Make a start 'fail' (reads back off) and the inverter turn on a step later."""
    rig.controls.break_entity(ENABLE, Behaviour.WRONG)

    @callback
    def _async_late(_now: Any) -> None:
        """Show, at the next poll, that the command was taken after all."""
        rig.controls.broken.clear()
        rig.hass.states.async_set(ENABLE, "on")

    async_call_later(rig.hass, METER_STEP, _async_late)


async def async_reload_during_start(rig: Rig) -> None:
    """Reload the entry while a start waits on a slow power write (Modbus)."""
    rig.controls.break_entity(POWER, Behaviour.HANG)
    start = rig.hass.async_create_task(async_try_start(rig))
    await asyncio.sleep(0)
    assert await rig.hass.config_entries.async_reload(rig.entry.entry_id)
    rig.controls.broken.clear()
    await start
    await rig.async_settle()


async def async_home_assistant_stops(rig: Rig) -> None:
    """Fire Home Assistant's stop event (a restart for an update)."""
    rig.hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await rig.async_settle()


async def async_read_raises(rig: Rig) -> None:
    """Make building the snapshot raise (a bug, or an attribute nobody expected)."""
    patch.object(
        coordinator_module, "build_snapshot", side_effect=RuntimeError("boom")
    ).start()  # stopped by the stop_patches fixture
    await rig.async_step()


UNEXPECTED: Final = "unexpected_discharge"


def supervision_faults() -> list[Fault]:
    """Return the faults that could leave a discharge with nobody supervising it."""
    return [
        Fault(
            id="enable_glitch",
            profiles=GENERIC,
            inject=async_enable_glitch,
            active=Outcome(
                stops=("switched_off_elsewhere", UNEXPECTED),
                error_state=UNEXPECTED,
                notices=frozenset({UNEXPECTED}),
            ),
            idle=Outcome(
                stops=(UNEXPECTED, "headroom_exhausted"),
                notices=frozenset({UNEXPECTED}),
            ),
            summary=f"{ENABLE} reads off for one poll, then on again",
        ),
        Fault(
            id="enable_on_after_failed_start",
            profiles=GENERIC,
            inject=async_late_turn_on,
            active=HEADROOM_END,
            idle=Outcome(
                stops=(UNEXPECTED,),
                error_state=UNEXPECTED,
                notices=frozenset({"discharge_start_failed", UNEXPECTED}),
                start_error="discharge_start_failed",
            ),
            summary=f"a start fails on read-back; {ENABLE} turns on a poll later",
        ),
        Fault(
            id="reload_during_start",
            profiles=GENERIC,
            inject=async_reload_during_start,
            active=Outcome(stops=("unload",)),
            idle=Outcome(stops=("unload", "headroom_exhausted")),
            summary="the entry reloads while a start waits on a slow power write",
        ),
        Fault(
            id="home_assistant_stops",
            inject=async_home_assistant_stops,
            active=Outcome(stops=("shutdown",)),
            idle=Outcome(start_error="discharge_start_aborted"),
            summary="Home Assistant stops (EVENT_HOMEASSISTANT_STOP)",
        ),
        replace(
            data_fault(
                "read_raises",
                async_read_raises,
                "internal_error",
                "reading the sources raises an exception",
            ),
            errors_logged=("Reading the sources failed",),
        ),
    ]


def meter_faults() -> list[Fault]:
    """Return the faults of real export and PV meters: coarse, slow, late, jumping, old."""
    return [
        Fault(
            id="export_coarse_slow",
            inject=publish_fresh(EXPORT, lambda: coarse_slow_meter(0.1, 300.0)),
            active=HEADROOM_END,
            idle=HEADROOM_END,
            # A whole number of steps, so the coarse counter does not start below it.
            site={"export_kwh": 3.4},
            summary="the export counter counts in 0.1 kWh steps, changed every 300 s",
        ),
        Fault(
            id="export_late_300s",
            inject=publish_fresh(EXPORT, lambda: delayed_meter(300.0)),
            active=HEADROOM_END,
            idle=HEADROOM_END,
            summary="the export counter's values arrive 300 s late, freshly stamped",
        ),
        Fault(
            id="export_jump_up",
            inject=publish_as(EXPORT, jumped_up),
            # The higher value is believed: the breach detector stops and reports it.
            active=Outcome(
                stops=("allowance_exceeded",),
                error_state="implausible_counter",
                notices=frozenset({"allowance_exceeded", "implausible_counter"}),
            ),
            idle=Outcome(
                error_state="implausible_counter",
                notices=frozenset({"allowance_exceeded", "implausible_counter"}),
                start_error="start_blocked_implausible_counter",
            ),
            summary="export counter jumps up 30 kWh (faster than the site can export)",
        ),
        data_fault(
            "yesterday_totals_after_gap",
            yesterday_after_gap(21.0),
            "counter_not_reset",
            "after 21 h away the counters report yesterday's totals",
        ),
    ]


def generic_only(faults: list[Fault]) -> list[Fault]:
    """Return rows that break the generic helpers by entity id, for the generic profile."""
    return [replace(fault, profiles=GENERIC) for fault in faults]


def died_at_random() -> Inject:
    """Return an injection: HA dies at a seeded moment of the discharge, for 3 hours.

    The moment is drawn per vendor (seeded by the profile key), within the first five
    minutes of a 12-minute discharge: a profile's stop reserve (a read-back at a 300 s
    poll) may end it well before 12 minutes, and a death after the end tests nothing.
    Meanwhile only the inverter's own backstop, its fallback and its SOC floor act.
    Then Home Assistant starts again.
    """

    async def _async_inject(rig: Rig) -> None:
        """Run a seeded while, then let HA die for 3 hours."""
        await rig.async_run(random.Random(rig.inverter.key).uniform(0.0, 300.0))
        await ha_dies(3 * 3600)(rig)

    return _async_inject


def every_profile_faults() -> list[Fault]:
    """Return the rows every profile runs besides the source, meter and event rows."""
    return [
        Fault(
            id="ha_dies_at_random",
            inject=died_at_random(),
            active=RESTARTED,
            idle=HEADROOM_END,
            vendor_outcomes=EXPIRED_WHILE_DEAD,
            # 0.6 kWh of headroom: about 12 minutes at 3 kW.
            site=LATE_SITE,
            bound=timedelta(minutes=15),
            summary="HA dies at a seeded moment of a discharge for 3 h: the inverter alone",
        ),
    ]


def trap(profile: str, case: str, inject: Inject, summary: str, **more: Any) -> Fault:
    """Return a vendor's own row: it ends by headroom in both modes unless told."""
    outcome = more.pop("outcome", HEADROOM_END)
    return Fault(
        id=case,
        profiles=frozenset({profile}),
        inject=inject,
        active=more.pop("active", outcome),
        idle=outcome,
        summary=f"{profile}: {summary}",
        **more,
    )


def vendor_faults() -> list[Fault]:
    """Return each vendor's own traps (research inverter-profiles.md section 0)."""
    dies = ha_dies(3 * 3600)
    return [
        # foxess_modbus forgets its mode and writes nothing: 20 s later the watchdog
        # drops the inverter into Feed-in First, which exports until Self Use.
        trap(
            "fox_ess",
            "restart_fallback_exports",
            async_crash_and_restart,
            "after a restart the watchdog falls back to Feed-in First (exports)",
            active=RESTARTED,
        ),
        trap(
            "fox_ess",
            "feed_in_first_ha_dies",
            dies,
            "HA dies 3 h; Feed-in First exports down to the Min SoC",
            active=RESTARTED,
        ),
        trap(
            "sigenergy",
            "no_backstop_ha_dies",
            dies,
            "no backstop at all; HA dies 3 h: only the cut-off SOC holds",
            active=RESTARTED,
        ),
        trap(
            "solax",
            "block_expires_in_seconds",
            async_nothing,
            "each block lasts its duration (s): kept alive, then ended",
        ),
        # Ignored before a start, the block never goes out: the status register never
        # shows it and no power flows. Ignored after, the autorepeat the start armed
        # (sized to the headroom) re-sends the block until the headroom ends; the stop's
        # "Disabled" goes out only with the next poll that was due after it, 20 s on
        # here, a slower stop than the reserve assumed: the user is told.
        trap(
            "solax",
            "trigger_ignored",
            broken("input_button.solax_remotecontrol_trigger", Behaviour.IGNORE),
            "the trigger is ignored: a start never lands; a running one runs out",
            outcome=NOT_OBEYING,
            active=SLOW_STOP,
        ),
        # The programme resets the mode 1 s after each write, before the integration's
        # refresh (10 s cooldown) reads it: no power flows. A start with a timeout
        # shorter than two polls (113 s here) does not wait for the mode's read-back
        # (it could come after the timeout): its session judges the flow.
        trap(
            "solaredge",
            "command_overridden_in_1s",
            async_cloud_override,
            "a cloud programme resets the command mode after 1 s",
            outcome=NOT_OBEYING,
        ),
        trap(
            "solaredge",
            "read_back_at_next_poll",
            async_nothing,
            "writes read back only at the next 300 s poll",
            sim={"refresh_after_write": False},
        ),
        trap(
            "huawei",
            "start_service_raises",
            broken("huawei_solar.forcible_discharge", Behaviour.RAISE),
            "forcible_discharge is refused (permission lost)",
            active=REARM_FAILED,
            outcome=START_FAILED,
        ),
        # No readable switch: the inverter's own duration ends the flow (it is not
        # re-armed while the stop is pending), so the inverter ends off.
        trap(
            "huawei",
            "stop_service_raises",
            broken("huawei_solar.stop_forcible_charge", Behaviour.RAISE),
            "service only, and the stop service raises",
            outcome=replace(STUCK_ON, enable="off"),
            errors_logged=(STOP_FAILED_LOG,),
            bound=BOUND + TIMER_RESOLUTION,
        ),
        *(
            trap(
                "givenergy",
                f"inverter_clock_{name}",
                ha_dies(3600),
                f"the inverter's clock is 5 min {name}; HA dies 1 h",
                active=RESTARTED,
                sim={"clock_offset_s": offset},
            )
            for name, offset in (("behind", -300.0), ("ahead", 300.0))
        ),
        # Idle, the start comes the next day: the counters reset at midnight and no
        # PV has been made since, so there is no headroom.
        trap(
            "givenergy",
            "slot_recurs_next_day",
            ha_dies(26 * 3600),
            "HA dies 26 h; the daily slot comes round again",
            active=RESTARTED,
            outcome=Outcome(
                error_state="no_headroom", start_error="start_blocked_no_headroom"
            ),
        ),
        trap(
            "alpha_ess",
            "same_duration_rearms_nothing",
            async_nothing,
            "only a changed duration re-arms the dispatch",
        ),
    ]


FAULTS: Final = (
    *source_faults(),
    *meter_faults(),
    *generic_only(control_faults()),
    *event_faults(),
    *supervision_faults(),
    *every_profile_faults(),
    *vendor_faults(),
)


# -- running a case ----------------------------------------------------------------------


async def async_try_start(rig: Rig) -> str | None:
    """Try to start a discharge; return the refusal's translation key, None when started."""
    try:
        await async_call(rig.hass, "start_discharge")
    except HomeAssistantError as err:
        return str(err.translation_key)
    return None


def switched(rig: Rig) -> str | None:
    """Return the enable helper's state; for a vendor, whether its inverter exports."""
    if rig.inverter.key == "generic":
        return state_of(rig.hass, ENABLE)
    return "on" if rig.inverter.drive().on else "off"


def site_of(profile: str, fault: Fault) -> Mapping[str, Any]:
    """Return the case's site; the default one gives a floor-only inverter a SOC step."""
    if fault.site is SITE and PROFILES[profile].needs_soc_floor:
        return FLOOR_SITE
    return fault.site


def bound_of(rig: Rig, fault: Fault) -> timedelta:
    """Return how long after the fault the flow must have ended, for the rig's profile.

    A vendor's discharge is not shortened by the generic timer's reserve: with no
    inverter timer it may run its whole headroom (0.17 kWh, about 3.4 min at 3 kW;
    on the floor-only site 0.4 kWh, 8 min).
    """
    key = rig.inverter.key
    if site_of(key, fault) is FLOOR_SITE:
        return fault.bound + FLOOR_SLACK
    return fault.bound + (VENDOR_SLACK if key != "generic" else ZERO)


async def async_run_active(rig: Rig, fault: Fault) -> str | None:
    """Start a discharge, inject the fault, and let the bound pass."""
    assert await async_try_start(rig) is None
    if rig.inverter.key == "generic":
        assert state_of(rig.hass, ENABLE) == "on"
    hit = dt_util.now()
    await fault.inject(rig)
    await rig.async_run_until(hit + bound_of(rig, fault))
    return None


async def async_run_idle(rig: Rig, fault: Fault) -> str | None:
    """Inject the fault, try to start, and let the bound pass."""
    await fault.inject(rig)
    refused = await async_try_start(rig)
    await rig.async_run(bound_of(rig, fault).total_seconds())
    return refused


MODES: Final = {"active": async_run_active, "idle": async_run_idle}


def outcome_of(fault: Fault, mode: str, profile: str) -> Outcome:
    """Return what the case must end with in `mode`, for the profile's shape."""
    default = {"active": fault.active, "idle": fault.idle}[mode]
    return fault.vendor_outcomes.get(profile, {}).get(mode, default)


def unexpected_errors(
    caplog: pytest.LogCaptureFixture, allowed: tuple[str, ...]
) -> list[str]:
    """Return error-level log lines that the case does not list as expected."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR
        and record.name.startswith(
            ("custom_components.export_monitor", "homeassistant")
        )
        and not any(text in record.getMessage() for text in allowed)
    ]


@pytest.fixture(autouse=True)
def quick_actuator_timeouts() -> Generator[None]:
    """Time out hanging controls after ACTUATOR_TIMEOUT; retry stops without pause."""
    with (
        patch.object(actuator_module, "ACTUATOR_TIMEOUT_SECONDS", ACTUATOR_TIMEOUT),
        patch.object(stopper_module, "STOP_BACKOFF_SECONDS", 0.0),
    ):
        yield


@pytest.fixture(autouse=True)
def stop_patches() -> Generator[None]:
    """Undo the patches an injection started."""
    yield
    patch.stopall()


@pytest.fixture
async def rig(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    profile: str,
    fault: Fault,
) -> AsyncGenerator[Rig]:
    """Set the site up in London at the case's start time; mend it after the run."""
    await hass.config.async_set_time_zone("Europe/London")
    freezer.move_to(local(fault.start_at))
    sim = partial(SIMS[profile], **fault.sim)
    site = site_of(profile, fault)
    built = await async_setup_rig(hass, freezer, config_entry, sim=sim, **site)
    yield built
    await async_heal(built)


# The profiles the matrix drives. A vendor's rows need the profile-driven controller
# (issue 9 items 2-3, "drive": inverter.py runs the profile's sequences); Alpha ESS runs
# as soon as it is on main (every row passed against drive's branch at 1115d45); SolaX
# since its polled status register is read as the stale read-back it is after a stop. The
# others are written and left out, each for a missing piece of that controller
# (reported): fox_ess, huawei, givenergy and solaredge have no enable control,
# and the set-up's reconcile still reads one (KeyError: Role.ENABLE). Sigenergy runs
# since no flow from a battery resting at its SOC floor is no longer taken as a stop
# proven (logic/latency.may_rest). Add a key when its rows pass.
DRIVEN: Final = (
    "generic",
    *(("alpha_ess",) if find_spec(f"{INTEGRATION}.inverter") is not None else ()),
    "solax",
    "huawei",
    "fox_ess",
    "sigenergy",
    "givenergy",
    "solaredge",
)
# The shared rows a vendor runs: those that drive its control surface (start, stop,
# reconcile, its backstop). Source and meter rows do not depend on the inverter: they
# run with the generic profile only, which keeps the matrix's run time bounded.
SURFACE: Final = frozenset(
    {
        "inverter_stops_60s_late",
        "inverter_ignores_commands",
        "ha_dies_after_an_arm",
        "ha_dies_after_a_start_at_2350",
        "ha_dies_at_random",
        "restart",
        "reload",
        "midnight",
        "concurrent_calls",
        "breaker_open",
        "home_assistant_stops",
    }
)


def applies(profile: str, fault: Fault) -> bool:
    """Return whether a row runs for a profile."""
    if fault.profiles is not None:
        return profile in fault.profiles
    return profile == "generic" or fault.id in SURFACE


CASES: Final = [
    (profile, fault)
    for profile in DRIVEN
    for fault in FAULTS
    if applies(profile, fault)
]


def control_surface_faults() -> list[tuple[str, Fault]]:
    """Return, per vendor, each writable control hanging, raising, or being ignored.

    What the monitor shows for these depends on the vendor's stop ladder; the rows
    check what must hold whatever it shows (test_control_surface_fault).
    """
    return [
        (
            key,
            Fault(
                id=f"{control.role}_{behaviour}",
                profiles=frozenset({key}),
                inject=broken_role(control.role.value, behaviour),
                active=HEADROOM_END,
                idle=HEADROOM_END,
                summary=f"{key}: the {control.role} control {behaviour}s",
            ),
        )
        for key in DRIVEN
        if key != "generic"
        for control in PROFILES[key].controls
        if control.role not in (Role.DEVICE, Role.STATUS, Role.CLOCK)
        for behaviour in (Behaviour.HANG, Behaviour.RAISE, Behaviour.IGNORE)
    ]


SURFACE_CASES: Final = control_surface_faults()


def test_the_setup_offers_only_proven_profiles() -> None:
    """A profile is offered in the setup only once this matrix runs it through the monitor."""
    assert set(DRIVEN) >= OFFERED
    offered = profile_schema().schema[CONF_PROFILE].config["options"]
    assert offered == [key for key in PROFILES if key in OFFERED]
    assert "generic" in offered


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize(
    ("profile", "fault"), CASES, ids=[f"{p}-{fault.id}" for p, fault in CASES]
)
async def test_fault(
    hass: HomeAssistant,
    rig: Rig,
    caplog: pytest.LogCaptureFixture,
    record_property: Callable[[str, object], None],
    profile: str,
    fault: Fault,
    mode: str,
) -> None:
    """The fault ends the discharge (or refuses it) in time, within the allowance, told."""
    options = {**rig.entry.options, **fault.options_changed}
    refused = await MODES[mode](rig, fault)
    record_property("breach_kwh", rig.plant.breach_kwh)
    seen = Outcome(
        stops=rig.reasons,
        error_state=state_of(hass, ERROR),
        notices=frozenset(rig.seen_notices),
        start_error=refused,
        enable=switched(rig),
    )
    assert seen == outcome_of(fault, mode, profile)
    # Nothing flows: stopped, or resting at a cutoff it was stopped at.
    assert rig.plant.running is False or rig.plant.resting
    assert rig.plant.breach_kwh <= fault.breach_limit_kwh + 1e-9
    assert unexpected_errors(caplog, fault.errors_logged) == []
    assert dict(rig.entry.options) == options
    assert rig.inverter.key == profile


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize(
    ("profile", "fault"),
    SURFACE_CASES,
    ids=[f"{p}-{fault.id}" for p, fault in SURFACE_CASES],
)
async def test_control_surface_fault(
    rig: Rig,
    record_property: Callable[[str, object], None],
    profile: str,
    fault: Fault,
    mode: str,
) -> None:
    """A vendor's control fails: no export beyond the allowance, and the flow ends.

    It ends, or only the SOC floor the inverter holds can still be draining it.
    """
    await MODES[mode](rig, fault)
    record_property("breach_kwh", rig.plant.breach_kwh)
    assert rig.plant.breach_kwh <= 1e-9
    assert rig.plant.running is False or rig.plant.floor_soc is not None
    assert rig.inverter.key == profile


def test_every_vendor_has_a_fake_and_rows() -> None:
    """Each profile has a simulated counterpart and its own trap rows."""
    vendors = {key for fault in FAULTS for key in fault.profiles or ()}
    assert vendors | GENERIC == set(SIMS)
    assert set(DRIVEN) <= set(PROFILES)
