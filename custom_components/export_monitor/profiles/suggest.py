"""What the config flow asks for a profile's controls, and what it suggests (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .base import Control, InverterProfile, Role


@dataclass(frozen=True, kw_only=True, slots=True)
class RegistryRow:
    """What a suggestion needs of one entity registry entry."""

    entity_id: str
    platform: str  # the integration that provides the entity
    unique_id: str
    device_id: str | None = None


def is_required(profile: InverterProfile, control: Control) -> bool:
    """Return whether the flow requires the control: the SOC floor needs the cutoff."""
    return control.required or (control.role is Role.CUTOFF and profile.needs_soc_floor)


def _ends_with(row: RegistryRow, suffix: str) -> bool:
    """Return whether the row's unique id or entity id ends with the suffix."""
    suffix = suffix.lower()
    return row.unique_id.lower().endswith(suffix) or row.entity_id.endswith(suffix)


def _matches(control: Control, row: RegistryRow) -> bool:
    """Return whether the row is the integration's entity for this control."""
    if control.integration is None or control.suffix is None:
        return False
    if row.platform != control.integration or not _ends_with(row, control.suffix):
        return False
    # A device role names an entity of that device; the entity's domain is free.
    if control.role is Role.DEVICE:
        return row.device_id is not None
    return row.entity_id.partition(".")[0] in control.domains


def _candidates(control: Control, rows: Iterable[RegistryRow]) -> list[RegistryRow]:
    """Return the rows that fit a control, the shortest id first.

    The shortest id first: the plain name before a second inverter's.
    """
    fitting = (row for row in rows if _matches(control, row))
    return sorted(fitting, key=lambda r: (len(r.entity_id), r.entity_id))


def _inverter_device(
    profile: InverterProfile, rows: Iterable[RegistryRow]
) -> str | None:
    """Return the device that holds the most of the profile's entity controls.

    A tie goes to the device met first (its controls' shortest ids). A short name
    of another device of the same integration (a thermostat's "mode" over MQTT)
    then does not win over the inverter's own entity.
    """
    listed = tuple(rows)
    held: dict[str, set[Role]] = {}
    for control in profile.controls:
        if control.role is Role.DEVICE:
            continue
        for row in _candidates(control, listed):
            if row.device_id is not None:
                held.setdefault(row.device_id, set()).add(control.role)
    return max(held, key=lambda device: len(held[device]), default=None)


def _suggest(
    control: Control, rows: Iterable[RegistryRow], device: str | None
) -> str | None:
    """Return the entity (or device) id for one control, None when none fits.

    An entity on the inverter's device comes first, then any other that fits.
    """
    candidates = _candidates(control, rows)
    if control.role is not Role.DEVICE:
        candidates.sort(key=lambda row: row.device_id != device)  # stable: keeps order
    if not candidates:
        return None
    row = candidates[0]
    return row.device_id if control.role is Role.DEVICE else row.entity_id


def _device_of(
    entity_ids: Iterable[str | None], rows: Iterable[RegistryRow]
) -> str | None:
    """Return the device of the first suggested entity that has one."""
    devices = {row.entity_id: row.device_id for row in rows}
    return next(filter(None, (devices.get(e or "") for e in entity_ids)), None)


def suggest_controls(
    profile: InverterProfile, rows: Iterable[RegistryRow]
) -> dict[str, str]:
    """Suggest an entity id (a device id for the device role) per control, by role."""
    listed = tuple(rows)
    device = _inverter_device(profile, listed)
    found = {
        control.role: _suggest(control, listed, device) for control in profile.controls
    }
    # A device role without a suffix of its own: the device of the other controls.
    if Role.DEVICE in found and found[Role.DEVICE] is None:
        found[Role.DEVICE] = _device_of(found.values(), listed)
    return {role.value: value for role, value in found.items() if value is not None}


def suggested_values(
    stored: Mapping[str, str], same_profile: bool, registry: Mapping[str, str]
) -> dict[str, str]:
    """Pre-fill the controls form: the stored choice for the same profile, else the registry's."""
    if same_profile:
        return dict(stored)
    # A role the registry cannot fill keeps what was chosen for the old profile.
    return {**stored, **registry}


def _fits(profile: InverterProfile, found: Mapping[str, str]) -> bool:
    """Return whether every required control of the profile's integration was found."""
    return all(
        control.role.value in found
        for control in profile.controls
        if control.integration and is_required(profile, control)
    )


def suggest_profile(
    profiles: Mapping[str, InverterProfile], rows: Iterable[RegistryRow], default: str
) -> str:
    """Suggest the profile whose required controls the registry holds, most found first."""
    listed = tuple(rows)
    found = {key: suggest_controls(p, listed) for key, p in profiles.items()}
    scores = {
        key: len(controls) if _fits(profiles[key], controls) else 0
        for key, controls in found.items()
    }
    best = max(scores, key=scores.__getitem__, default=default)
    return best if scores.get(best) else default
