"""Tests of the discharge controller: refusals, actuation order, failures and stops."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from datetime import timedelta
from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor import actuator as actuator_module
from custom_components.export_monitor.const import (
    CONF_AUTO_DISCHARGE,
    CONF_CUTOFF_SOC_ENTITY,
    CONF_DISCHARGE_DURATION_ENTITY,
    CONF_DISCHARGE_POWER_ENTITY,
    CONF_DISCHARGE_SWITCH_ENTITY,
    CONF_EXPORT_WINDOW_END,
    CONF_EXPORT_WINDOW_START,
    DOMAIN,
    EVENT_DISCHARGE_STARTED,
    EVENT_DISCHARGE_STOPPED,
)
from custom_components.export_monitor.logbook import async_describe_events
from custom_components.export_monitor.logic.control_start import StartRequest
from tests.conftest import (
    CUTOFF,
    DURATION,
    ENABLE,
    EXPORT,
    POWER,
    PV,
    SOC,
    base_options,
    real_seconds,
)
from tests.discharge import (
    ENTRY_ID,
    FAKE_CUTOFF,
    FAKE_DURATION,
    FAKE_ENABLE,
    FAKE_POWER,
    STATUS,
    Behaviour,
    FakeControls,
    async_age,
    async_call,
    async_failing_starts,
    async_idle_hour,
    async_later,
    async_settle,
    async_setup_entry,
    async_start,
    async_stop,
    clock_forward,
    local,
    notification_id,
    notifications,
    shown,
)

# Noon, local time: daily counters are judged against the time since midnight.
pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00", tick=True)


FAKES = {
    CONF_DISCHARGE_SWITCH_ENTITY: FAKE_ENABLE,
    CONF_DISCHARGE_POWER_ENTITY: FAKE_POWER,
    CONF_CUTOFF_SOC_ENTITY: FAKE_CUTOFF,
    CONF_DISCHARGE_DURATION_ENTITY: FAKE_DURATION,
}
NO_DURATION = {CONF_DISCHARGE_DURATION_ENTITY: None}
STOP_ISSUE = f"discharge_stop_failed_{ENTRY_ID}"
FIRST_START = {
    "entry_id": ENTRY_ID,
    "power_kw": 3.0,
    "duration_minutes": 120.0,
    "reason": "service",
}


@pytest.fixture
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Return the entry options, changed by an indirect parameter."""
    return {**base_options(), **getattr(request, "param", {})}


@pytest.fixture(autouse=True)
def fast_timeout() -> Generator[None]:
    """Give up on a hanging service call after 0.5 s (scaled) instead of 5 s."""
    # Real time: a healthy helper answers in about a millisecond, so even a loaded
    # machine stays far inside this; only hanging fakes reach it.
    with pytest.MonkeyPatch.context() as patcher:
        patcher.setattr(actuator_module, "ACTUATOR_TIMEOUT_SECONDS", real_seconds(0.5))
        yield


@pytest.fixture
def discharge_events(hass: HomeAssistant) -> list[str]:
    """Record "started" and "stopped" in the order the events fire."""
    names: list[str] = []

    @callback
    def _record(event: Event) -> None:
        """Remember the event's last word."""
        names.append(event.event_type.rpartition("_")[2])

    hass.bus.async_listen(EVENT_DISCHARGE_STARTED, _record)
    hass.bus.async_listen(EVENT_DISCHARGE_STOPPED, _record)
    return names


# SOC 80 %, 8.5 kWh of headroom, 10 kWh declared and not yet measured (2 x 1.1 x
# 0.1 kWh per percent): the SOC floor 80 - 8.5 / 0.22 = 41.4, rounded up.
START_FLOOR: Final = 42.0


def writes(calls: list[Event]) -> list[tuple[str, str, float | None]]:
    """Return the calls made to other entities: service, entity id and value."""
    return [
        (
            call.data["service"],
            call.data["service_data"]["entity_id"],
            call.data["service_data"].get("value"),
        )
        for call in calls
        if call.data["domain"] != DOMAIN
    ]


async def async_refusal(hass: HomeAssistant, **data: Any) -> str:
    """Call start_discharge, which must be refused; return the translation key."""
    with pytest.raises(ServiceValidationError) as exc_info:
        await async_start(hass, **data)
    return str(exc_info.value.translation_key)


