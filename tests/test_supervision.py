"""Tests of the supervision of a running discharge, and of the automatic start."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import timedelta
import math
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.export_monitor.const import (
    CONF_AUTO_DISCHARGE,
    CONF_BATTERY_POWER_ENTITY,
    CONF_CUTOFF_SOC_ENTITY,
    CONF_DISCHARGE_DURATION_ENTITY,
    CONF_DISCHARGE_POWER_ENTITY,
    CONF_DISCHARGE_POWER_KW,
    CONF_DISCHARGE_SWITCH_ENTITY,
    CONF_EXPORT_WINDOW_END,
    CONF_EXPORT_WINDOW_START,
    CONF_FORECAST_CREDIT,
    CONF_FORECAST_TODAY_ENTITY,
    CONF_RESUME_WHEN_SAFE,
    CONF_STALE_AFTER_SECONDS,
    DOMAIN,
)
from custom_components.export_monitor.logic.persist import session_to_data
from custom_components.export_monitor.logic.supervision import Session
from tests.conftest import (
    BATTERY,
    DURATION,
    ENABLE,
    EXPORT,
    GRID,
    PV,
    SOC,
    base_options,
)
from tests.discharge import (
    ENTRY_ID,
    FAKE_CUTOFF,
    FAKE_DURATION,
    FAKE_ENABLE,
    FAKE_POWER,
    SOURCES,
    STEP,
    Behaviour,
    FakeControls,
    async_advance,
    async_exporting,
    async_failing_starts,
    async_idle_hour,
    async_jump,
    async_settle,
    async_setup_entry,
    async_start,
    async_stop,
    follow_enable,
    local,
    notification_id,
    notifications,
    report,
    shown,
)

# Noon, local time: daily counters are judged against the time since midnight.
pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")


LONDON = "Europe/London"
AUTO = {CONF_AUTO_DISCHARGE: True}
FAKES = {
    CONF_DISCHARGE_SWITCH_ENTITY: FAKE_ENABLE,
    CONF_DISCHARGE_POWER_ENTITY: FAKE_POWER,
    CONF_CUTOFF_SOC_ENTITY: FAKE_CUTOFF,
    CONF_DISCHARGE_DURATION_ENTITY: FAKE_DURATION,
}
ALLOWANCE = 11.5  # 12 kWh PV - 0.5 kWh margin


@pytest.fixture
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Return the entry options, changed by an indirect parameter."""
    return {**base_options(), **getattr(request, "param", {})}


@pytest.fixture(autouse=True)
async def london(hass: HomeAssistant) -> AsyncGenerator[None]:
    """Run every test in the Europe/London time zone (it has summer time)."""
    await hass.config.async_set_time_zone(LONDON)
    return


@pytest.fixture
def obeying(hass: HomeAssistant) -> None:
    """Let battery and grid power follow the enable helper: the inverter obeys."""
    follow_enable(hass, ENABLE)


def reasons(events: list[Event]) -> list[str]:
    """Return the reason of each event."""
    return [str(event.data["reason"]) for event in events]


def writes(calls: list[Event], service: str) -> list[tuple[str, float | None]]:
    """Return the entity and value of each `service` call made to another entity."""
    return [
        (call.data["service_data"]["entity_id"], call.data["service_data"].get("value"))
        for call in calls
        if call.data["domain"] != DOMAIN and call.data["service"] == service
    ]


def timer_writes(calls: list[Event]) -> list[tuple[str, float | None]]:
    """Return the writes to the inverter's timer."""
    return [write for write in writes(calls, "set_value") if write[0] == DURATION]


def set_state(hass: HomeAssistant, entity_id: str, state: str) -> None:
    """Write a source's state, keeping its attributes."""
    hass.states.async_set(entity_id, state, hass.states.get(entity_id).attributes)


# -- stop reasons while active --------------------------------------------------------


async def test_stops_when_headroom_runs_out(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    stopped: list[Event],
) -> None:
    """Headroom smaller than one stop delay stops the discharge ahead of time."""
    await async_idle_hour(hass, freezer)
    set_state(hass, EXPORT, "11.3")
    await async_start(hass)
    await async_advance(hass, freezer, 60)
    set_state(hass, EXPORT, "11.45")
    await async_settle(hass)
    assert reasons(stopped) == ["headroom_exhausted"]
    assert hass.states.get(ENABLE).state == "off"
    assert shown(hass) == ("idle", "none", "healthy")


