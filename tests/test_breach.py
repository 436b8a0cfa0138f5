"""Tests of the breach detector: export beyond the allowance is told, recorded and stopped."""

from __future__ import annotations

from typing import Any, Final
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.export_monitor import breach as breach_module
from custom_components.export_monitor.breach import breach_store_key
from custom_components.export_monitor.const import (
    CONF_CUTOFF_SOC_ENTITY,
    CONF_DISCHARGE_DURATION_ENTITY,
    CONF_DISCHARGE_POWER_ENTITY,
    CONF_DISCHARGE_SWITCH_ENTITY,
    DOMAIN,
    EVENT_ALLOWANCE_EXCEEDED,
)
from tests.conftest import ENABLE, EXPORT, PV, base_options
from tests.discharge import (
    ENTRY_ID,
    FAKE_CUTOFF,
    FAKE_DURATION,
    FAKE_ENABLE,
    FAKE_POWER,
    Behaviour,
    FakeControls,
    async_advance,
    async_settle,
    async_setup_entry,
    async_start,
    follow_enable,
    local,
    notification_id,
    notifications,
)

# Noon in London unless a test moves; ticking, as stop retries sleep in real time. On
# the wall clock a test near midnight would see the day roll over (and starts refused).
pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00", tick=True)

OVER: Final = "sensor.export_monitor_over_export_today"
BREACH: Final = "allowance_exceeded"
ISSUE: Final = f"{BREACH}_{ENTRY_ID}"
NOTICE: Final = notification_id(BREACH)
LONDON: Final = "Europe/London"
DAYS: Final = {
    "summer": "2026-06-15",
    "spring_forward_day": "2026-03-29",
    "fall_back_day": "2026-10-25",
}
NEXT_DAYS: Final = {
    "2026-06-15": "2026-06-16",
    "2026-03-29": "2026-03-30",
    "2026-10-25": "2026-10-26",
}
FAKES: Final = {
    CONF_DISCHARGE_SWITCH_ENTITY: FAKE_ENABLE,
    CONF_DISCHARGE_POWER_ENTITY: FAKE_POWER,
    CONF_CUTOFF_SOC_ENTITY: FAKE_CUTOFF,
    CONF_DISCHARGE_DURATION_ENTITY: FAKE_DURATION,
}


@pytest.fixture
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Return the entry options, changed by an indirect parameter."""
    return {**base_options(), **getattr(request, "param", {})}


@pytest.fixture(autouse=True)
async def london(hass: HomeAssistant) -> None:
    """Run every test in the Europe/London time zone (it has summer time)."""
    await hass.config.async_set_time_zone(LONDON)


@pytest.fixture
def exceeded(hass: HomeAssistant) -> list[Event]:
    """Capture the allowance exceeded events."""
    return async_capture_events(hass, EVENT_ALLOWANCE_EXCEEDED)


def set_state(hass: HomeAssistant, entity_id: str, state: str) -> None:
    """Write a source's state, keeping its attributes."""
    hass.states.async_set(entity_id, state, hass.states.get(entity_id).attributes)


async def async_export(hass: HomeAssistant, value: str) -> None:
    """Let the export counter report `value` kWh (the allowance is 11.5 kWh)."""
    set_state(hass, EXPORT, value)
    await async_settle(hass)


def over(hass: HomeAssistant) -> tuple[str, dict[str, Any]]:
    """Return the over-export sensor's state and attributes."""
    state = hass.states.get(OVER)
    assert state is not None
    return state.state, dict(state.attributes)


