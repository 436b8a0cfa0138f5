"""Pure tests of the profile model and of every registered profile's shape."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from custom_components.export_monitor.profiles import DEFAULT_PROFILE, PROFILES
from custom_components.export_monitor.profiles.base import (
    SERVICES,
    Backstop,
    BackstopKind,
    InverterProfile,
    Op,
    Role,
    Write,
)

PACKAGE = Path(__file__).parents[2] / "custom_components" / "export_monitor"


@pytest.mark.parametrize("folder", ["logic", "profiles"])
def test_pure_folders_import_no_home_assistant(folder: str) -> None:
    """Modules under logic/ and profiles/ never import Home Assistant."""
    for path in (PACKAGE / folder).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not [n for n in names if n.startswith("homeassistant")], path


def test_default_profile_is_generic() -> None:
    """Entries without a profile use the generic shape."""
    assert DEFAULT_PROFILE == "generic"
    assert PROFILES[DEFAULT_PROFILE].key == "generic"


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES.keys())
def test_every_write_targets_a_declared_role(profile: InverterProfile) -> None:
    """A write to an entity names a role the profile asks the user for."""
    sequences = (
        profile.start,
        profile.set_power,
        profile.keepalive,
        profile.reconcile,
        profile.set_cutoff,
        *profile.stop_ladder,
    )
    for write in (w for sequence in sequences for w in sequence):
        if write.op is Op.CALL_SERVICE:
            assert write.service is not None
            assert "." in write.service
            continue
        assert write.role in profile.roles, (profile.key, write)
        control = profile.control(write.role)
        assert control is not None
        assert any((write.op, domain) in SERVICES for domain in control.domains)


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES.keys())
def test_every_profile_can_stop_and_start_ends_with_activation(
    profile: InverterProfile,
) -> None:
    """A profile has a stop ladder, and its reading role (if any) is a control."""
    assert profile.stop_ladder
    assert profile.stop_ladder[0]
    assert profile.start
    if profile.running is not None:
        assert profile.running.role in profile.roles


def test_control_lookup_and_soc_floor_need() -> None:
    """`control` finds a role or None; no backstop or an exporting fallback needs the floor."""
    generic = PROFILES["generic"]
    assert generic.control(Role.ENABLE) is not None
    assert generic.control(Role.MODE) is None
    assert not generic.needs_soc_floor
    bare = InverterProfile(
        key="bare",
        controls=(),
        start=(Write(op=Op.CALL_SERVICE, service="x.y"),),
        stop_ladder=((Write(op=Op.CALL_SERVICE, service="x.z"),),),
    )
    assert bare.needs_soc_floor
    assert bare.backstop.kind is BackstopKind.NONE
    watchdog = Backstop(kind=BackstopKind.WATCHDOG, fallback_exports=True)
    fox_like = InverterProfile(
        key="fox_like",
        controls=(),
        start=bare.start,
        stop_ladder=bare.stop_ladder,
        backstop=watchdog,
    )
    assert fox_like.needs_soc_floor
    slot = Backstop(kind=BackstopKind.SLOT_END, inverter_clock=True, recurs_daily=True)
    slot_like = InverterProfile(
        key="slot_like",
        controls=(),
        start=bare.start,
        stop_ladder=bare.stop_ladder,
        backstop=slot,
    )
    assert slot_like.needs_soc_floor
