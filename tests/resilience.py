"""Helpers for the resilience tests: services, time, notices and the monitor's entities."""

from __future__ import annotations

from datetime import datetime, timedelta
import math
from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.export_monitor.const import DOMAIN

ENTRY_ID: Final = "01JEXPORTMONITOR0000000000"
STORE_KEY: Final = f"{DOMAIN}.{ENTRY_ID}.session"
STATUS: Final = "sensor.export_monitor_discharge_status"
ERROR: Final = "sensor.export_monitor_error_state"
EXPORTED: Final = "sensor.export_monitor_exported_today"
ALLOWANCE: Final = "sensor.export_monitor_export_allowance"
HEADROOM: Final = "sensor.export_monitor_export_headroom"
STEP: Final = timedelta(seconds=5)


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
            return_response=service == "calculate_discharge",
        )
    finally:
        await async_settle(hass)


async def async_tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move time forward in 5 s steps, firing the timers and settling at each step."""
    for _ in range(math.ceil(seconds / STEP.total_seconds())):
        freezer.tick(STEP)
        async_fire_time_changed(hass)
        await async_settle(hass)


def local(text: str) -> datetime:
    """Return an aware moment of the local wall-clock time `text` (ISO, no offset)."""
    return datetime.fromisoformat(text).replace(tzinfo=dt_util.get_default_time_zone())
