"""Config, options and reconfigure flows of the Energy Export Monitor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
    OptionsFlowWithReload,
)
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant, State, callback
import voluptuous as vol

from .config_schema import CONTROLS_SCHEMA, LIMITS_SCHEMA, SOURCES_SCHEMA
from .const import (
    CONF_BATTERY_POWER_ENTITY,
    CONF_CUTOFF_SOC_ENTITY,
    CONF_DAILY_EXPORT_CAP_KWH,
    CONF_DISCHARGE_DURATION_ENTITY,
    CONF_DISCHARGE_POWER_ENTITY,
    CONF_DISCHARGE_POWER_KW,
    CONF_DISCHARGE_SWITCH_ENTITY,
    CONF_EXPORT_ENERGY_TODAY_ENTITY,
    CONF_EXPORT_WINDOW_END,
    CONF_EXPORT_WINDOW_START,
    CONF_FORECAST_TODAY_ENTITY,
    CONF_GRID_POWER_ENTITY,
    CONF_INVERTER_MAX_POWER_KW,
    CONF_MIN_SOC,
    CONF_PV_ENERGY_TODAY_ENTITY,
    CONF_SAFETY_MARGIN_KWH,
    CONF_SOC_ENTITY,
    DEFAULT_TITLE,
    DOMAIN,
)
from .logic.deadman import duration_scale
from .logic.readings import ReadingProblem, parse_number
from .logic.units import Quantity, setpoint_power_scale, unit_scale
from .logic.window import parse_time
from .models import ExportMonitorConfigEntry
from .profiles.options import flat_options, migrate_flat_options

type _UnitCheck = Callable[[str | None], float | None]
type _Validator = Callable[[HomeAssistant, Mapping[str, Any]], dict[str, str]]

_FULL_SOC: Final = 100.0


def _any_unit(_unit: str | None) -> float:
    """Accept any unit: the value is used as a plain number."""
    return 1.0


# Per entity field: how its unit must convert; None means "must exist" only.
_SOURCE_CHECKS: Final[dict[str, _UnitCheck | None]] = {
    CONF_SOC_ENTITY: partial(unit_scale, quantity=Quantity.PERCENT),
    CONF_PV_ENERGY_TODAY_ENTITY: partial(unit_scale, quantity=Quantity.ENERGY),
    CONF_EXPORT_ENERGY_TODAY_ENTITY: partial(unit_scale, quantity=Quantity.ENERGY),
    CONF_GRID_POWER_ENTITY: partial(unit_scale, quantity=Quantity.POWER),
    CONF_BATTERY_POWER_ENTITY: partial(unit_scale, quantity=Quantity.POWER),
    CONF_FORECAST_TODAY_ENTITY: partial(unit_scale, quantity=Quantity.ENERGY),
}
_CONTROL_CHECKS: Final[dict[str, _UnitCheck | None]] = {
    CONF_DISCHARGE_SWITCH_ENTITY: None,
    CONF_DISCHARGE_POWER_ENTITY: setpoint_power_scale,
    CONF_CUTOFF_SOC_ENTITY: _any_unit,
    CONF_DISCHARGE_DURATION_ENTITY: duration_scale,
}
# Fields whose unit error says more than the generic one.
_UNIT_ERRORS: Final = {CONF_DISCHARGE_DURATION_ENTITY: "invalid_duration_unit"}
_WINDOW_KEYS: Final = (CONF_EXPORT_WINDOW_START, CONF_EXPORT_WINDOW_END)
# Two entries reading the same battery and export meter would fight over one rule.
_IDENTITY_KEYS: Final = (CONF_SOC_ENTITY, CONF_EXPORT_ENERGY_TODAY_ENTITY)


def _entity_error(state: State | None, unit_check: _UnitCheck | None) -> str | None:
    """Return why a chosen entity cannot be used, None when it can."""
    if state is None:
        return "entity_not_found"
    if unit_check is None:
        return None
    if isinstance(parse_number(state.state), ReadingProblem):
        return "not_numeric"
    if unit_check(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)) is None:
        return "invalid_unit"
    return None


@callback
def _async_entity_errors(
    hass: HomeAssistant,
    user_input: Mapping[str, Any],
    checks: Mapping[str, _UnitCheck | None],
) -> dict[str, str]:
    """Check every entity chosen in a step, keyed by field."""
    errors: dict[str, str] = {}
    for key, unit_check in checks.items():
        if key in user_input and (
            error := _entity_error(hass.states.get(user_input[key]), unit_check)
        ):
            errors[key] = (
                _UNIT_ERRORS.get(key, error) if error == "invalid_unit" else error
            )
    return errors


def _same_entity_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Flag each source field that repeats an entity chosen above it."""
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for key in filter(user_input.__contains__, _SOURCE_CHECKS):
        if user_input[key] in seen:
            errors[key] = "same_entity"
        seen.add(user_input[key])
    return errors


