"""A profile and its controls in an entry's options, and the move from the flat keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..const import (
    CONF_CONTROLS,
    CONF_CUTOFF_SOC_ENTITY,
    CONF_DISCHARGE_DURATION_ENTITY,
    CONF_DISCHARGE_POWER_ENTITY,
    CONF_DISCHARGE_SWITCH_ENTITY,
    CONF_PROFILE,
)
from . import DEFAULT_PROFILE, PROFILES
from .base import InverterProfile, Role

# Minor version 1 named the generic profile's controls by these flat keys.
FLAT_KEYS: Final[Mapping[str, Role]] = {
    CONF_DISCHARGE_SWITCH_ENTITY: Role.ENABLE,
    CONF_DISCHARGE_POWER_ENTITY: Role.POWER,
    CONF_CUTOFF_SOC_ENTITY: Role.CUTOFF,
    CONF_DISCHARGE_DURATION_ENTITY: Role.TIMER,
}


def controls(options: Mapping[str, Any]) -> Mapping[Role, str]:
    """Return the chosen control of each role; roles left unset are absent."""
    stored = options.get(CONF_CONTROLS)
    if not isinstance(stored, Mapping):
        return _flat_controls(options)
    roles = {role.value: role for role in Role}
    return {
        roles[key]: str(value)
        for key, value in stored.items()
        if key in roles and value
    }


def profile(options: Mapping[str, Any]) -> InverterProfile:
    """Return the entry's profile; the generic one when none (or an unknown) is named."""
    key = options.get(CONF_PROFILE, DEFAULT_PROFILE)
    return PROFILES.get(str(key), PROFILES[DEFAULT_PROFILE])


def migrate_flat_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return minor version 1 options as minor version 2: the generic profile's controls."""
    migrated = {key: value for key, value in options.items() if key not in FLAT_KEYS}
    migrated[CONF_PROFILE] = DEFAULT_PROFILE
    migrated[CONF_CONTROLS] = {
        role.value: entity for role, entity in controls(options).items()
    }
    return migrated


def flat_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return options with the generic profile's controls under their flat keys."""
    chosen = controls(options)
    flat = {
        key: value
        for key, value in options.items()
        if key not in (CONF_PROFILE, CONF_CONTROLS)
    }
    return flat | {
        key: chosen[role] for key, role in FLAT_KEYS.items() if role in chosen
    }


def _flat_controls(options: Mapping[str, Any]) -> dict[Role, str]:
    """Return the controls named by the flat keys that are set."""
    return {
        role: str(options[key]) for key, role in FLAT_KEYS.items() if options.get(key)
    }
