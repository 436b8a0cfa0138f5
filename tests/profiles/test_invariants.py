"""Rules every profile's data keeps: checked over all registered profiles at once."""

from __future__ import annotations

import pytest

from custom_components.export_monitor.profiles import PROFILES
from custom_components.export_monitor.profiles.base import (
    BackstopKind,
    InverterProfile,
    Op,
    Rearm,
    Role,
    Write,
)

ACTIVATIONS = {Op.TURN_ON, Op.SELECT, Op.PRESS, Op.CALL_SERVICE}
EACH = pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES.keys())


def _required(profile: InverterProfile, write: Write) -> bool:
    """Return whether a write is sent whatever optional controls the user left out."""
    control = None if write.role is None else profile.control(write.role)
    return write.op is Op.CALL_SERVICE or (control is not None and control.required)


@EACH
def test_every_selected_option_is_declared_for_the_flow_to_check(
    profile: InverterProfile,
) -> None:
    """An option the profile selects is one the flow checks the entity offers."""
    selects = [w for w in profile.writes if w.op is Op.SELECT]
    undeclared = [
        w
        for w in selects
        if w.role is None
        or w.value not in getattr(profile.control(w.role), "options", ())
    ]
    assert undeclared == []


@EACH
def test_start_activates_last(profile: InverterProfile) -> None:
    """Parameters first, activation last: an interrupted start is inert."""
    assert profile.start[-1].op in ACTIVATIONS
    assert _required(profile, profile.start[-1])


@EACH
def test_first_stop_and_reconcile_need_no_optional_control(
    profile: InverterProfile,
) -> None:
    """The normal stop and the start-up reconcile are sent with the required controls."""
    assert all(_required(profile, w) for w in profile.stop_ladder[0])
    assert profile.reconcile
    assert all(_required(profile, w) for w in profile.reconcile)


@EACH
def test_the_stop_does_not_read_as_running(profile: InverterProfile) -> None:
    """An option the normal stop selects on the running role does not mean running."""
    running = profile.running
    assert running is not None
    stops = [
        str(w.value)
        for w in profile.stop_ladder[0]
        if w.role is running.role and w.op is Op.SELECT
    ]
    assert not [
        s
        for s in stops
        if s in running.on_states
        or (running.prefix and s.startswith(running.on_states))
    ]


@EACH
def test_a_profile_that_needs_the_floor_can_write_it(profile: InverterProfile) -> None:
    """No backstop, an exporting fallback or a daily slot: the cutoff is required."""
    cutoff = profile.control(Role.CUTOFF)
    needs = profile.needs_soc_floor
    assert not needs or (cutoff is not None and cutoff.required and profile.set_cutoff)


@EACH
def test_keepalive_matches_the_rearm_rule(profile: InverterProfile) -> None:
    """Something to re-arm exactly when the backstop expires by itself."""
    backstop = profile.backstop
    assert (backstop.rearm is Rearm.NOT_NEEDED) == (profile.keepalive == ())
    assert backstop.keepalive_s is None or profile.keepalive
    assert backstop.kind is not BackstopKind.NONE or profile.keepalive == ()


@EACH
def test_a_backstop_shorter_than_a_poll_is_kept_alive_in_time(
    profile: InverterProfile,
) -> None:
    """A command that expires within a minute is re-sent at least twice per life."""
    backstop = profile.backstop
    short = backstop.kind is BackstopKind.COMMAND_TIMEOUT and (backstop.max_s or 0) < 60
    assert not short or (backstop.keepalive_s or 0) * 2 <= (backstop.max_s or 0)