def _limit_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Check the limits that the schema alone cannot express."""
    errors: dict[str, str] = {}
    if user_input[CONF_MIN_SOC] >= _FULL_SOC:
        errors[CONF_MIN_SOC] = "min_soc_too_high"
    inverter_max = user_input.get(CONF_INVERTER_MAX_POWER_KW)
    if inverter_max is not None and inverter_max < user_input[CONF_DISCHARGE_POWER_KW]:
        errors[CONF_INVERTER_MAX_POWER_KW] = "inverter_max_below_power"
    cap = user_input.get(CONF_DAILY_EXPORT_CAP_KWH)
    if cap is not None and cap <= user_input[CONF_SAFETY_MARGIN_KWH]:
        errors[CONF_DAILY_EXPORT_CAP_KWH] = "cap_below_margin"
    for key in _WINDOW_KEYS:
        if parse_time(user_input[key]) is None:
            errors[key] = "invalid_time"
    return errors


@callback
def _async_source_errors(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Check the source sensors: present, numeric, convertible, distinct."""
    return _same_entity_errors(user_input) | _async_entity_errors(
        hass, user_input, _SOURCE_CHECKS
    )


@callback
def _async_control_errors(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Check the inverter controls: present, numeric, convertible."""
    return _async_entity_errors(hass, user_input, _CONTROL_CHECKS)


@callback
def _async_limits_errors(
    _hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Check the limits step; it reads no entities."""
    return _limit_errors(user_input)


@dataclass(frozen=True, slots=True)
class _Step:
    """One form of the flows: its fields and how their input is checked."""

    schema: vol.Schema
    validate: _Validator


_SOURCES: Final = _Step(SOURCES_SCHEMA, _async_source_errors)
_CONTROLS: Final = _Step(CONTROLS_SCHEMA, _async_control_errors)
_LIMITS: Final = _Step(LIMITS_SCHEMA, _async_limits_errors)


def _merge(options: dict[str, Any], step: _Step, user_input: Mapping[str, Any]) -> None:
    """Replace a step's fields in the options; a cleared optional field goes away."""
    for marker in step.schema.schema:
        options.pop(marker.schema, None)
    options.update(user_input)


@callback
def _async_form_or_merge(
    flow: ConfigFlow | OptionsFlow,
    step_id: str,
    step: _Step,
    options: dict[str, Any],
    user_input: dict[str, Any] | None,
) -> ConfigFlowResult | None:
    """Return the step's form, or None once valid input is merged into options."""
    if user_input is None:
        return _form(flow, step_id, step, options, {})
    if errors := step.validate(flow.hass, user_input):
        return _form(flow, step_id, step, user_input, errors)
    _merge(options, step, user_input)
    return None


def _form(
    flow: ConfigFlow | OptionsFlow,
    step_id: str,
    step: _Step,
    values: Mapping[str, Any],
    errors: dict[str, str],
) -> ConfigFlowResult:
    """Show a step's form pre-filled with values."""
    return flow.async_show_form(
        step_id=step_id,
        data_schema=flow.add_suggested_values_to_schema(step.schema, values),
        errors=errors,
    )


def _identity(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return what makes two monitors the same: battery SOC and export meter."""
    return {key: options[key] for key in _IDENTITY_KEYS}


class ExportMonitorConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a monitor in three steps: sources, controls, limits."""

    VERSION = 1
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Start with nothing chosen."""
        self._options: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: ExportMonitorConfigEntry,
    ) -> ExportMonitorOptionsFlow:
        """Return the options flow, which edits every option."""
        return ExportMonitorOptionsFlow(config_entry)

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the sensors the monitor reads."""
        if form := _async_form_or_merge(
            self, "user", _SOURCES, self._options, user_input
        ):
            return form
        self._async_abort_entries_match(_identity(self._options))
        return await self.async_step_controls()

    async def async_step_controls(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the inverter entities that run a forced discharge."""
        if form := _async_form_or_merge(
            self, "controls", _CONTROLS, self._options, user_input
        ):
            return form
        return await self.async_step_limits()

    async def async_step_limits(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set the limits and behaviour, then create the entry."""
        if form := _async_form_or_merge(
            self, "limits", _LIMITS, self._options, user_input
        ):
            return form
        return self.async_create_entry(
            title=DEFAULT_TITLE, data={}, options=migrate_flat_options(self._options)
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the sensors of an existing monitor."""
        entry = self._get_reconfigure_entry()
        self._options = self._options or flat_options(entry.options)
        if form := _async_form_or_merge(
            self, "reconfigure", _SOURCES, self._options, user_input
        ):
            return form
        self._async_abort_entries_match(_identity(self._options))
        return await self.async_step_reconfigure_controls()

    async def async_step_reconfigure_controls(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the inverter controls, then save and reload."""
        if form := _async_form_or_merge(
            self, "reconfigure_controls", _CONTROLS, self._options, user_input
        ):
            return form
        return self.async_update_reload_and_abort(
            self._get_reconfigure_entry(), options=migrate_flat_options(self._options)
        )


class ExportMonitorOptionsFlow(OptionsFlowWithReload):
    """Edit every option in the setup's three steps; saving reloads the entry."""

    def __init__(self, config_entry: ExportMonitorConfigEntry) -> None:
        """Start from the entry's current options."""
        self._options = flat_options(config_entry.options)

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the sensors the monitor reads."""
        if form := _async_form_or_merge(
            self, "init", _SOURCES, self._options, user_input
        ):
            return form
        self._async_abort_entries_match(_identity(self._options))
        return await self.async_step_controls()

    async def async_step_controls(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the inverter controls."""
        if form := _async_form_or_merge(
            self, "controls", _CONTROLS, self._options, user_input
        ):
            return form
        return await self.async_step_limits()

    async def async_step_limits(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the limits and behaviour, then save."""
        if form := _async_form_or_merge(
            self, "limits", _LIMITS, self._options, user_input
        ):
            return form
        return self.async_create_entry(data=migrate_flat_options(self._options))
