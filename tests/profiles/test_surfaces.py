"""Each profile fits its simulated vendor integration: entity names, domains, options, services."""

from __future__ import annotations

from typing import Final

import pytest

from custom_components.export_monitor.profiles import PROFILES
from custom_components.export_monitor.profiles.base import Control, InverterProfile, Op
from sim.vendors import VENDORS, SimEntity

# Each control paired with the simulated entity that plays its role, where there is one.
PAIRS: Final = [
    (profile.key, control, entity)
    for profile in PROFILES.values()
    for control in profile.controls
    for entity in VENDORS[profile.key].entities
    if entity.role == control.role
]


def test_every_profile_is_simulated() -> None:
    """Every registered profile has a simulated vendor integration."""
    assert set(VENDORS) == set(PROFILES)


@pytest.mark.parametrize(
    ("key", "control", "entity"),
    PAIRS,
    ids=[f"{key}-{control.role}" for key, control, _ in PAIRS],
)
def test_control_matches_the_simulated_entity(
    key: str, control: Control, entity: SimEntity
) -> None:
    """The profile would find the vendor's entity and write options it has."""
    assert entity.domain in control.domains, key
    assert entity.object_id.endswith(control.suffix or ""), key
    assert set(control.options) <= set(entity.options), key


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES.keys())
def test_services_match_the_simulated_services(profile: InverterProfile) -> None:
    """Every service a profile calls exists in the simulation, with its fields."""
    services = {s.service: set(s.fields) for s in VENDORS[profile.key].services}
    called = {
        str(w.service): {name for name, _ in w.fields}
        for w in profile.writes
        if w.op is Op.CALL_SERVICE
    }
    assert {
        name: services.get(name, set()) & fields for name, fields in called.items()
    } == called
