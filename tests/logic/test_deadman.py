"""Table and property tests of the inverter timer's bound and the read-back rules."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st
import pytest

from custom_components.export_monitor.logic.deadman import (
    INVERTER_POWER_FACTOR,
    BackstopBound,
    RearmAction,
    backstop_bound,
    backstop_setting,
    changed_backstop_setting,
    deadman_power_kw,
    duration_scale,
    readback_problem,
    rearm_action,
    timer_changes,
)
from custom_components.export_monitor.logic.supervision import (
    BACKSTOP_MAX_MINUTES,
    StopReason,
)

LONDON = ZoneInfo("Europe/London")
NOON = datetime(2026, 6, 15, 12, 0, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("s", 1 / 60), ("min", 1.0), (" h ", 60.0), ("d", None), ("", None), (None, None)],
    ids=["seconds", "minutes", "hours_padded", "days", "empty", "none"],
)
def test_duration_scale(unit: str | None, expected: float | None) -> None:
    """Seconds, minutes and hours convert; anything else is refused."""
    assert duration_scale(unit) == expected


@pytest.mark.parametrize(
    ("planned", "estimate", "maximum", "expected"),
    [
        (3.0, 0.0, None, 3.0 * INVERTER_POWER_FACTOR),
        (3.0, 6.0, None, 6.0),
        (3.0, 0.0, 5.0, 5.0),
        (3.0, 7.0, 5.0, 7.0),
    ],
    ids=["assumed", "measured_higher", "declared", "measured_above_declared"],
)
def test_deadman_power(
    planned: float, estimate: float, maximum: float | None, expected: float
) -> None:
    """The dead-man assumes the declared maximum, else the plan with a factor."""
    assert deadman_power_kw(planned, estimate, maximum) == expected


BOUNDS = {
    "headroom": (
        {"now": NOON},
        BackstopBound(minutes=10.0, limit=StopReason.HEADROOM_EXHAUSTED),
    ),
    "midnight": (
        {"now": datetime(2026, 6, 15, 23, 55, tzinfo=LONDON)},
        BackstopBound(minutes=4.5, limit=StopReason.MIDNIGHT),
    ),
    "plan": (
        {"now": NOON, "plan": (3.0, StopReason.TARGET_REACHED)},
        BackstopBound(minutes=3.0, limit=StopReason.TARGET_REACHED),
    ),
    "spent": (
        {"now": NOON, "headroom_kwh": 0.05},
        BackstopBound(minutes=0.0, limit=StopReason.HEADROOM_EXHAUSTED),
    ),
}


@pytest.mark.parametrize(
    ("changes", "expected"), list(BOUNDS.values()), ids=list(BOUNDS)
)
def test_timer_bound(changes: dict[str, object], expected: BackstopBound) -> None:
    """The tightest of headroom less reserve, the day's end and the plan binds."""
    arguments: dict[str, object] = {
        "headroom_kwh": 0.85,
        "reserve_kwh": 0.1,
        "power_kw": 4.5,
        **changes,
    }
    assert backstop_bound(**arguments) == expected  # type: ignore[arg-type]


@given(
    headroom=st.floats(min_value=0.0, max_value=50.0),
    reserve=st.floats(min_value=0.0, max_value=5.0),
    power=st.floats(min_value=0.1, max_value=20.0),
    seconds=st.integers(min_value=0, max_value=86_399),
)
def test_timer_bound_never_outlasts_headroom_or_day(
    headroom: float, reserve: float, power: float, seconds: int
) -> None:
    """Run alone for the bound, the inverter stays within headroom and the day."""
    now = datetime(2026, 6, 15, tzinfo=LONDON) + timedelta(seconds=seconds)
    bound = backstop_bound(
        headroom_kwh=headroom, reserve_kwh=reserve, power_kw=power, now=now
    )
    assert bound.minutes >= 0.0
    assert power * bound.minutes / 60.0 <= max(0.0, headroom - reserve) + 1e-9
    assert (now + timedelta(minutes=bound.minutes)).date() == now.date()