async def test_stops_at_the_target(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    stopped: list[Event],
) -> None:
    """A session with a target stops once the meter shows it exported."""
    await async_start(hass, target_export_kwh=0.5)
    await async_advance(hass, freezer, 300)
    set_state(hass, EXPORT, "3.3")
    await async_advance(hass, freezer, 300)
    assert stopped == []
    set_state(hass, EXPORT, "3.5")
    await async_settle(hass)
    assert [event.data for event in stopped] == [
        {"entry_id": ENTRY_ID, "reason": "target_reached", "exported_kwh": 0.5}
    ]
    assert hass.states.get(ENABLE).state == "off"


async def test_stops_after_the_duration(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    stopped: list[Event],
) -> None:
    """A session with a duration stops when it has run that long."""
    await async_start(hass, duration_minutes=2)
    await async_advance(hass, freezer, 115)
    assert stopped == []
    await async_advance(hass, freezer, 10)
    assert reasons(stopped) == ["duration_elapsed"]
    assert hass.states.get(ENABLE).state == "off"


@pytest.mark.parametrize("soc", ["20", "12"], ids=["at_min", "below_min"])
async def test_stops_at_min_soc(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    obeying: None,
    stopped: list[Event],
    soc: str,
) -> None:
    """The battery reaching min SOC stops the discharge."""
    await async_start(hass)
    set_state(hass, SOC, soc)
    await async_settle(hass)
    assert reasons(stopped) == ["soc_at_min"]
    assert shown(hass) == ("blocked", "none", "healthy")


UNSAFE = {
    "soc_unavailable": (SOC, "unavailable", "soc_read_failed", "error"),
    "pv_not_numeric": (PV, "cloudy", "pv_read_failed", "error"),
    "export_unavailable": (EXPORT, "unavailable", "export_read_failed", "error"),
}


@pytest.mark.parametrize(
    ("entity_id", "state", "fault", "health"), list(UNSAFE.values()), ids=list(UNSAFE)
)
async def test_unusable_source_stops_at_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    obeying: None,
    stopped: list[Event],
    entity_id: str,
    state: str,
    fault: str,
    health: str,
) -> None:
    """An unusable source fails closed: stop, and notify at once (not after 2 min)."""
    await async_start(hass)
    set_state(hass, entity_id, state)
    await async_settle(hass)
    assert reasons(stopped) == ["data_unsafe"]
    assert hass.states.get(ENABLE).state == "off"
    assert notification_id(fault) in notifications(hass)
    assert shown(hass) == ("blocked", fault, health)


