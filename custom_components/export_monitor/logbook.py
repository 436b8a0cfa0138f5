"""Logbook lines for the discharge started and stopped events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_DISCHARGE_STARTED, EVENT_DISCHARGE_STOPPED

type DescribeEvent = Callable[[str, str, Callable[[Event], dict[str, str]]], None]


@callback
def async_describe_events(
    hass: HomeAssistant, async_describe_event: DescribeEvent
) -> None:
    """Describe our events in the logbook."""

    @callback
    def describe_started(event: Event[Any]) -> dict[str, str]:
        """Describe a start."""
        data = event.data
        return {
            LOGBOOK_ENTRY_NAME: "Export Monitor",
            LOGBOOK_ENTRY_MESSAGE: (
                f"started a forced discharge at {data.get('power_kw')} kW "
                f"({data.get('reason')})"
            ),
        }

    @callback
    def describe_stopped(event: Event[Any]) -> dict[str, str]:
        """Describe a stop."""
        data = event.data
        return {
            LOGBOOK_ENTRY_NAME: "Export Monitor",
            LOGBOOK_ENTRY_MESSAGE: (
                f"stopped the forced discharge ({data.get('reason')}) after "
                f"exporting {data.get('exported_kwh')} kWh"
            ),
        }

    async_describe_event(DOMAIN, EVENT_DISCHARGE_STARTED, describe_started)
    async_describe_event(DOMAIN, EVENT_DISCHARGE_STOPPED, describe_stopped)
