"""Tests of the automatic discharge switch."""

from __future__ import annotations

from homeassistant.core import Event, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.export_monitor.const import (
    CONF_AUTO_DISCHARGE,
    EVENT_DISCHARGE_STARTED,
)
from tests.conftest import ENABLE
from tests.discharge import async_settle, shown

# Noon, local time: daily counters are judged against the time since midnight.
pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00", tick=True)


AUTO = "switch.export_monitor_auto_discharge"


async def async_switch(hass: HomeAssistant, service: str) -> None:
    """Turn the auto switch on or off."""
    await hass.services.async_call(
        "switch", service, {"entity_id": AUTO}, blocking=True
    )
    await async_settle(hass)


async def test_switch_is_off_by_default(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Automatic discharge is off unless the user turns it on."""
    assert hass.states.get(AUTO).state == "off"


@pytest.mark.parametrize(
    ("service", "state", "saved"),
    [("turn_on", "on", True), ("turn_off", "off", False)],
    ids=["on", "off"],
)
async def test_switch_saves_the_option(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    service: str,
    state: str,
    saved: bool,
) -> None:
    """Switching saves auto_discharge in the entry options."""
    await async_switch(hass, service)
    assert hass.states.get(AUTO).state == state
    assert init_integration.options[CONF_AUTO_DISCHARGE] is saved


async def test_turning_on_starts_inside_the_window(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Turning automatic discharge on starts a discharge when everything allows it."""
    started: list[Event] = async_capture_events(hass, EVENT_DISCHARGE_STARTED)
    await async_switch(hass, "turn_on")
    assert [event.data["reason"] for event in started] == ["auto"]
    assert (hass.states.get(ENABLE).state, shown(hass)[0]) == ("on", "active")


async def test_turning_off_leaves_a_running_discharge(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Turning automatic discharge off does not stop a discharge already running."""
    await async_switch(hass, "turn_on")
    await async_switch(hass, "turn_off")
    assert (hass.states.get(ENABLE).state, shown(hass)[0]) == ("on", "active")
