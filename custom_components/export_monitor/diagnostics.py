"""Diagnostics download: options, source states, the snapshot and the history, redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import DEFAULT_HISTORY_DAYS
from .logic.snapshot import battery_discharge_kw, export_power_kw
from .models import ExportMonitorConfigEntry

# Titles can carry names. Entity ids stay: without them no report can be followed.
TO_REDACT = {"title"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ExportMonitorConfigEntry
) -> dict[str, Any]:
    """Return the entry's options and settings, sources, snapshot, status and history."""
    coordinator = entry.runtime_data.coordinator
    history = entry.runtime_data.history
    view = coordinator.view()
    sources = {
        source.value: _state(hass, entity_id)
        for source, entity_id in coordinator.sources.items()
    }
    return async_redact_data(
        {
            "entry": {"title": entry.title, "options": dict(entry.options)},
            "settings": _jsonable(asdict(view.settings)),
            "sources": sources,
            "snapshot": _jsonable(asdict(view.snapshot)),
            # Signed as the decisions use them, to check the sign options.
            "export_power_kw": export_power_kw(view.snapshot, view.settings),
            "battery_discharge_kw": battery_discharge_kw(view.snapshot, view.settings),
            "controller": _jsonable(asdict(view.controller)),
            "breach": None if view.breach is None else _jsonable(asdict(view.breach)),
            "over_export_today_kwh": view.over_export_today_kwh,
            "health": view.health,
            "error_state": view.error_state,
            "blockers": list(view.blockers),
            "read_breaker": _jsonable(asdict(view.read_breaker)),
            "action_breaker": _jsonable(asdict(view.action_breaker)),
            "history": {
                "compliant_days": history.history.compliant_days,
                "days": history.days(DEFAULT_HISTORY_DAYS),
            },
        },
        TO_REDACT,
    )


def _state(hass: HomeAssistant, entity_id: str) -> dict[str, Any] | None:
    """Return a source's state and unit, or None when it does not exist."""
    state = hass.states.get(entity_id)
    if state is None:
        return None
    return {
        "entity_id": entity_id,
        "state": state.state,
        "unit_of_measurement": state.attributes.get("unit_of_measurement"),
        "last_reported": state.last_reported.isoformat(),
    }


def _jsonable(value: Any) -> Any:
    """Turn dates and nested mappings with enum keys into JSON-friendly values."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