async def test_stale_source_stops(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    stopped: list[Event],
) -> None:
    """An export meter silent for longer than stale_after_seconds stops the discharge."""
    await async_start(hass)
    live = tuple(source for source in SOURCES if source != EXPORT)
    await async_advance(hass, freezer, 25, live=live)
    assert stopped == []
    await async_advance(hass, freezer, 10, live=live)
    assert reasons(stopped) == ["data_unsafe"]
    assert notification_id("stale_data") in notifications(hass)
    assert shown(hass) == ("blocked", "stale_data", "stale_data")
    await async_advance(hass, freezer, 5)
    assert notification_id("stale_data") not in notifications(hass)
    assert shown(hass) == ("idle", "none", "healthy")


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
async def test_failed_rearm_stops(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """A backstop that cannot be re-armed stops the discharge and says why."""
    follow_enable(hass, FAKE_ENABLE)
    await async_start(hass)
    fake_controls.set(FAKE_DURATION, "set_value", Behaviour.RAISE)
    # Past the re-arm, 2 minutes before the 15-minute timer ends.
    await async_exporting(hass, freezer, 800)
    assert reasons(stopped) == ["rearm_failed"]
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert notification_id("duration_set_failed") in notifications(hass)
    assert shown(hass) == ("idle", "duration_set_failed", "error")


WINDOW = {
    CONF_AUTO_DISCHARGE: True,
    CONF_EXPORT_WINDOW_START: "16:00:00",
    CONF_EXPORT_WINDOW_END: "16:30:00",
}


@pytest.mark.parametrize("options", [WINDOW], indirect=True, ids=["window"])
async def test_automatic_session_stops_when_window_ends(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    started: list[Event],
    stopped: list[Event],
) -> None:
    """An automatic discharge ends with its window; the next start waits for it."""
    freezer.move_to(local("2026-06-15T16:29:00"))
    await async_setup_entry(hass, config_entry)
    await async_advance(hass, freezer, 5)
    assert reasons(started) == ["auto"]
    await async_advance(hass, freezer, 55)
    assert stopped == []
    await async_advance(hass, freezer, 5)
    assert reasons(stopped) == ["window_ended"]
    await async_advance(hass, freezer, 600)
    assert (reasons(started), hass.states.get(ENABLE).state) == (["auto"], "off")


MANUAL_WINDOW = {**WINDOW, CONF_AUTO_DISCHARGE: False}


@pytest.mark.parametrize("options", [MANUAL_WINDOW], indirect=True, ids=["window"])
async def test_users_session_outlives_the_window(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    stopped: list[Event],
) -> None:
    """The window bounds automatic discharges only: a user's start runs past its end."""
    freezer.move_to(local("2026-06-15T16:29:00"))
    await async_setup_entry(hass, config_entry)
    await async_start(hass)
    await async_advance(hass, freezer, 120)
    assert (stopped, hass.states.get(ENABLE).state) == ([], "on")


DAYS = {
    "summer": "2026-06-15",
    "spring_forward_day": "2026-03-29",
    "fall_back_day": "2026-10-25",
}


@pytest.mark.parametrize("day", list(DAYS.values()), ids=list(DAYS))
async def test_stops_30_s_before_local_midnight(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    stopped: list[Event],
    day: str,
) -> None:
    """The discharge stops 30 s before local midnight, summer time or not."""
    # From 23:57:30: a start at 23:59 is refused, as the inverter's shortest timer
    # (1 min) would run past midnight minus the guard (test_start_refused_...); the
    # 2-minute timer armed at 23:57:30 is re-armed once, for 1 min, until 23:59:30.
    freezer.move_to(local(f"{day}T23:57:30"))
    await async_setup_entry(hass, config_entry)
    await async_start(hass)
    await async_advance(hass, freezer, 115)
    assert stopped == []
    await async_advance(hass, freezer, 5)
    assert reasons(stopped) == ["midnight"]
    assert stopped[0].time_fired == local(f"{day}T23:59:30")
    assert hass.states.get(ENABLE).state == "off"


async def test_stops_when_switched_off_elsewhere(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    service_calls: list[Event],
    stopped: list[Event],
) -> None:
    """Someone else turning the enable entity off ends the session with an explicit off."""
    # Was "nothing is re-sent": a glitching read of off must not end supervision only.
    await async_start(hass)
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": ENABLE}, blocking=True
    )
    service_calls.clear()
    await async_advance(hass, freezer, 5)
    assert reasons(stopped) == ["switched_off_elsewhere"]
    assert writes(service_calls, "turn_off") == [(ENABLE, None)]
    assert shown(hass) == ("idle", "none", "healthy")


async def test_user_stop(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    stopped: list[Event],
) -> None:
    """The stop service ends a supervised session with reason user."""
    await async_start(hass)
    await async_advance(hass, freezer, 60)
    await async_stop(hass)
    assert reasons(stopped) == ["user"]
    assert hass.states.get(ENABLE).state == "off"


# -- did the inverter obey? -------------------------------------------------------------


