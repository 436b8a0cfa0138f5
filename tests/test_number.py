"""Tests of the tunables: min SOC, safety margin and discharge power."""

from __future__ import annotations

from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.export_monitor.const import (
    CONF_DISCHARGE_POWER_KW,
    CONF_MIN_SOC,
    CONF_SAFETY_MARGIN_KWH,
)
from tests.conftest import POWER
from tests.discharge import HEADROOM, async_settle, async_start, shown

# Noon, local time: daily counters are judged against the time since midnight.
pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00", tick=True)


MIN_SOC = "number.export_monitor_min_soc"
MARGIN = "number.export_monitor_safety_margin"
DISCHARGE_POWER = "number.export_monitor_discharge_power"
DURATION_SENSOR = "sensor.export_monitor_calculated_duration"


async def async_set_number(hass: HomeAssistant, entity_id: str, value: float) -> None:
    """Set one of our numbers through the number service."""
    await hass.services.async_call(
        "number", "set_value", {"entity_id": entity_id, "value": value}, blocking=True
    )
    await async_settle(hass)


async def test_numbers_show_the_options(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Each number shows its option, or the contract default."""
    assert (
        hass.states.get(MIN_SOC).state,
        hass.states.get(MARGIN).state,
        hass.states.get(DISCHARGE_POWER).state,
    ) == ("20.0", "0.5", "3.0")


SETTINGS = {
    "min_soc": (MIN_SOC, 85, CONF_MIN_SOC),
    "safety_margin": (MARGIN, 1.5, CONF_SAFETY_MARGIN_KWH),
    "discharge_power": (DISCHARGE_POWER, 2, CONF_DISCHARGE_POWER_KW),
}


@pytest.mark.parametrize(
    ("entity_id", "value", "option"), list(SETTINGS.values()), ids=list(SETTINGS)
)
async def test_number_saves_its_option(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_id: str,
    value: float,
    option: str,
) -> None:
    """A new value is saved in the entry options and shown."""
    await async_set_number(hass, entity_id, value)
    assert init_integration.options[option] == value
    assert float(hass.states.get(entity_id).state) == value


async def test_safety_margin_changes_the_headroom_at_once(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A larger margin shrinks the headroom right away (12 - 1.5 - 3 kWh)."""
    assert hass.states.get(HEADROOM).state == "8.5"
    await async_set_number(hass, MARGIN, 1.5)
    assert hass.states.get(HEADROOM).state == "7.5"


async def test_min_soc_blocks_at_once(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A min SOC above the battery's SOC blocks a start right away."""
    await async_set_number(hass, MIN_SOC, 85)
    assert shown(hass)[0] == "blocked"
    assert hass.states.get("sensor.export_monitor_discharge_status").attributes[
        "blockers"
    ] == ["soc_at_min"]


async def test_discharge_power_is_used_at_once(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A new default power changes the planned duration and the power written."""
    await async_set_number(hass, DISCHARGE_POWER, 2)
    assert hass.states.get(DURATION_SENSOR).state == "180.0"
    calls: list[Event] = async_capture_events(hass, EVENT_CALL_SERVICE)
    await async_start(hass)
    assert {"entity_id": POWER, "value": 2.0} in [
        call.data["service_data"] for call in calls
    ]


async def test_number_out_of_range_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A value outside the number's range changes nothing."""
    with pytest.raises(ServiceValidationError):
        await async_set_number(hass, MIN_SOC, 100)
    assert init_integration.options.get(CONF_MIN_SOC) is None