SETTINGS = {
    "minutes": (7.4, 1.0, 1.0, 7.0),
    "step_five": (7.4, 1.0, 5.0, 5.0),
    "no_step": (7.4, 1.0, None, 7.0),
    "seconds": (7.4, 1 / 60, 1.0, 444.0),
    "hours": (30.0, 60.0, 0.1, 0.2),
    "capped": (60.0, 1.0, 1.0, float(BACKSTOP_MAX_MINUTES)),
    "under_a_minute": (0.9, 1.0, 1.0, None),
    "step_too_coarse": (4.0, 1.0, 5.0, None),
}


@pytest.mark.parametrize(
    ("bound", "scale", "step", "expected"),
    list(SETTINGS.values()),
    ids=list(SETTINGS),
)
def test_timer_setting(
    bound: float, scale: float, step: float | None, expected: float | None
) -> None:
    """The timer is rounded down to the entity's step, in its unit, 1 to 15 min."""
    assert backstop_setting(bound, scale, step) == pytest.approx(expected)


@given(
    bound=st.floats(min_value=0.0, max_value=1e4),
    scale=st.sampled_from([1 / 60, 1.0, 60.0]),
    step=st.sampled_from([None, 0.01, 0.1, 1.0, 5.0, 30.0]),
)
def test_timer_setting_never_longer_than_the_bound(
    bound: float, scale: float, step: float | None
) -> None:
    """Whatever the unit and step, the timer written is within the bound, or none."""
    setting = backstop_setting(bound, scale, step)
    if setting is not None:
        assert 1.0 - 1e-9 <= setting * scale <= min(bound, BACKSTOP_MAX_MINUTES) + 1e-9


REARMS = {
    "rearm": (1.5, StopReason.HEADROOM_EXHAUSTED, True, 30.0, RearmAction.REARM),
    "headroom_short_timer_run_out": (
        0.5,
        StopReason.HEADROOM_EXHAUSTED,
        True,
        0.0,
        RearmAction.STOP,
    ),
    # Under a minute of headroom a running timer within the bound is the dead-man
    # still: it runs on (it used to stop at once, a minute's export lost).
    "headroom_short_timer_within": (
        0.5,
        StopReason.HEADROOM_EXHAUSTED,
        True,
        30.0,
        RearmAction.WAIT,
    ),
    "headroom_short_timer_outlasts": (
        0.5,
        StopReason.HEADROOM_EXHAUSTED,
        True,
        31.0,
        RearmAction.STOP,
    ),
    "midnight_timer_within": (0.5, StopReason.MIDNIGHT, True, 30.0, RearmAction.WAIT),
    "midnight_timer_outlasts": (0.5, StopReason.MIDNIGHT, True, 31.0, RearmAction.STOP),
    "plan_timer_run_out": (0.5, StopReason.TARGET_REACHED, True, 0.0, RearmAction.WAIT),
    "no_fit_timer_runs": (
        3.0,
        StopReason.HEADROOM_EXHAUSTED,
        False,
        30.0,
        RearmAction.WAIT,
    ),
    "no_fit_timer_ended": (
        3.0,
        StopReason.HEADROOM_EXHAUSTED,
        False,
        0.0,
        RearmAction.STOP,
    ),
}


LEADS = {
    "stops_a_reaction_before_the_end": (11.5, RearmAction.STOP),
    "waits_while_the_timer_runs_longer": (11.6, RearmAction.WAIT),
}


@pytest.mark.parametrize(("left", "expected"), list(LEADS.values()), ids=list(LEADS))
@pytest.mark.parametrize("minutes", [1.5, 0.5], ids=["no_step_fits", "under_a_minute"])
def test_a_timer_that_cannot_be_rearmed_is_stopped_before_its_end(
    minutes: float, left: float, expected: RearmAction
) -> None:
    """No timer fits: the stop goes out a reaction delay before the running one ends."""
    bound = BackstopBound(minutes=minutes, limit=StopReason.HEADROOM_EXHAUSTED)
    assert rearm_action(bound, False, left, 11.5) is expected
    # Under a minute no timer fits whatever the entity: the same.
    assert rearm_action(bound, minutes < 1.0, left, 11.5) is expected