def issue(hass: HomeAssistant) -> ir.IssueEntry | None:
    """Return the breach repair issue, if raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, ISSUE)


def payloads(events: list[Event]) -> list[dict[str, Any]]:
    """Return the data of each event."""
    return [dict(event.data) for event in events]


def payload(exported: float, over_kwh: float) -> dict[str, Any]:
    """Return the event data of a breach against the 11.5 kWh allowance."""
    return {
        "entry_id": ENTRY_ID,
        "exported_kwh": exported,
        "allowance_kwh": 11.5,
        "over_kwh": over_kwh,
    }


async def test_within_the_allowance_nothing_is_shown(
    hass: HomeAssistant, init_integration: MockConfigEntry, exceeded: list[Event]
) -> None:
    """Export up to the allowance, exactly at it included, is no breach."""
    await async_export(hass, "11.5")
    state, attributes = over(hass)
    assert state == "0.0"
    assert attributes["over_export_now"] == 0.0
    assert attributes["first_exceeded_at"] is None
    assert attributes["unit_of_measurement"] == "kWh"
    assert attributes["device_class"] == "energy"
    assert exceeded == []
    assert NOTICE not in notifications(hass)
    assert issue(hass) is None


async def test_idle_breach_is_told_and_recorded(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    exceeded: list[Event],
    service_calls: list[Event],
) -> None:
    """Export beyond the allowance while idle: sensor, event, notification, repair."""
    await async_export(hass, "11.8")
    assert over(hass)[0] == "0.3"
    assert over(hass)[1]["over_export_now"] == 0.3
    assert payloads(exceeded) == [payload(11.8, 0.3)]
    shown = persistent_notification._async_get_or_create_notifications(hass)  # noqa: SLF001
    assert shown[NOTICE]["title"] == "Export Monitor: Export allowance exceeded"
    assert shown[NOTICE]["message"].startswith(
        "Export today (11.800 kWh, as measured) is 0.300 kWh beyond today's"
        " allowance of 11.500 kWh"
    )
    found = issue(hass)
    assert found is not None
    assert found.translation_key == BREACH
    assert found.severity is ir.IssueSeverity.CRITICAL
    assert not found.is_fixable
    assert found.translation_placeholders == {
        "title": "Export Monitor",
        "max_over_kwh": "0.300",
        "day": "2026-06-15",
    }
    # Nothing runs and the enable entity reads off: nothing to stop.
    assert [call for call in service_calls if call.data["domain"] != DOMAIN] == []
    assert hass.states.get(ENABLE).state == "off"


async def test_breach_is_reported_again_only_when_it_grows(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    exceeded: list[Event],
) -> None:
    """One event per episode, another per 0.1 kWh of growth, another per new episode."""
    await async_export(hass, "11.8")
    await async_export(hass, "11.85")
    assert len(exceeded) == 1
    await async_export(hass, "11.95")
    assert payloads(exceeded)[1] == payload(11.95, 0.45)
    # More PV raises the allowance above the export: the episode ends (after the
    # five minutes the panels need for 1 kWh; a faster rise is not trusted).
    await async_advance(hass, freezer, 300)
    set_state(hass, PV, "13")
    await async_settle(hass)
    assert NOTICE not in notifications(hass)
    assert over(hass)[0] == "0.45"
    assert over(hass)[1]["over_export_now"] == 0.0
    assert issue(hass) is not None
    assert len(exceeded) == 2
    # Over again (12.5 kWh allowance now): a new episode, a new event and notice.
    await async_export(hass, "12.6")
    assert len(exceeded) == 3
    assert exceeded[2].data["over_kwh"] == 0.1
    assert NOTICE in notifications(hass)
    assert over(hass)[0] == "0.45"


async def test_float_noise_is_no_breach(
    hass: HomeAssistant, init_integration: MockConfigEntry, exceeded: list[Event]
) -> None:
    """Half a milliwatt-hour past the allowance is float noise; a watt-hour is not."""
    await async_export(hass, "11.5000005")
    assert exceeded == []
    await async_export(hass, "11.501")
    assert payloads(exceeded) == [payload(11.501, 0.001)]
    assert over(hass)[0] == "0.001"


async def test_running_discharge_is_stopped(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
    exceeded: list[Event],
) -> None:
    """A late meter jumps past the allowance mid-discharge: the discharge stops at once."""
    follow_enable(hass, ENABLE)
    await async_start(hass)
    await async_advance(hass, freezer, 30)
    assert hass.states.get(ENABLE).state == "on"
    await async_export(hass, "12.0")
    assert [event.data["reason"] for event in stopped] == [BREACH]
    assert hass.states.get(ENABLE).state == "off"
    assert payloads(exceeded) == [payload(12.0, 0.5)]


async def test_discharge_run_by_someone_else_is_stopped(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    exceeded: list[Event],
) -> None:
    """With no session of ours, an enable entity found on during a breach is turned off."""
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": ENABLE}, blocking=True
    )
    await async_settle(hass)
    await async_export(hass, "11.7")
    assert len(exceeded) == 1
    assert hass.states.get(ENABLE).state == "off"


@pytest.mark.parametrize("options", [FAKES], indirect=True)
async def test_unconfirmed_stop_is_left_to_its_slow_retry(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    exceeded: list[Event],
) -> None:
    """A breach stop that cannot be confirmed is retried by the stop retry, not per update."""
    await async_start(hass)
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.RAISE)
    await async_export(hass, "11.8")
    attempts = fake_controls.attempts(FAKE_ENABLE, "turn_off")
    assert attempts == 4
    await async_export(hass, "11.85")
    await async_export(hass, "11.9")
    assert fake_controls.attempts(FAKE_ENABLE, "turn_off") == attempts
    assert hass.states.get("sensor.export_monitor_error_state").state == (
        "discharge_stop_failed"
    )
    assert len(exceeded) == 2


@pytest.mark.parametrize("day", list(DAYS.values()), ids=list(DAYS))
async def test_breach_clears_at_local_midnight(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    freezer: FrozenDateTimeFactory,
    exceeded: list[Event],
    day: str,
) -> None:
    """The day's breach is shown until local midnight, then sensor, notice, repair clear."""
    freezer.move_to(local(f"{day}T23:59:00"))
    await async_setup_entry(hass, config_entry)
    await async_export(hass, "11.9")
    assert issue(hass) is not None
    assert issue(hass).translation_placeholders["day"] == day
    await async_advance(hass, freezer, 55)
    assert over(hass)[0] == "0.4"
    assert NOTICE in notifications(hass)
    # Past midnight the counters still read yesterday's totals: not today's figures.
    await async_advance(hass, freezer, 10)
    assert over(hass)[0] == "0.0"
    assert NOTICE not in notifications(hass)
    assert issue(hass) is None
    assert len(exceeded) == 1
    assert config_entry.runtime_data.coordinator.over_export_today_kwh == 0.0
    assert (
        config_entry.runtime_data.coordinator.breach.day.isoformat() == (NEXT_DAYS[day])
    )