async def async_failure(hass: HomeAssistant, service: str, **data: Any) -> str:
    """Call a service whose action must fail; return the translation key."""
    with pytest.raises(HomeAssistantError) as exc_info:
        await async_call(hass, service, **data)
    assert not isinstance(exc_info.value, ServiceValidationError)
    return str(exc_info.value.translation_key)


# -- refusals ---------------------------------------------------------------------


async def test_start_refused_on_stale_data(
    hass: HomeAssistant,
    unloaded_sources: None,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    started: list[Event],
) -> None:
    """Sources older than stale_after_seconds refuse a start and say so at once.

    Their integration is not loaded: silence is staleness, not quiet.
    """
    await async_age(hass, freezer, 31)
    assert await async_refusal(hass) == "start_blocked_stale_data"
    assert shown(hass) == ("blocked", "stale_data", "stale_data")
    assert notification_id("stale_data") in notifications(hass)
    assert (hass.states.get(ENABLE).state, started) == ("off", [])


async def test_stale_data_after_a_slow_setup(
    hass: HomeAssistant,
    slow_setup: None,
    unloaded_sources: None,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    started: list[Event],
) -> None:
    """A slow setup before the sources are written cannot make them fresh.

    The 31 s count from now (discharge.async_age), not from the clock's start before
    the setup: freezegun's tick dropped the setup's wall time.
    """
    await async_age(hass, freezer, 31)
    assert await async_refusal(hass) == "start_blocked_stale_data"
    assert (hass.states.get(ENABLE).state, started) == ("off", [])


@pytest.mark.usefixtures("unloaded_sources", "init_integration")
async def test_start_reads_the_sources_at_the_request(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, started: list[Event]
) -> None:
    """Data fresh at the last read (27 s) but 31 s old at the request refuse the start.

    No timer is due between the two: the start must not decide on the last read.
    """
    await async_age(hass, freezer, 27)
    clock_forward(freezer, timedelta(seconds=4))
    assert await async_refusal(hass) == "start_blocked_stale_data"
    assert (hass.states.get(ENABLE).state, started) == ("off", [])


INVALID_DATA = {
    "soc_unavailable": (SOC, "unavailable", "soc_read_failed"),
    "soc_not_numeric": (SOC, "full", "soc_read_failed"),
    "pv_unavailable": (PV, "unavailable", "pv_read_failed"),
    "pv_not_numeric": (PV, "sunny", "pv_read_failed"),
    "export_unavailable": (EXPORT, "unavailable", "export_read_failed"),
    "export_not_finite": (EXPORT, "nan", "export_read_failed"),
}


@pytest.mark.parametrize(
    ("entity_id", "state", "fault"),
    list(INVALID_DATA.values()),
    ids=list(INVALID_DATA),
)
async def test_start_refused_on_invalid_data(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    started: list[Event],
    entity_id: str,
    state: str,
    fault: str,
) -> None:
    """An unusable SOC, PV or export reading refuses a start with its own reason."""
    hass.states.async_set(entity_id, state, hass.states.get(entity_id).attributes)
    await async_settle(hass)
    assert await async_refusal(hass) == f"start_blocked_{fault}"
    assert shown(hass) == ("blocked", fault, "error")
    assert notification_id(fault) in notifications(hass)
    assert (hass.states.get(ENABLE).state, started) == ("off", [])