@given(
    minutes=st.floats(min_value=0.0, max_value=30.0),
    limit=st.sampled_from(list(StopReason)),
    fits=st.booleans(),
    left=st.floats(min_value=0.0, max_value=BACKSTOP_MAX_MINUTES * 60.0),
    lead=st.floats(min_value=0.0, max_value=60.0),
)
def test_the_dead_man_holds_whatever_the_action(
    minutes: float, limit: StopReason, fits: bool, left: float, lead: float
) -> None:
    """Only a running timer within the bound runs on; a re-arm writes one within it.

    Should Home Assistant die after WAIT, the inverter runs at most the timer left,
    and that fits in the bound (the headroom less the reserve, at the dead-man power).
    """
    bound = BackstopBound(minutes=minutes, limit=limit)
    action = rearm_action(bound, fits, left, lead)
    if action is RearmAction.WAIT:
        assert left <= minutes * 60.0 + 1e-9
    if action is RearmAction.REARM:
        assert fits
        assert minutes >= 1.0


@pytest.mark.parametrize(
    ("minutes", "limit", "fits", "left", "expected"),
    list(REARMS.values()),
    ids=list(REARMS),
)
def test_rearm_action(
    minutes: float, limit: StopReason, fits: bool, left: float, expected: RearmAction
) -> None:
    """Re-arm when a timer fits; headroom stops at once; else the timer ends alone."""
    bound = BackstopBound(minutes=minutes, limit=limit)
    assert rearm_action(bound, fits, left) is expected


CHANGED = {
    "first_write": (15.0, None, 15.0),
    "different": (15.0, 14.0, 15.0),
    "same_goes_shorter": (15.0, 15.0, 14.0),
    "same_at_the_floor": (1.5, 1.0, 1.0),
    "under_a_minute": (0.5, 1.0, None),
}


@pytest.mark.parametrize(
    ("bound", "current", "expected"), list(CHANGED.values()), ids=list(CHANGED)
)
def test_changed_timer_setting(
    bound: float, current: float | None, expected: float | None
) -> None:
    """A timer equal to the entity's value is written a step shorter, above 1 min."""
    assert changed_backstop_setting(bound, 1.0, 1.0, current) == expected


TIMER_CHANGES = {
    "first_write": (15.0, None, True),
    "shorter_by_a_step": (15.0, 15.0, True),
    "another_value": (2.5, 1.0, True),
    "only_the_same_fits": (1.5, 1.0, False),
    "under_a_minute": (0.5, 2.0, False),
}


@pytest.mark.parametrize(
    ("bound", "current", "expected"),
    list(TIMER_CHANGES.values()),
    ids=list(TIMER_CHANGES),
)
def test_a_rearm_changes_the_timer(
    bound: float, current: float | None, expected: bool
) -> None:
    """A re-arm fits only when it can write a value other than the one held."""
    assert timer_changes(bound, 1.0, 1.0, current) is expected


READ_BACKS = {
    "exact": ((10.0, 10.0, 1.0), {}, None),
    "half_a_step": ((10.5, 10.0, 1.0), {}, None),
    "over_half_a_step": ((10.6, 10.0, 1.0), {}, "read back 10.6, wanted 10.0"),
    "nothing": ((None, 10.0, 1.0), {}, "read back nothing, wanted 10.0"),
    "longer_than_asked": (
        (12.0, 10.0, 5.0),
        {"at_most": 10.0},
        "read back 12.0, more than 10.0",
    ),
    "shorter_is_fine": ((8.0, 10.0, 5.0), {"at_most": 10.0}, None),
    "below_the_floor": (
        (19.6, 20.0, 1.0),
        {"at_least": 20.0},
        "read back 19.6, less than 20.0",
    ),
    "above_the_floor": ((20.4, 20.0, 1.0), {"at_least": 20.0}, None),
}


@pytest.mark.parametrize(
    ("values", "limits", "expected"),
    list(READ_BACKS.values()),
    ids=list(READ_BACKS),
)
def test_readback_problem(
    values: tuple[float | None, float, float],
    limits: dict[str, float],
    expected: str | None,
) -> None:
    """Half a step either way, never past a limit the caller sets."""
    assert readback_problem(*values, **limits) == expected