async def test_breach_through_the_clock_change_stays_for_the_day(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A breach before the clocks go forward is still today's after 01:00 -> 02:00."""
    freezer.move_to(local("2026-03-29T00:59:00"))
    await async_setup_entry(hass, config_entry)
    await async_export(hass, "11.6")
    await async_advance(hass, freezer, 120)
    assert hass.states.get(OVER).state == "0.1"
    assert issue(hass) is not None


async def test_reload_keeps_the_days_breach_without_a_new_event(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    exceeded: list[Event],
) -> None:
    """After a reload the day's maximum, notice and repair return; the episode goes on."""
    await async_export(hass, "11.8")
    await async_advance(hass, freezer, 300)
    set_state(hass, PV, "12.5")
    await async_settle(hass)
    await async_export(hass, "12.1")
    assert len(exceeded) == 2
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await async_settle(hass)
    assert over(hass)[0] == "0.3"
    assert over(hass)[1]["over_export_now"] == 0.1
    assert NOTICE in notifications(hass)
    assert issue(hass) is not None
    assert len(exceeded) == 2


async def test_reload_after_the_breach_ended_leaves_no_notice(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A notice of an ended breach does not survive a reload; the repair does."""
    await async_export(hass, "11.8")
    await async_advance(hass, freezer, 300)
    set_state(hass, PV, "13")
    await async_settle(hass)
    assert NOTICE not in notifications(hass)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await async_settle(hass)
    assert NOTICE not in notifications(hass)
    assert issue(hass) is not None
    assert over(hass)[0] == "0.3"


async def test_record_of_an_earlier_day_is_not_shown(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    inverter: None,
) -> None:
    """A stored breach of yesterday shows nothing today."""
    key = breach_store_key(ENTRY_ID)
    hass_storage[key] = {
        "version": 1,
        "minor_version": 1,
        "key": key,
        "data": {
            "record": {
                "day": "2000-01-01",
                "over_kwh": 0.5,
                "max_over_kwh": 0.5,
                "reported_kwh": 0.5,
                "first_at": None,
            }
        },
    }
    await async_setup_entry(hass, config_entry)
    assert over(hass)[0] == "0.0"
    assert issue(hass) is None
    assert NOTICE not in notifications(hass)


async def test_record_of_a_newer_version_is_ignored(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    inverter: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A record written by a newer version is not guessed at."""
    key = breach_store_key(ENTRY_ID)
    hass_storage[key] = {
        "version": 2,
        "minor_version": 1,
        "key": key,
        "data": {"record": None},
    }
    await async_setup_entry(hass, config_entry)
    assert over(hass)[0] == "0.0"
    assert "Ignoring a breach record stored by a newer version" in caplog.text


async def test_removing_the_entry_deletes_the_record(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The stored breach record goes with the entry."""
    await async_export(hass, "11.8")
    await async_advance(hass, freezer, 10)
    assert breach_store_key(ENTRY_ID) in hass_storage
    assert await hass.config_entries.async_remove(init_integration.entry_id)
    await async_settle(hass)
    assert breach_store_key(ENTRY_ID) not in hass_storage


async def test_a_failing_detector_never_blocks_supervision(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An error in the detector is logged once; the supervisor after it still stops."""
    follow_enable(hass, ENABLE)
    # Near the allowance (an hour on, when that much export is physically possible).
    await async_advance(hass, freezer, 3600)
    await async_export(hass, "11.3")
    await async_start(hass)
    with patch.object(breach_module, "judge_breach", side_effect=ValueError("boom")):
        await async_advance(hass, freezer, 30)
        # 0.01 kWh left: less than one 10 s meter step and a reaction at 3 kW.
        await async_export(hass, "11.49")
    assert [event.data["reason"] for event in stopped] == ["headroom_exhausted"]
    assert caplog.text.count("Could not judge a snapshot for a breach") == 1
    # It works again once the error is gone.
    await async_export(hass, "11.6")
    assert over(hass)[0] == "0.1"
