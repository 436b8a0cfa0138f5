"""Checks of what the config, options and reconfigure flows are given."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Final

from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant, State, callback
from homeassistant.helpers import device_registry as dr

from .const import (
    CONF_BATTERY_POWER_ENTITY,
    CONF_DAILY_EXPORT_CAP_KWH,
    CONF_DISCHARGE_POWER_KW,
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
)
from .logic.deadman import duration_scale
from .logic.readings import ReadingProblem, parse_number
from .logic.units import Quantity, setpoint_power_scale, unit_scale
from .logic.window import parse_time
from .profiles.base import (
    NUMBER_DOMAINS,
    SELECT_DOMAINS,
    Control,
    InverterProfile,
    Role,
)

type _UnitCheck = Callable[[str | None], float | None]

_FULL_SOC: Final = 100.0


def _percent_scale(unit: str | None) -> float | None:
    """Accept a cutoff in % or without a unit."""
    return 1.0 if unit in (None, "", "%") else None


# Per source field: how its unit must convert.
_SOURCE_CHECKS: Final[dict[str, _UnitCheck]] = {
    CONF_SOC_ENTITY: partial(unit_scale, quantity=Quantity.PERCENT),
    CONF_PV_ENERGY_TODAY_ENTITY: partial(unit_scale, quantity=Quantity.ENERGY),
    CONF_EXPORT_ENERGY_TODAY_ENTITY: partial(unit_scale, quantity=Quantity.ENERGY),
    CONF_GRID_POWER_ENTITY: partial(unit_scale, quantity=Quantity.POWER),
    CONF_BATTERY_POWER_ENTITY: partial(unit_scale, quantity=Quantity.POWER),
    CONF_FORECAST_TODAY_ENTITY: partial(unit_scale, quantity=Quantity.ENERGY),
}
# Per role, a number entity's unit check and the error that names the units.
_NUMBER_UNITS: Final[dict[Role, tuple[_UnitCheck, str]]] = {
    Role.POWER: (setpoint_power_scale, "invalid_unit"),
    Role.TIMER: (duration_scale, "invalid_duration_unit"),
    Role.REPEAT: (duration_scale, "invalid_duration_unit"),
    Role.CUTOFF: (_percent_scale, "invalid_cutoff_unit"),
}
_WINDOW_KEYS: Final = (CONF_EXPORT_WINDOW_START, CONF_EXPORT_WINDOW_END)


def _number_error(state: State, unit_check: _UnitCheck, unit_error: str) -> str | None:
    """Return why a number-valued entity cannot be used, None when it can."""
    if isinstance(parse_number(state.state), ReadingProblem):
        return "not_numeric"
    if unit_check(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)) is None:
        return unit_error
    return None


def _entity_error(state: State | None, unit_check: _UnitCheck) -> str | None:
    """Return why a chosen source cannot be used, None when it can."""
    if state is None:
        return "entity_not_found"
    return _number_error(state, unit_check, "invalid_unit")


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
def async_source_errors(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Check the source sensors: present, numeric, convertible, distinct."""
    errors = _same_entity_errors(user_input)
    for key, unit_check in _SOURCE_CHECKS.items():
        if key in user_input and (
            error := _entity_error(hass.states.get(user_input[key]), unit_check)
        ):
            errors[key] = error
    return errors


def _missing_options(control: Control, state: State) -> list[str]:
    """Return the options the control needs that a select does not offer."""
    if state.domain not in SELECT_DOMAINS:
        return []
    offered = state.attributes.get("options") or ()
    return [option for option in control.options if option not in offered]


@callback
def _async_control_error(
    hass: HomeAssistant, control: Control, value: str
) -> str | None:
    """Return why the chosen entity (or device) cannot serve the control."""
    if control.role is Role.DEVICE:
        found = dr.async_get(hass).async_get(value) is not None
        return None if found else "device_not_found"
    if (state := hass.states.get(value)) is None:
        return "entity_not_found"
    if state.domain in NUMBER_DOMAINS and control.role in _NUMBER_UNITS:
        return _number_error(state, *_NUMBER_UNITS[control.role])
    return "missing_option" if _missing_options(control, state) else None


@callback
def async_control_errors(
    hass: HomeAssistant, profile: InverterProfile, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Check the inverter controls: present, numeric, in the role's unit, options offered."""
    errors: dict[str, str] = {}
    for control in profile.controls:
        value = user_input.get(control.role.value)
        if value and (error := _async_control_error(hass, control, value)):
            errors[control.role.value] = error
    return errors


@callback
def async_missing_options(
    hass: HomeAssistant, profile: InverterProfile, user_input: Mapping[str, Any]
) -> str:
    """List the select options the chosen entities lack, for the error text."""
    missing: list[str] = []
    for control in profile.controls:
        value = user_input.get(control.role.value)
        if value and (state := hass.states.get(value)) is not None:
            missing.extend(_missing_options(control, state))
    return ", ".join(missing)


@callback
def async_limits_errors(
    _hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Check the limits step; it reads no entities."""
    return _limit_errors(user_input)