async def test_start_refused_without_any_data(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """With no required source readable the refusal says there is no data."""
    hass.states.async_set(SOC, "unavailable")
    hass.states.async_set(PV, "unavailable")
    hass.states.async_set(EXPORT, "unavailable")
    await async_settle(hass)
    assert await async_refusal(hass) == "start_blocked_no_data"
    assert shown(hass) == ("blocked", "no_data", "error")


@pytest.mark.parametrize("soc", ["20", "15"], ids=["at_min", "below_min"])
async def test_start_refused_at_min_soc(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    started: list[Event],
    soc: str,
) -> None:
    """A battery at or below min SOC refuses a start; a start condition, not a fault."""
    hass.states.async_set(SOC, soc, hass.states.get(SOC).attributes)
    await async_settle(hass)
    assert await async_refusal(hass) == "start_blocked_soc_at_min"
    assert shown(hass) == ("blocked", "soc_at_min", "healthy")
    assert (notifications(hass), started) == (set(), [])


HEADROOM_CASES = {
    # allowance = 12 kWh PV - 0.5 kWh margin = 11.5 kWh
    "none_left": ("11.5", "blocked"),
    "overspent": ("12", "blocked"),
    # 0.03 kWh left; one stop delay at 3 kW (60 s meter + 10 s) exports 0.058 kWh
    "less_than_one_stop_delay": ("11.47", "idle"),
}


@pytest.mark.parametrize(
    ("exported", "status"), list(HEADROOM_CASES.values()), ids=list(HEADROOM_CASES)
)
async def test_start_refused_without_headroom(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    started: list[Event],
    exported: str,
    status: str,
) -> None:
    """No headroom, or less than one stop delay could export, refuses a start."""
    await async_idle_hour(hass, freezer)
    hass.states.async_set(EXPORT, exported, hass.states.get(EXPORT).attributes)
    await async_settle(hass)
    assert await async_refusal(hass) == "start_blocked_no_headroom"
    assert shown(hass) == (status, "no_headroom", "healthy")
    assert (hass.states.get(ENABLE).state, started) == ("off", [])


async def test_start_refused_as_the_day_ends(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    freezer: FrozenDateTimeFactory,
    started: list[Event],
) -> None:
    """No start in the last 30 s of the local day: export after midnight has no PV."""
    freezer.move_to(local("2026-06-15T23:59:30"))
    await async_setup_entry(hass, config_entry)
    assert await async_refusal(hass) == "start_blocked_no_headroom"
    assert (hass.states.get(ENABLE).state, started) == ("off", [])


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
async def test_start_refused_while_breaker_open(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
) -> None:
    """Five failing actuator calls open the breaker, which then refuses starts."""
    fake_controls.set(FAKE_POWER, "set_value", Behaviour.RAISE)
    assert await async_failing_starts(hass, 5) == ["discharge_power_set_failed"] * 5
    assert await async_refusal(hass) == "start_blocked_circuit_breaker_open"
    assert fake_controls.attempts(FAKE_POWER, "set_value") == 5
    assert shown(hass) == (
        "blocked",
        "discharge_power_set_failed",
        "circuit_breaker_open",
    )
    assert {
        notification_id("circuit_breaker_open"),
        notification_id("discharge_power_set_failed"),
    } <= notifications(hass)


OUTSIDE = {
    CONF_AUTO_DISCHARGE: False,
    CONF_EXPORT_WINDOW_START: "00:00:00",
    CONF_EXPORT_WINDOW_END: "00:00:01",
}


@pytest.mark.parametrize("options", [OUTSIDE], indirect=True, ids=["window"])
async def test_automatic_start_refused_outside_window(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An automatic start that comes late, outside the window, is refused."""
    freezer.move_to(local("2026-06-15T12:00:00"))
    await async_setup_entry(hass, config_entry)
    controller = config_entry.runtime_data.controller
    with pytest.raises(ServiceValidationError) as exc_info:
        await controller.async_start(StartRequest(origin="auto"))
    assert exc_info.value.translation_key == "start_blocked_outside_window"
    assert hass.states.get(ENABLE).state == "off"


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
async def test_start_refused_while_stop_pending(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    started: list[Event],
) -> None:
    """A stop that has not been confirmed refuses any new start until it is."""
    await async_start(hass)
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.RAISE)
    assert await async_failure(hass, "stop_discharge") == "discharge_stop_failed"
    assert await async_refusal(hass) == "start_blocked_discharge_stop_failed"
    assert len(started) == 1
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.OBEY)
    await async_later(hass, 30)
    assert shown(hass) == ("idle", "none", "healthy")
    await async_start(hass)
    assert len(started) == 2


async def test_start_while_active_does_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    service_calls: list[Event],
    started: list[Event],
) -> None:
    """A second start while a discharge runs fires no event and writes nothing."""
    await async_start(hass)
    written = len(writes(service_calls))
    await async_start(hass, power_kw=5)
    assert (len(writes(service_calls)), len(started)) == (written, 1)


# -- the start sequence -------------------------------------------------------------


async def test_start_writes_power_cutoff_duration_then_enable(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    service_calls: list[Event],
    started: list[Event],
) -> None:
    """A start writes power, cutoff (the SOC floor), the duration backstop, then enables."""
    await async_start(hass)
    assert writes(service_calls) == [
        ("set_value", POWER, 3.0),
        ("set_value", CUTOFF, START_FLOOR),
        ("set_value", DURATION, 15.0),
        ("turn_on", ENABLE, None),
    ]
    assert [event.data for event in started] == [FIRST_START]
    assert shown(hass) == ("active", "none", "healthy")


@pytest.mark.parametrize("options", [NO_DURATION], indirect=True, ids=["no_duration"])
async def test_start_without_duration_entity(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    service_calls: list[Event],
    started: list[Event],
) -> None:
    """Without a duration entity the start writes power and cutoff, then enables."""
    await async_start(hass)
    assert writes(service_calls) == [
        ("set_value", POWER, 3.0),
        ("set_value", CUTOFF, START_FLOOR),
        ("turn_on", ENABLE, None),
    ]
    assert [event.data for event in started] == [FIRST_START]


async def test_unchanged_setpoints_are_not_rewritten(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    service_calls: list[Event],
) -> None:
    """Power and cutoff already at the plan's values are left alone."""
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": POWER, "value": 3}, blocking=True
    )
    await hass.services.async_call(
        "input_number",
        "set_value",
        {"entity_id": CUTOFF, "value": START_FLOOR},
        blocking=True,
    )
    service_calls.clear()
    await async_start(hass)
    assert writes(service_calls) == [
        ("set_value", DURATION, 15.0),
        ("turn_on", ENABLE, None),
    ]


UNITS = {
    "watts": ({"unit_of_measurement": "W", "step": 1}, 3000.0),
    "kilowatts": ({"unit_of_measurement": "kW", "step": 0.1}, 3.0),
    "no_unit_means_kilowatts": ({"step": 0.1}, 3.0),
}


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
@pytest.mark.parametrize(
    ("attributes", "written"), list(UNITS.values()), ids=list(UNITS)
)
async def test_power_is_written_in_the_entity_unit(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    service_calls: list[Event],
    attributes: dict[str, Any],
    written: float,
) -> None:
    """The power setpoint gets W or kW by its unit; no unit means kW."""
    hass.states.async_set(FAKE_POWER, "0", attributes)
    await async_start(hass)
    assert writes(service_calls)[0] == ("set_value", FAKE_POWER, written)
    assert hass.states.get(FAKE_ENABLE).state == "on"


REQUESTS = {
    "power_and_duration": (
        {"power_kw": 2, "duration_minutes": 30},
        {"power_kw": 2.0, "duration_minutes": 30.0},
        15.0,
    ),
    "target_export": (
        {"target_export_kwh": 0.5},
        {"power_kw": 3.0, "duration_minutes": 10.0},
        10.0,
    ),
    "short_duration": (
        {"duration_minutes": 4},
        {"power_kw": 3.0, "duration_minutes": 4.0},
        4.0,
    ),
}


@pytest.mark.parametrize(
    ("fields", "announced", "backstop"), list(REQUESTS.values()), ids=list(REQUESTS)
)
async def test_start_follows_the_request(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    service_calls: list[Event],
    started: list[Event],
    fields: dict[str, Any],
    announced: dict[str, Any],
    backstop: float,
) -> None:
    """Power, duration and target shape the plan, the backstop and the event."""
    await async_start(hass, **fields)
    assert ("set_value", DURATION, backstop) in writes(service_calls)
    assert [event.data for event in started] == [
        {"entry_id": ENTRY_ID, "reason": "service", **announced}
    ]


# -- actuation failures -------------------------------------------------------------

FAILURES = {
    "power_raises": (
        FAKE_POWER,
        "set_value",
        Behaviour.RAISE,
        "discharge_power_set_failed",
    ),
    "power_hangs": (
        FAKE_POWER,
        "set_value",
        Behaviour.HANG,
        "discharge_power_set_failed",
    ),
    "power_reads_back_wrong": (
        FAKE_POWER,
        "set_value",
        Behaviour.WRONG_VALUE,
        "discharge_power_set_failed",
    ),
    "power_ignored": (
        FAKE_POWER,
        "set_value",
        Behaviour.IGNORE,
        "discharge_power_set_failed",
    ),
    "cutoff_raises": (
        FAKE_CUTOFF,
        "set_value",
        Behaviour.RAISE,
        "cutoff_soc_set_failed",
    ),
    "duration_hangs": (
        FAKE_DURATION,
        "set_value",
        Behaviour.HANG,
        "duration_set_failed",
    ),
    "enable_ignored": (
        FAKE_ENABLE,
        "turn_on",
        Behaviour.IGNORE,
        "discharge_start_failed",
    ),
    "enable_on_then_raises": (
        FAKE_ENABLE,
        "turn_on",
        Behaviour.OBEY_THEN_RAISE,
        "discharge_start_failed",
    ),
    "enable_on_then_hangs": (
        FAKE_ENABLE,
        "turn_on",
        Behaviour.OBEY_THEN_HANG,
        "discharge_start_failed",
    ),
}


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
@pytest.mark.parametrize(
    ("entity_id", "service", "behaviour", "fault"),
    list(FAILURES.values()),
    ids=list(FAILURES),
)
async def test_failed_actuation_aborts_the_start(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    started: list[Event],
    entity_id: str,
    service: str,
    behaviour: Behaviour,
    fault: str,
) -> None:
    """A write that fails, hangs or reads back wrong aborts the start, enable off."""
    fake_controls.set(entity_id, service, behaviour)
    assert await async_failure(hass, "start_discharge") == fault
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert shown(hass) == ("idle", fault, "error")
    assert notification_id(fault) in notifications(hass)
    assert started == []


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
async def test_start_after_a_failure_clears_it(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    started: list[Event],
) -> None:
    """Once the actuator works again, a start succeeds and dismisses the notice."""
    fake_controls.set(FAKE_POWER, "set_value", Behaviour.HANG)
    await async_failure(hass, "start_discharge")
    fake_controls.set(FAKE_POWER, "set_value", Behaviour.OBEY)
    await async_start(hass)
    assert shown(hass) == ("active", "none", "healthy")
    assert notification_id("discharge_power_set_failed") not in notifications(hass)
    assert len(started) == 1


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
async def test_power_entity_with_unusable_unit(
    hass: HomeAssistant, fake_integration: MockConfigEntry, started: list[Event]
) -> None:
    """A power entity whose unit is neither W nor kW is not written at all."""
    hass.states.async_set(FAKE_POWER, "0", {"unit_of_measurement": "%"})
    assert await async_failure(hass, "start_discharge") == "discharge_power_set_failed"
    assert (hass.states.get(FAKE_ENABLE).state, started) == ("off", [])


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
async def test_power_entity_that_vanished(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    started: list[Event],
) -> None:
    """A power entity with no state cannot be verified, so nothing starts."""
    hass.states.async_remove(FAKE_POWER)
    fake_controls.set(FAKE_POWER, "set_value", Behaviour.IGNORE)
    assert await async_failure(hass, "start_discharge") == "discharge_power_set_failed"
    assert (hass.states.get(FAKE_ENABLE).state, started) == ("off", [])


# -- stopping -----------------------------------------------------------------------


async def test_stop_turns_off_and_reports_the_export(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    stopped: list[Event],
) -> None:
    """A stop turns the enable entity off and reports the session's export."""
    await async_start(hass)
    hass.states.async_set(EXPORT, "3.1", hass.states.get(EXPORT).attributes)
    await async_settle(hass)
    await async_stop(hass)
    assert hass.states.get(ENABLE).state == "off"
    assert [event.data for event in stopped] == [
        {"entry_id": ENTRY_ID, "reason": "user", "exported_kwh": 0.1}
    ]
    assert shown(hass) == ("idle", "none", "healthy")


async def test_stop_while_idle_sends_only_an_off(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    service_calls: list[Event],
    stopped: list[Event],
) -> None:
    """A stop with nothing running still sends the off (it may read off wrongly), no event."""
    # Was "writes nothing": an enable entity that reads off is not proof of off.
    await async_stop(hass)
    assert (writes(service_calls), stopped) == (
        [("turn_off", ENABLE, None)],
        [],
    )


async def test_stop_turns_off_a_discharge_started_elsewhere(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    stopped: list[Event],
) -> None:
    """A stop turns off an enable entity someone else turned on."""
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": ENABLE}, blocking=True
    )
    await async_stop(hass)
    assert hass.states.get(ENABLE).state == "off"
    assert [event.data["reason"] for event in stopped] == ["user"]


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
@pytest.mark.parametrize(
    "behaviour", [Behaviour.RAISE, Behaviour.HANG], ids=["raises", "hangs"]
)
async def test_failing_stop_alarms_and_keeps_retrying(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    stopped: list[Event],
    behaviour: Behaviour,
) -> None:
    """A stop that fails four times alarms, then retries every 30 s until it works."""
    await async_start(hass)
    fake_controls.set(FAKE_ENABLE, "turn_off", behaviour)
    assert await async_failure(hass, "stop_discharge") == "discharge_stop_failed"
    assert fake_controls.attempts(FAKE_ENABLE, "turn_off") == 4
    assert shown(hass) == ("active", "discharge_stop_failed", "error")
    assert notification_id("discharge_stop_failed") in notifications(hass)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, STOP_ISSUE)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.CRITICAL
    assert stopped == []

    await async_later(hass, 30)
    assert fake_controls.attempts(FAKE_ENABLE, "turn_off") == 5
    assert hass.states.get(STATUS).state == "active"

    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.OBEY)
    await async_later(hass, 30)
    assert fake_controls.attempts(FAKE_ENABLE, "turn_off") == 6
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert [event.data["reason"] for event in stopped] == ["user"]
    assert notification_id("discharge_stop_failed") not in notifications(hass)
    assert ir.async_get(hass).async_get_issue(DOMAIN, STOP_ISSUE) is None
    assert shown(hass)[:2] == ("idle", "none")


