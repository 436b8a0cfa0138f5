"""Tests of the services: entry resolution, schemas, start/stop and calculate."""

from __future__ import annotations

from typing import Any

from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
import voluptuous as vol

from custom_components.export_monitor.const import (
    CONF_DISCHARGE_SWITCH_ENTITY,
    DEFAULT_TITLE,
    DOMAIN,
    EVENT_DISCHARGE_STARTED,
)
from tests.conftest import ENABLE, SOC, base_options
from tests.discharge import ENTRY_ID, async_call, async_settle, shown

# A fixed noon: on the wall clock, the last 30 s before local midnight refuse starts.
pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")

OTHER_ID = "01JEXPORTMONITOR0000000001"
HEALTHY = {
    "allowance_kwh": 11.5,
    "headroom_kwh": 8.5,
    "exported_today_kwh": 3.0,
    "pv_today_kwh": 12.0,
    "soc": 80.0,
    "power_kw": 3.0,
    "duration_minutes": 120.0,
    "energy_kwh": 6.0,
    "can_start": True,
    "blockers": [],
}


OTHER_ENABLE = "input_boolean.other_discharge"


def other_entry(hass: HomeAssistant) -> MockConfigEntry:
    """Return a second monitor entry over the same sources, with its own enable entity."""
    # Two monitors driving one enable entity would each see the other's discharge as
    # running unsupervised, and turn it off.
    hass.states.async_set(OTHER_ENABLE, "off")
    return MockConfigEntry(
        domain=DOMAIN,
        title=DEFAULT_TITLE,
        data={},
        options={**base_options(), CONF_DISCHARGE_SWITCH_ENTITY: OTHER_ENABLE},
        version=1,
        minor_version=1,
        entry_id=OTHER_ID,
    )


async def async_refused(hass: HomeAssistant, service: str, **data: Any) -> str:
    """Call a service that must be refused; return the translation key."""
    with pytest.raises(ServiceValidationError) as exc_info:
        await async_call(hass, service, **data)
    return str(exc_info.value.translation_key)


# -- which entry -------------------------------------------------------------------------

SERVICES = ["start_discharge", "stop_discharge", "calculate_discharge", "get_history"]
# stop_discharge without an entry stops every loaded monitor.
NEED_AN_ENTRY = ["start_discharge", "calculate_discharge", "get_history"]


@pytest.mark.parametrize("service", SERVICES, ids=SERVICES)
async def test_unknown_entry_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, service: str
) -> None:
    """A config_entry_id no monitor has is refused."""
    key = await async_refused(hass, service, config_entry_id="no_such_entry")
    assert key == "config_entry_not_found"


async def test_entry_of_another_integration_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A config_entry_id of another integration is refused as not found."""
    foreign = MockConfigEntry(domain="input_boolean", entry_id="foreign")
    foreign.add_to_hass(hass)
    key = await async_refused(hass, "start_discharge", config_entry_id="foreign")
    assert key == "config_entry_not_found"


@pytest.mark.parametrize("service", SERVICES, ids=SERVICES)
async def test_entry_not_loaded_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, service: str
) -> None:
    """An entry that exists but is not loaded is refused."""
    entry = other_entry(hass)
    entry.add_to_hass(hass)
    key = await async_refused(hass, service, config_entry_id=OTHER_ID)
    assert key == "config_entry_not_loaded"


@pytest.mark.parametrize("service", NEED_AN_ENTRY, ids=NEED_AN_ENTRY)
async def test_entry_is_required_when_two_are_loaded(
    hass: HomeAssistant, init_integration: MockConfigEntry, service: str
) -> None:
    """With two monitors loaded a call must say which one."""
    entry = other_entry(hass)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(OTHER_ID)
    await async_settle(hass)
    assert await async_refused(hass, service) == "config_entry_required"


async def test_entry_is_required_when_none_is_loaded(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """With no monitor loaded a call without an entry is refused."""
    assert await hass.config_entries.async_unload(ENTRY_ID)
    await async_settle(hass)
    assert await async_refused(hass, "start_discharge") == "config_entry_required"


async def test_named_entry_is_used(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """With two monitors loaded, the named one starts and stops."""
    started = async_capture_events(hass, EVENT_DISCHARGE_STARTED)
    entry = other_entry(hass)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(OTHER_ID)
    await async_settle(hass)
    await async_call(hass, "start_discharge", config_entry_id=ENTRY_ID)
    assert [event.data["entry_id"] for event in started] == [ENTRY_ID]
    assert hass.states.get(ENABLE).state == "on"
    await async_call(hass, "stop_discharge", config_entry_id=ENTRY_ID)
    assert hass.states.get(ENABLE).state == "off"


# -- schemas ---------------------------------------------------------------------------

OUT_OF_RANGE = {
    "power_too_small": ("start_discharge", {"power_kw": 0.05}),
    "power_too_large": ("start_discharge", {"power_kw": 51}),
    "duration_zero": ("start_discharge", {"duration_minutes": 0}),
    "duration_over_a_day": ("start_discharge", {"duration_minutes": 1441}),
    "target_zero": ("start_discharge", {"target_export_kwh": 0}),
    "target_negative": ("start_discharge", {"target_export_kwh": -1}),
    "power_not_a_number": ("start_discharge", {"power_kw": "lots"}),
    "calculate_power_too_large": ("calculate_discharge", {"power_kw": 51}),
    "stop_takes_no_power": ("stop_discharge", {"power_kw": 3}),
}


@pytest.mark.parametrize(
    ("service", "data"), list(OUT_OF_RANGE.values()), ids=list(OUT_OF_RANGE)
)
async def test_schema_rejects_bad_fields(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    service: str,
    data: dict[str, Any],
) -> None:
    """Fields out of their range are rejected before anything is done."""
    with pytest.raises(vol.Invalid):
        await async_call(hass, service, **data)
    assert hass.states.get(ENABLE).state == "off"


IN_RANGE = {
    "smallest": {"power_kw": 0.1, "duration_minutes": 1, "target_export_kwh": 0.001},
    "largest": {"power_kw": 50, "duration_minutes": 1440, "target_export_kwh": 1000},
}


@pytest.mark.parametrize("data", list(IN_RANGE.values()), ids=list(IN_RANGE))
async def test_schema_accepts_the_range_ends(
    hass: HomeAssistant, init_integration: MockConfigEntry, data: dict[str, Any]
) -> None:
    """The ends of each field's range are accepted."""
    response = await async_call(hass, "calculate_discharge", **data)
    assert response["power_kw"] == data["power_kw"]


