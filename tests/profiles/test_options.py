"""Pure tests of a profile's controls in the options and of the move from the flat keys."""

from __future__ import annotations

from typing import Any, Final

import pytest

from custom_components.export_monitor.profiles.base import Role
from custom_components.export_monitor.profiles.generic import GENERIC
from custom_components.export_monitor.profiles.options import (
    controls,
    flat_options,
    migrate_flat_options,
    profile,
)

FLAT: Final[dict[str, Any]] = {
    "soc_entity": "sensor.soc",
    "discharge_switch_entity": "input_boolean.force",
    "discharge_power_entity": "input_number.power",
    "cutoff_soc_entity": "input_number.cutoff",
    "discharge_duration_entity": "input_number.duration",
    "min_soc": 20.0,
}
MIGRATED: Final[dict[str, Any]] = {
    "soc_entity": "sensor.soc",
    "min_soc": 20.0,
    "profile": "generic",
    "controls": {
        "enable": "input_boolean.force",
        "power": "input_number.power",
        "cutoff": "input_number.cutoff",
        "timer": "input_number.duration",
    },
}


def test_flat_options_migrate_to_the_generic_profile() -> None:
    """Minor version 1 keys become the generic profile's controls; nothing else changes."""
    assert migrate_flat_options(FLAT) == MIGRATED


@pytest.mark.parametrize("unset", [None, ""], ids=["none", "empty"])
def test_an_unset_timer_is_left_out(unset: str | None) -> None:
    """An optional control cleared in the flow is no control."""
    migrated = migrate_flat_options({**FLAT, "discharge_duration_entity": unset})
    assert "timer" not in migrated["controls"]
    assert Role.TIMER not in controls(migrated)


def test_controls_by_role_from_either_format() -> None:
    """Controls read the same from the stored format and from flat keys."""
    expected = {
        Role.ENABLE: "input_boolean.force",
        Role.POWER: "input_number.power",
        Role.CUTOFF: "input_number.cutoff",
        Role.TIMER: "input_number.duration",
    }
    assert controls(MIGRATED) == expected
    assert controls(FLAT) == expected


def test_unknown_roles_and_empty_controls_are_ignored() -> None:
    """A stored role this version does not know, or an empty one, is skipped."""
    options = {"controls": {"enable": "switch.x", "warp": "switch.y", "power": ""}}
    assert controls(options) == {Role.ENABLE: "switch.x"}


def test_migrating_stored_options_keeps_their_controls() -> None:
    """Options already in the stored format migrate to themselves."""
    assert migrate_flat_options(MIGRATED) == MIGRATED


def test_flat_options_round_trip() -> None:
    """The generic form's flat view of stored options migrates back unchanged."""
    assert flat_options(MIGRATED) == FLAT
    assert migrate_flat_options(flat_options(MIGRATED)) == MIGRATED


@pytest.mark.parametrize(
    "options", [{}, {"profile": "generic"}, {"profile": "gone"}], ids=str
)
def test_profile_defaults_to_generic(options: dict[str, Any]) -> None:
    """No profile, or one this version lacks, is the generic shape."""
    assert profile(options) is GENERIC