async def test_stops_when_the_battery_does_not_discharge(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """Battery power near 0 for 90 s after the start stops it and tells the user."""
    await async_start(hass)
    await async_advance(hass, freezer, 85)
    assert stopped == []
    await async_advance(hass, freezer, 5)
    assert reasons(stopped) == ["inverter_not_obeying"]
    assert hass.states.get(ENABLE).state == "off"
    assert notification_id("inverter_not_obeying") in notifications(hass)
    assert shown(hass) == ("idle", "inverter_not_obeying", "error")


async def test_obeying_start_clears_the_not_obeying_notice(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """Once the battery follows a later start, the not-obeying notice goes away."""
    await async_start(hass)
    await async_advance(hass, freezer, 90)
    follow_enable(hass, ENABLE)
    await async_start(hass)
    await async_advance(hass, freezer, 5)
    assert notification_id("inverter_not_obeying") not in notifications(hass)
    assert shown(hass) == ("active", "none", "healthy")


NO_BATTERY = {CONF_BATTERY_POWER_ENTITY: None}


@pytest.mark.parametrize(
    "options", [{}, NO_BATTERY], indirect=True, ids=["battery_power", "grid_power"]
)
async def test_discharge_that_goes_on_after_stop_is_stopped_again(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    service_calls: list[Event],
    stopped: list[Event],
) -> None:
    """Power still flowing 90 s after a stop raises the alarm and re-sends off."""
    await async_start(hass)
    set_state(hass, BATTERY, "3000")
    set_state(hass, GRID, "-3000")
    await async_advance(hass, freezer, 30)
    await async_stop(hass)
    service_calls.clear()
    await async_advance(hass, freezer, 85)
    assert notification_id("inverter_not_obeying") not in notifications(hass)
    await async_advance(hass, freezer, 5)
    assert writes(service_calls, "turn_off") == [(ENABLE, None)]
    assert reasons(stopped) == ["user", "inverter_not_obeying"]
    assert notification_id("inverter_not_obeying") in notifications(hass)
    assert shown(hass) == ("idle", "inverter_not_obeying", "error")


async def test_discharge_that_ends_after_stop_raises_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    service_calls: list[Event],
) -> None:
    """Power that ends with the stop needs no second stop."""
    await async_start(hass)
    await async_advance(hass, freezer, 30)
    await async_stop(hass)
    service_calls.clear()
    await async_advance(hass, freezer, 120)
    assert writes(service_calls, "turn_off") == []
    assert notifications(hass) == set()


# -- the predictive stop, time-stepped ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeterRun:
    """How a time-stepped discharge ended."""

    headroom_shown_at_stop: float
    true_export_at_off: float
    reason: str


async def async_run_meter(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
    *,
    interval: int,
    resolution: float,
    power_kw: float,
) -> MeterRun:
    """Export while the enable entity is on; the meter publishes every `interval` s."""
    true_export = float(hass.states.get(EXPORT).state)
    elapsed = 0
    while hass.states.get(ENABLE).state == "on":
        freezer.tick(STEP)
        elapsed += int(STEP.total_seconds())
        true_export += power_kw * STEP.total_seconds() / 3600.0
        shown_export = math.floor(true_export / resolution) * resolution
        if elapsed % interval == 0:
            set_state(hass, EXPORT, f"{shown_export:.6f}")
        report(hass, (SOC, PV, BATTERY, GRID))
        async_fire_time_changed(hass)
        await async_settle(hass)
    headroom = float(hass.states.get("sensor.export_monitor_export_headroom").state)
    return MeterRun(
        headroom_shown_at_stop=headroom,
        true_export_at_off=true_export,
        reason=reasons(stopped)[0],
    )


METERS = {
    "every_10_s": (10, 0.000001),
    "every_60_s": (60, 0.000001),
    "every_10_s_in_0.1_kwh_steps": (10, 0.1),
}


@pytest.mark.parametrize(
    "options", [{CONF_STALE_AFTER_SECONDS: 120}], indirect=True, ids=["stale_120"]
)
@pytest.mark.parametrize(
    ("interval", "resolution"), list(METERS.values()), ids=list(METERS)
)
async def test_predictive_stop_keeps_export_within_allowance(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
    interval: int,
    resolution: float,
) -> None:
    """The stop leaves a meter step of headroom; export at switch-off is within the allowance."""
    power_kw = 3.0
    await async_idle_hour(hass, freezer)
    set_state(hass, EXPORT, "10.5")
    await async_start(hass)
    set_state(hass, BATTERY, "3000")
    set_state(hass, GRID, "-3000")
    run = await async_run_meter(
        hass,
        freezer,
        stopped,
        interval=interval,
        resolution=resolution,
        power_kw=power_kw,
    )
    assert run.reason == "headroom_exhausted"
    assert run.headroom_shown_at_stop >= power_kw * interval / 3600.0
    assert run.true_export_at_off <= ALLOWANCE


# -- the inverter-side timer (backstop) --------------------------------------------------

BACKSTOPS = {
    # Re-armed 2 minutes before the timer ends. 14, not 15 again: some inverters re-arm
    # their timer only on a changed value.
    "long_plan": ({}, 15.0, 780, [14.0]),
    "ten_minute_plan": ({"duration_minutes": 10}, 10.0, 480, [2.0]),
}


@pytest.mark.parametrize(
    ("fields", "armed", "due", "rearmed"),
    list(BACKSTOPS.values()),
    ids=list(BACKSTOPS),
)
async def test_backstop_is_rearmed_while_running(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    service_calls: list[Event],
    fields: dict[str, Any],
    armed: float,
    due: int,
    rearmed: list[float],
) -> None:
    """The timer gets min(15, planned) min and is re-written 2 min before its end, alone."""
    await async_start(hass, **fields)
    assert writes(service_calls, "set_value")[-1] == (DURATION, armed)
    service_calls.clear()
    await async_exporting(hass, freezer, due - 5)
    # The SOC floor may rise meanwhile (this SOC stands still while export rises).
    assert timer_writes(service_calls) == []
    await async_exporting(hass, freezer, 5)
    assert timer_writes(service_calls) == [(DURATION, minutes) for minutes in rearmed]
    assert hass.states.get(DURATION).state == str(rearmed[-1])


# -- automatic discharge ------------------------------------------------------------------


@pytest.mark.parametrize("options", [AUTO], indirect=True, ids=["auto"])
async def test_automatic_start_inside_the_window(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    started: list[Event],
) -> None:
    """With headroom inside the window the monitor starts by itself."""
    await async_advance(hass, freezer, 5)
    assert [event.data["reason"] for event in started] == ["auto"]
    assert shown(hass) == ("active", "none", "healthy")


@pytest.mark.parametrize("options", [AUTO], indirect=True, ids=["auto"])
async def test_no_automatic_start_for_a_sliver_of_headroom(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    started: list[Event],
) -> None:
    """Less than 0.1 kWh of headroom is not worth an automatic start."""
    set_state(hass, EXPORT, "11.42")
    await async_advance(hass, freezer, 30)
    assert (started, hass.states.get(ENABLE).state) == ([], "off")


@pytest.mark.parametrize("options", [AUTO], indirect=True, ids=["auto"])
async def test_automatic_restart_waits_five_minutes(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    started: list[Event],
    stopped: list[Event],
) -> None:
    """After a stop that is not the user's, the next automatic start waits 5 minutes."""
    await async_advance(hass, freezer, 5)
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": ENABLE}, blocking=True
    )
    await async_advance(hass, freezer, 5)
    assert reasons(stopped) == ["switched_off_elsewhere"]
    await async_advance(hass, freezer, 290)
    assert len(started) == 1
    await async_advance(hass, freezer, 10)
    assert reasons(started) == ["auto", "auto"]