@pytest.mark.parametrize(
    "options", [FAKES | NO_DURATION], indirect=True, ids=["fakes_no_duration"]
)
async def test_a_failed_stop_without_a_timer_still_writes_power_zero(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
) -> None:
    """No inverter timer to shorten: a stop that fails steps down the ladder to power 0."""
    await async_start(hass)
    assert hass.states.get(FAKE_POWER).state == "3.0"
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.RAISE)
    assert await async_failure(hass, "stop_discharge") == "discharge_stop_failed"
    await hass.async_block_till_done()
    assert fake_controls.attempts(FAKE_POWER, "set_value") == 2
    assert hass.states.get(FAKE_POWER).state == "0.0"


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
async def test_failed_start_that_cannot_be_undone(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    stopped: list[Event],
) -> None:
    """An enable that turned on but cannot be turned off raises the stop alarm."""
    fake_controls.set(FAKE_ENABLE, "turn_on", Behaviour.OBEY_THEN_RAISE)
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.RAISE)
    assert await async_failure(hass, "start_discharge") == "discharge_start_failed"
    assert shown(hass)[:2] == ("active", "discharge_stop_failed")
    assert {
        notification_id("discharge_start_failed"),
        notification_id("discharge_stop_failed"),
    } <= notifications(hass)
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.OBEY)
    await async_later(hass, 30)
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert [event.data["reason"] for event in stopped] == ["start_failed"]
    # The stop alarm is gone; the failed start's notice stays until a start succeeds.
    assert shown(hass)[:2] == ("idle", "none")
    assert notification_id("discharge_start_failed") in notifications(hass)
    assert notification_id("discharge_stop_failed") not in notifications(hass)


