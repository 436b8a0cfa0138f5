"""The integration's services: start, stop and calculate a discharge; read the history."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import voluptuous as vol

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DAYS,
    ATTR_DURATION_MINUTES,
    ATTR_POWER_KW,
    ATTR_TARGET_EXPORT_KWH,
    DEFAULT_HISTORY_DAYS,
    DOMAIN,
    SERVICE_CALCULATE_DISCHARGE,
    SERVICE_GET_HISTORY,
    SERVICE_START_DISCHARGE,
    SERVICE_STOP_DISCHARGE,
)
from .logic.control_start import StartRequest
from .logic.history import HISTORY_DAYS, parse_days
from .logic.snapshot import Source
from .logic.supervision import StopReason
from .models import ExportMonitorConfigEntry

ENTRY_SCHEMA: Final = {vol.Optional(ATTR_CONFIG_ENTRY_ID): str}
DISCHARGE_FIELDS: Final = {
    vol.Optional(ATTR_POWER_KW): vol.All(
        vol.Coerce(float), vol.Range(min=0.1, max=50.0)
    ),
    vol.Optional(ATTR_DURATION_MINUTES): vol.All(
        vol.Coerce(float), vol.Range(min=1, max=1440)
    ),
    vol.Optional(ATTR_TARGET_EXPORT_KWH): vol.All(
        vol.Coerce(float), vol.Range(min=0, min_included=False, max=1000)
    ),
}
START_SCHEMA: Final = vol.Schema({**ENTRY_SCHEMA, **DISCHARGE_FIELDS})
STOP_SCHEMA: Final = vol.Schema(ENTRY_SCHEMA)
CALCULATE_SCHEMA: Final = vol.Schema({**ENTRY_SCHEMA, **DISCHARGE_FIELDS})
# Days are checked by the handler, so a bad value gets our translated message.
HISTORY_SCHEMA: Final = vol.Schema(
    {**ENTRY_SCHEMA, vol.Optional(ATTR_DAYS, default=DEFAULT_HISTORY_DAYS): object}
)


def _resolve_entry(hass: HomeAssistant, call: ServiceCall) -> ExportMonitorConfigEntry:
    """Return the loaded entry a call names, or the only one loaded."""
    entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
    if entry_id is None:
        loaded: list[ExportMonitorConfigEntry] = (
            hass.config_entries.async_loaded_entries(DOMAIN)
        )
        if len(loaded) != 1:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="config_entry_required",
                translation_placeholders={"count": str(len(loaded))},
            )
        return loaded[0]
    entry: ExportMonitorConfigEntry | None = hass.config_entries.async_get_entry(
        entry_id
    )
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="config_entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="config_entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


def _request(call: ServiceCall, origin: str) -> StartRequest:
    """Build a start request from a call's fields."""
    return StartRequest(
        power_kw=call.data.get(ATTR_POWER_KW),
        duration_minutes=call.data.get(ATTR_DURATION_MINUTES),
        target_export_kwh=call.data.get(ATTR_TARGET_EXPORT_KWH),
        origin=origin,
    )


async def _async_start(call: ServiceCall) -> None:
    """Start a supervised discharge."""
    entry = _resolve_entry(call.hass, call)
    await entry.runtime_data.controller.async_start(_request(call, "service"))


async def _async_stop(call: ServiceCall) -> None:
    """Stop the discharge; without an entry id, every loaded monitor's."""
    entries: list[ExportMonitorConfigEntry] = (
        call.hass.config_entries.async_loaded_entries(DOMAIN)
    )
    # A user's "stop" automation must not break when a second monitor is added.
    if call.data.get(ATTR_CONFIG_ENTRY_ID) is not None or len(entries) == 1:
        entries = [_resolve_entry(call.hass, call)]
    errors: list[HomeAssistantError] = []
    for entry in entries:
        try:
            await entry.runtime_data.controller.async_stop(
                StopReason.USER, raise_on_failure=True
            )
        except HomeAssistantError as err:
            errors.append(err)
    if errors:
        raise errors[0]


async def _async_calculate(call: ServiceCall) -> ServiceResponse:
    """Return the plan a start would use, and what blocks it."""
    entry = _resolve_entry(call.hass, call)
    controller = entry.runtime_data.controller
    plan, blockers = controller.calculate(_request(call, "service"))
    snapshot = controller.coordinator.snapshot
    response: dict[str, Any] = {
        "allowance_kwh": _round(snapshot.allowance_kwh),
        "headroom_kwh": _round(snapshot.headroom_kwh),
        "exported_today_kwh": _round(snapshot.value(Source.EXPORTED_TODAY)),
        "pv_today_kwh": _round(snapshot.value(Source.PV_TODAY)),
        "soc": _round(snapshot.value(Source.SOC)),
        "power_kw": None if plan is None else _round(plan.power_kw),
        "duration_minutes": None if plan is None else _round(plan.duration_minutes),
        "energy_kwh": None if plan is None else _round(plan.energy_kwh),
        "can_start": plan is not None and not blockers,
        "blockers": blockers,
    }
    return response


async def _async_get_history(call: ServiceCall) -> ServiceResponse:
    """Return the newest daily compliance records, newest first."""
    days = parse_days(call.data[ATTR_DAYS])
    if days is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_history_days",
            translation_placeholders={
                "days": str(call.data[ATTR_DAYS]),
                "max": str(HISTORY_DAYS),
            },
        )
    entry = _resolve_entry(call.hass, call)
    response: dict[str, Any] = {"days": entry.runtime_data.history.days(days)}
    return response


def _round(value: float | None) -> float | None:
    """Round a figure for the response."""
    return None if value is None else round(value, 3)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services."""
    hass.services.async_register(
        DOMAIN, SERVICE_START_DISCHARGE, _async_start, schema=START_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_STOP_DISCHARGE, _async_stop, schema=STOP_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_CALCULATE_DISCHARGE,
        _async_calculate,
        schema=CALCULATE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_HISTORY,
        _async_get_history,
        schema=HISTORY_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