@pytest.mark.parametrize("options", [AUTO], indirect=True, ids=["auto"])
async def test_user_stop_latches_automatic_start_until_toggled(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    started: list[Event],
) -> None:
    """After a user stop no automatic start happens that day until the switch toggles."""
    await async_advance(hass, freezer, 5)
    await async_stop(hass)
    await async_advance(hass, freezer, 600)
    assert len(started) == 1
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": "switch.export_monitor_auto_discharge"},
        blocking=True,
    )
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": "switch.export_monitor_auto_discharge"},
        blocking=True,
    )
    await async_advance(hass, freezer, 5)
    assert reasons(started) == ["auto", "auto"]


OVERNIGHT = {
    CONF_AUTO_DISCHARGE: True,
    CONF_EXPORT_WINDOW_START: "22:00:00",
    CONF_EXPORT_WINDOW_END: "02:00:00",
}


@pytest.mark.parametrize("options", [OVERNIGHT], indirect=True, ids=["overnight"])
async def test_window_across_midnight(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    started: list[Event],
) -> None:
    """A 22:00-02:00 window starts nothing at noon and starts at 23:00."""
    freezer.move_to(local("2026-06-15T12:00:00"))
    await async_setup_entry(hass, config_entry)
    await async_advance(hass, freezer, 30)
    assert (started, shown(hass)) == ([], ("idle", "none", "healthy"))
    await async_jump(hass, freezer, local("2026-06-15T23:00:00"))
    await async_advance(hass, freezer, 5)
    assert reasons(started) == ["auto"]