# -- concurrency --------------------------------------------------------------------

CONCURRENT = {
    "ends_with_stop": (
        ["start", "start", "stop", "start", "stop"],
        "off",
        ["started", "stopped", "started", "stopped"],
    ),
    "ends_with_start": (
        ["stop", "start", "start", "stop", "start"],
        "on",
        ["started", "stopped", "started"],
    ),
}


@pytest.mark.parametrize(
    ("calls", "enable", "sequence"), list(CONCURRENT.values()), ids=list(CONCURRENT)
)
async def test_concurrent_start_and_stop_calls(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    discharge_events: list[str],
    calls: list[str],
    enable: str,
    sequence: list[str],
) -> None:
    """Starts and stops called at once run one by one, in call order, never doubled."""
    await asyncio.gather(
        *(
            hass.services.async_call(DOMAIN, f"{name}_discharge", {}, blocking=True)
            for name in calls
        )
    )
    await async_settle(hass)
    assert hass.states.get(ENABLE).state == enable
    assert discharge_events == sequence
    assert shown(hass)[1:] == ("none", "healthy")


# -- logbook ------------------------------------------------------------------------


async def test_logbook_describes_start_and_stop(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    started: list[Event],
    stopped: list[Event],
) -> None:
    """The logbook tells what started and stopped, at what power and why."""
    describers: dict[str, Callable[[Event], dict[str, str]]] = {}

    def describe(domain: str, event_type: str, fn: Callable[[Event], Any]) -> None:
        """Collect the describer of one event type."""
        describers[event_type] = fn

    async_describe_events(hass, describe)
    await async_start(hass)
    await async_stop(hass)
    assert describers[EVENT_DISCHARGE_STARTED](started[0]) == {
        "name": "Export Monitor",
        "message": "started a forced discharge at 3.0 kW (service)",
    }
    assert describers[EVENT_DISCHARGE_STOPPED](stopped[0]) == {
        "name": "Export Monitor",
        "message": "stopped the forced discharge (user) after exporting 0.0 kWh",
    }
