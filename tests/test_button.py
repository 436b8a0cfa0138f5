"""Tests of the start and stop buttons."""

from __future__ import annotations

from typing import Any

from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.export_monitor.const import (
    CONF_DISCHARGE_SWITCH_ENTITY,
    EVENT_DISCHARGE_STARTED,
    EVENT_DISCHARGE_STOPPED,
)
from tests.conftest import ENABLE, SOC, base_options
from tests.discharge import (
    FAKE_ENABLE,
    Behaviour,
    FakeControls,
    async_settle,
    notification_id,
    notifications,
    shown,
)

# Noon, local time: daily counters are judged against the time since midnight.
pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00", tick=True)


START = "button.export_monitor_start_discharge"
STOP = "button.export_monitor_stop_discharge"


@pytest.fixture
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Return the entry options, changed by an indirect parameter."""
    return {**base_options(), **getattr(request, "param", {})}


async def async_press(hass: HomeAssistant, entity_id: str) -> None:
    """Press a button and let its action settle."""
    try:
        await hass.services.async_call(
            "button", "press", {"entity_id": entity_id}, blocking=True
        )
    finally:
        await async_settle(hass)


async def test_buttons_exist(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Both buttons are there, named from the translations."""
    assert (
        hass.states.get(START).attributes["friendly_name"],
        hass.states.get(STOP).attributes["friendly_name"],
    ) == ("Export Monitor Start discharge", "Export Monitor Stop discharge")


async def test_start_and_stop_buttons(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The start button starts a discharge, the stop button stops it."""
    started: list[Event] = async_capture_events(hass, EVENT_DISCHARGE_STARTED)
    stopped: list[Event] = async_capture_events(hass, EVENT_DISCHARGE_STOPPED)
    await async_press(hass, START)
    assert (shown(hass)[0], hass.states.get(ENABLE).state) == ("active", "on")
    await async_press(hass, STOP)
    assert (shown(hass)[0], hass.states.get(ENABLE).state) == ("idle", "off")
    assert [event.data["reason"] for event in started + stopped] == ["button", "user"]


async def test_start_button_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A refused press raises the translated reason."""
    hass.states.async_set(SOC, "unavailable", hass.states.get(SOC).attributes)
    await async_settle(hass)
    with pytest.raises(ServiceValidationError) as exc_info:
        await async_press(hass, START)
    assert exc_info.value.translation_key == "start_blocked_soc_read_failed"
    assert hass.states.get(ENABLE).state == "off"


@pytest.mark.parametrize(
    "options",
    [{CONF_DISCHARGE_SWITCH_ENTITY: FAKE_ENABLE}],
    indirect=True,
    ids=["fake"],
)
async def test_stop_button_reports_a_failed_stop(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
) -> None:
    """A stop press that cannot be confirmed raises; a later press that works clears it."""
    await async_press(hass, START)
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.RAISE)
    with pytest.raises(HomeAssistantError) as exc_info:
        await async_press(hass, STOP)
    assert exc_info.value.translation_key == "discharge_stop_failed"
    assert notification_id("discharge_stop_failed") in notifications(hass)
    assert shown(hass)[:2] == ("active", "discharge_stop_failed")
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.OBEY)
    await async_press(hass, STOP)
    assert shown(hass)[:2] == ("idle", "none")
    assert notification_id("discharge_stop_failed") not in notifications(hass)