# -- notifications while idle ------------------------------------------------------------


async def test_idle_data_fault_is_shown_after_two_minutes(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A data fault while idle is notified once it lasts 2 minutes, dismissed on recovery."""
    set_state(hass, SOC, "unavailable")
    await async_settle(hass)
    await async_advance(hass, freezer, 115)
    assert notification_id("soc_read_failed") not in notifications(hass)
    await async_advance(hass, freezer, 5)
    assert notification_id("soc_read_failed") in notifications(hass)
    set_state(hass, SOC, "60")
    await async_advance(hass, freezer, 10)
    assert notifications(hass) == set()
    assert shown(hass) == ("idle", "none", "healthy")


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
async def test_breaker_notice_goes_when_the_breaker_may_try_again(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The breaker notice is dismissed after its one-minute pause."""
    fake_controls.set(FAKE_POWER, "set_value", Behaviour.RAISE)
    assert await async_failing_starts(hass, 5) == ["discharge_power_set_failed"] * 5
    await async_advance(hass, freezer, 5)
    assert notification_id("circuit_breaker_open") in notifications(hass)
    await async_advance(hass, freezer, 60)
    assert notification_id("circuit_breaker_open") not in notifications(hass)


async def test_refusal_is_forgotten_once_it_no_longer_holds(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A refusal shown in the error state clears when its condition clears."""
    set_state(hass, SOC, "20")
    await async_settle(hass)
    with pytest.raises(ServiceValidationError):
        await async_start(hass)
    assert shown(hass)[1] == "soc_at_min"
    set_state(hass, SOC, "60")
    await async_advance(hass, freezer, 5)
    assert shown(hass) == ("idle", "none", "healthy")


async def test_idle_meter_before_the_start_does_not_stop_it(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    stopped: list[Event],
) -> None:
    """An export counter that stood still for an hour is not a 1-hour meter cadence."""
    set_state(hass, EXPORT, "3.01")
    await async_advance(hass, freezer, 10)
    set_state(hass, EXPORT, "3.02")
    await async_jump(hass, freezer, dt_util.now() + timedelta(hours=1))
    await async_start(hass)
    await async_advance(hass, freezer, 10)
    set_state(hass, EXPORT, "3.03")
    await async_advance(hass, freezer, 60)
    assert stopped == []
    assert hass.states.get(ENABLE).state == "on"


SLOW_METERS = {CONF_STALE_AFTER_SECONDS: 900}
ALL_BUT_BATTERY = tuple(source for source in SOURCES if source != BATTERY)


@pytest.mark.parametrize("options", [SLOW_METERS], indirect=True, ids=["slow_meters"])
async def test_battery_reading_from_before_the_grace_is_no_verdict(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """A slow battery meter's reading from before the start is not taken as disobedience."""
    await async_start(hass)
    await async_advance(hass, freezer, 120, live=ALL_BUT_BATTERY)
    assert stopped == []
    await async_advance(hass, freezer, 5)
    assert reasons(stopped) == ["inverter_not_obeying"]


@pytest.mark.parametrize("options", [AUTO], indirect=True, ids=["auto"])
async def test_no_automatic_restart_just_above_min_soc(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    started: list[Event],
    stopped: list[Event],
) -> None:
    """After a min-SOC stop, a restart waits until 0.1 kWh is above min SOC again."""
    await async_advance(hass, freezer, 5)
    set_state(hass, SOC, "20")
    await async_settle(hass)
    assert reasons(stopped) == ["soc_at_min"]
    set_state(hass, SOC, "20.5")
    await async_advance(hass, freezer, 600)
    assert reasons(started) == ["auto"]
    set_state(hass, SOC, "21.5")
    await async_advance(hass, freezer, 5)
    assert reasons(started) == ["auto", "auto"]


async def test_removed_source_stops(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    obeying: None,
    stopped: list[Event],
) -> None:
    """A source entity that disappears stops the discharge as removed."""
    await async_start(hass)
    hass.states.async_remove(SOC)
    await async_settle(hass)
    assert reasons(stopped) == ["source_removed"]
    assert hass.states.get(ENABLE).state == "off"
    assert notification_id("source_missing") in notifications(hass)


async def test_unavailable_enable_entity_stops(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    stopped: list[Event],
) -> None:
    """An enable entity without an on/off state ends the session; off is sent."""
    await async_start(hass)
    hass.states.async_set(ENABLE, "unavailable")
    await async_advance(hass, freezer, 5)
    assert reasons(stopped) == ["actuator_unavailable"]
    assert hass.states.get(ENABLE).state == "off"


NO_FLOW = {CONF_BATTERY_POWER_ENTITY: None, "grid_power_entity": None}


@pytest.mark.parametrize("options", [NO_FLOW], indirect=True, ids=["no_flow"])
async def test_no_power_sensors_no_flow_check(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    service_calls: list[Event],
    stopped: list[Event],
) -> None:
    """Without battery or grid power nothing can be checked, and nothing is re-sent."""
    await async_start(hass)
    await async_advance(hass, freezer, 120)
    await async_stop(hass)
    service_calls.clear()
    await async_advance(hass, freezer, 120)
    assert (reasons(stopped), writes(service_calls, "turn_off")) == (["user"], [])


async def test_refusal_stays_while_it_holds(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A refusal stays in the error state as long as its condition holds."""
    set_state(hass, SOC, "20")
    await async_settle(hass)
    with pytest.raises(ServiceValidationError):
        await async_start(hass)
    await async_advance(hass, freezer, 30)
    assert shown(hass) == ("blocked", "soc_at_min", "healthy")


STRONG = {CONF_AUTO_DISCHARGE: True, CONF_DISCHARGE_POWER_KW: 10.0}


@pytest.mark.parametrize("options", [STRONG], indirect=True, ids=["ten_kw"])
async def test_automatic_start_refused_quietly(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    started: list[Event],
) -> None:
    """A refused automatic start (10 kW for 0.15 kWh left) starts and raises nothing."""
    set_state(hass, EXPORT, "11.35")
    await async_advance(hass, freezer, 30)
    assert (started, hass.states.get(ENABLE).state) == ([], "off")
    assert notifications(hass) == set()


# -- restart reconciliation ---------------------------------------------------------------

STORE_KEY = f"{DOMAIN}.{ENTRY_ID}.session"


def stored_session(hass_storage: dict[str, Any]) -> None:
    """Store a running session, as before a restart."""
    session = Session(
        started_at=dt_util.now() - timedelta(minutes=5),
        origin="service",
        power_kw=3.0,
        cutoff_soc=20.0,
        start_exported_kwh=2.5,
        backstop_minutes=15,
        backstop_armed_at=dt_util.now() - timedelta(minutes=5),
    )
    hass_storage[STORE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORE_KEY,
        "data": {"session": session_to_data(session)},
    }


async def async_turn_on_enable(hass: HomeAssistant) -> None:
    """Turn the enable helper on, as the inverter was left before a restart."""
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": ENABLE}, blocking=True
    )


async def test_restart_stops_a_discharge_it_finds(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    stopped: list[Event],
) -> None:
    """A discharge found running at start-up without a session is stopped and told."""
    await async_turn_on_enable(hass)
    await async_setup_entry(hass, config_entry)
    assert hass.states.get(ENABLE).state == "off"
    assert reasons(stopped) == ["restart"]
    assert notification_id("discharge_stopped_on_restart") in notifications(hass)


RESUME = {CONF_RESUME_WHEN_SAFE: True}


@pytest.mark.parametrize("options", [RESUME], indirect=True, ids=["resume"])
async def test_restart_resumes_a_safe_session_when_allowed(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    hass_storage: dict[str, Any],
    stopped: list[Event],
) -> None:
    """With resume_when_safe, a stored session that is still safe is supervised again."""
    stored_session(hass_storage)
    await async_turn_on_enable(hass)
    await async_setup_entry(hass, config_entry)
    assert (hass.states.get(ENABLE).state, stopped) == ("on", [])
    assert shown(hass) == ("active", "none", "healthy")


@pytest.mark.parametrize("options", [RESUME], indirect=True, ids=["resume"])
async def test_restart_stops_an_unsafe_session_even_when_allowed(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    hass_storage: dict[str, Any],
    stopped: list[Event],
) -> None:
    """A stored session that may not start again is stopped, resume or not."""
    stored_session(hass_storage)
    await async_turn_on_enable(hass)
    set_state(hass, SOC, "20")
    await async_setup_entry(hass, config_entry)
    assert hass.states.get(ENABLE).state == "off"
    assert [event.data for event in stopped] == [
        {"entry_id": ENTRY_ID, "reason": "restart", "exported_kwh": 0.5}
    ]


@pytest.mark.parametrize("options", [RESUME], indirect=True, ids=["resume"])
async def test_restart_stops_when_only_the_plan_is_blocked(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    hass_storage: dict[str, Any],
    stopped: list[Event],
) -> None:
    """A stored session whose restart would be refused (no headroom worth it) stops."""
    stored_session(hass_storage)
    await async_turn_on_enable(hass)
    set_state(hass, EXPORT, "11.47")
    await async_setup_entry(hass, config_entry)
    assert reasons(stopped) == ["restart"]


async def test_battery_feeding_the_house_after_a_stop_raises_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """After a stop, battery power that feeds the house and is not exported is fine."""
    await async_start(hass)
    set_state(hass, BATTERY, "3000")
    set_state(hass, GRID, "-3000")
    await async_advance(hass, freezer, 30)
    await async_stop(hass)
    set_state(hass, BATTERY, "800")
    set_state(hass, GRID, "0")
    await async_advance(hass, freezer, 120)
    assert reasons(stopped) == ["user"]
    assert notification_id("inverter_not_obeying") not in notifications(hass)
    assert shown(hass) == ("idle", "none", "healthy")


FORECAST = "sensor.pv_forecast_today"
NIGHT_CREDIT = {CONF_FORECAST_TODAY_ENTITY: FORECAST, CONF_FORECAST_CREDIT: True}


@pytest.mark.parametrize("options", [NIGHT_CREDIT], indirect=True, ids=["credit"])
async def test_duration_is_real_time_when_the_clocks_go_back(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    stopped: list[Event],
) -> None:
    """30 minutes from 01:45 BST end at 01:15 GMT, not an hour later (night: credit)."""
    hass.states.async_set(FORECAST, "20", {"unit_of_measurement": "kWh"})
    freezer.move_to(local("2026-10-25T01:45:00"))
    await async_setup_entry(hass, config_entry)
    await async_start(hass, duration_minutes=30)
    # The house takes the battery's power: no export, so a counter standing still
    # through the jump is right (with export it would be stale: a data_unsafe stop).
    set_state(hass, GRID, "0")
    await async_jump(hass, freezer, dt_util.parse_datetime("2026-10-25T01:14:55Z"))
    assert stopped == []
    await async_advance(hass, freezer, 5, live=(*SOURCES, FORECAST))
    assert reasons(stopped) == ["duration_elapsed"]
    assert stopped[0].time_fired == dt_util.parse_datetime("2026-10-25T01:15:00+00:00")


async def test_pause_between_sessions_is_not_a_meter_interval(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    obeying: None,
    stopped: list[Event],
) -> None:
    """A counter that stood still between two sessions does not cut the next one short."""
    await async_idle_hour(hass, freezer)
    set_state(hass, EXPORT, "10.5")
    await async_start(hass)
    await async_run_meter(
        hass, freezer, stopped, interval=10, resolution=0.01, power_kw=3.0
    )
    set_state(hass, PV, "12.2")
    await async_advance(hass, freezer, 300)
    await async_start(hass)
    second = await async_run_meter(
        hass, freezer, stopped, interval=10, resolution=0.01, power_kw=3.0
    )
    assert reasons(stopped) == ["headroom_exhausted", "headroom_exhausted"]
    # The inverter timer's bound (headroom less reserve at 1.5 x the power) ends
    # both sessions with about 0.12 kWh left; the pause must not end it earlier.
    assert second.headroom_shown_at_stop < 0.15