# -- calculate ---------------------------------------------------------------------------


async def test_calculate_when_healthy(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A healthy monitor returns the figures, the plan and can_start."""
    assert await async_call(hass, "calculate_discharge") == HEALTHY


async def test_calculate_follows_the_request(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Power, duration and target given to calculate shape the plan."""
    response = await async_call(
        hass, "calculate_discharge", power_kw=2, duration_minutes=30
    )
    assert (
        response["power_kw"],
        response["duration_minutes"],
        response["energy_kwh"],
    ) == (2.0, 30.0, 1.0)


BLOCKED = {
    "soc_at_min": (
        "20",
        {
            **HEALTHY,
            "soc": 20.0,
            "duration_minutes": 0.0,
            "energy_kwh": 0.0,
            "can_start": False,
            "blockers": ["soc_at_min"],
        },
    ),
    "soc_unreadable": (
        "unavailable",
        {
            **HEALTHY,
            "soc": None,
            "power_kw": None,
            "duration_minutes": None,
            "energy_kwh": None,
            "can_start": False,
            "blockers": ["soc_read_failed"],
        },
    ),
}


@pytest.mark.parametrize(("soc", "expected"), list(BLOCKED.values()), ids=list(BLOCKED))
async def test_calculate_when_blocked(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    soc: str,
    expected: dict[str, Any],
) -> None:
    """A blocked monitor says why it cannot start, and changes nothing."""
    hass.states.async_set(SOC, soc, hass.states.get(SOC).attributes)
    await async_settle(hass)
    assert await async_call(hass, "calculate_discharge") == expected
    assert hass.states.get(ENABLE).state == "off"


# -- start and stop ---------------------------------------------------------------------


async def test_start_and_stop_through_the_services(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """start_discharge and stop_discharge drive the discharge status."""
    events: list[Event] = async_capture_events(hass, EVENT_DISCHARGE_STARTED)
    await async_call(hass, "start_discharge", power_kw=2.5)
    assert shown(hass) == ("active", "none", "healthy")
    assert [event.data["power_kw"] for event in events] == [2.5]
    await async_call(hass, "stop_discharge")
    assert shown(hass) == ("idle", "none", "healthy")


async def test_refused_start_is_translated(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A refused start raises a translated error saying why."""
    hass.states.async_set(SOC, "20", hass.states.get(SOC).attributes)
    await async_settle(hass)
    with pytest.raises(ServiceValidationError) as exc_info:
        await async_call(hass, "start_discharge")
    assert exc_info.value.translation_key == "start_blocked_soc_at_min"
    assert str(exc_info.value) == (
        "Cannot start: the battery is at or below the minimum SOC"
    )
