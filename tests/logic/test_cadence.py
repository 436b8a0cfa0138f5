"""Tests of the export meter's cadence: learned while exporting, stalled when it stands."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, strategies as st
import pytest

from custom_components.export_monitor.logic.cadence import (
    CADENCE_SAMPLES,
    DEFAULT_METER_INTERVAL_SECONDS,
    DEFAULT_METER_RESOLUTION_KWH,
    MeterCadence,
    cadence_from_data,
    declared,
)
from custom_components.export_monitor.logic.supervision import (
    REACTION_SECONDS,
    Session,
    StopReason,
    SupervisionInputs,
    reserve_kwh,
    stop_reason,
)

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """Return the moment `seconds` after T0."""
    return T0 + timedelta(seconds=seconds)


def run(steps: list[tuple[float, float]], since: float | None) -> MeterCadence:
    """Observe (seconds, value) steps; a session runs from `since` when given."""
    cadence = MeterCadence(session_since=None if since is None else at(since))
    for seconds, value in steps:
        cadence = cadence.observe(value, at(seconds))
    return cadence


def test_unlearned_meter_is_assumed_slow_and_coarse() -> None:
    """Until seen, the meter is taken to change every 300 s in 0.1 kWh steps."""
    cadence = MeterCadence()
    assert cadence.interval_seconds == DEFAULT_METER_INTERVAL_SECONDS == 300.0
    assert cadence.step_kwh == DEFAULT_METER_RESOLUTION_KWH == 0.1


def test_declared_meter_is_used_until_learned() -> None:
    """The user's interval and resolution replace the assumption."""
    cadence = declared(MeterCadence(), 10.0, 0.001, 30.0)
    assert (cadence.interval_seconds, cadence.step_kwh, cadence.delay_s) == (
        10.0,
        0.001,
        30.0,
    )


def test_learned_interval_never_below_the_declared_one() -> None:
    """A learned interval counts, but never shortens a declared one."""
    cadence = replace(declared(MeterCadence(), 60.0, None, 0.0), intervals=(10.0,))
    assert cadence.interval_seconds == 60.0
    assert replace(cadence, intervals=(90.0,)).interval_seconds == 90.0


def test_finer_step_seen_replaces_the_assumed_one() -> None:
    """A step smaller than the assumed 0.1 kWh is the counter's resolution."""
    assert replace(MeterCadence(), resolution_kwh=0.01).step_kwh == 0.01
    assert replace(MeterCadence(), resolution_kwh=0.5).step_kwh == 0.1


def test_idle_changes_teach_the_step_but_no_interval() -> None:
    """While idle a step is learned, whatever the gap; no interval is (#21)."""
    cadence = run([(0, 3.0), (720, 3.1), (3600, 3.2)], since=None)
    assert cadence.intervals == ()
    assert cadence.resolution_kwh == pytest.approx(0.1)


def test_first_interval_of_a_session_is_not_measured_from_its_start() -> None:
    """The first interval runs from the first change seen in the session (#3, #21)."""
    cadence = run([(0, 3.0), (100, 3.01), (110, 3.02), (120, 3.03)], since=90)
    assert cadence.intervals == (10.0, 10.0)


def test_long_intervals_are_learned_without_a_ceiling() -> None:
    """A 720 s step while exporting is a 720 s meter, and its step is learned (#3)."""
    cadence = run([(0, 3.2), (720, 3.3), (1440, 3.4)], since=0)
    assert cadence.intervals == (720.0, 720.0)
    assert cadence.resolution_kwh == pytest.approx(0.1)
    assert cadence.rate_kw == pytest.approx(0.5)


def test_drop_restarts_the_change_time() -> None:
    """A counter going back (a reset) keeps what is learned and restarts the clock."""
    cadence = run([(0, 3.0), (10, 3.1), (20, 0.0)], since=0)
    assert (cadence.last_value, cadence.last_change_at) == (0.0, at(20))
    assert cadence.intervals == (10.0,)


def test_same_moment_change_learns_no_interval() -> None:
    """Two values at the same moment give a step but no interval."""
    cadence = run([(0, 3.0), (0, 3.2)], since=0)
    assert cadence.intervals == ()
    assert cadence.resolution_kwh == pytest.approx(0.2)


def test_only_recent_intervals_are_kept() -> None:
    """The cadence remembers the last few intervals."""
    steps = [(10.0 * i, 3.0 + 0.01 * i) for i in range(20)]
    assert len(run(steps, since=0).intervals) == CADENCE_SAMPLES


def test_since_change_counts_only_during_a_discharge() -> None:
    """Standing still counts from the last change in the session, or its start."""
    idle = run([(0, 3.0)], since=None)
    assert idle.since_change(at(500)) == 0.0
    begun = idle.begin(at(100))
    assert begun.since_change(at(400)) == 300.0
    moved = begun.observe(3.1, at(200))
    assert moved.seen_since_start()
    assert moved.since_change(at(400)) == 200.0
    assert not moved.end().seen_since_start()


STALLS = {
    "moving": (30.0, 3.0, False),
    "late_within_tolerance": (300.0, 3.0, False),
    "stalled": (400.0, 3.0, True),
    "no_export_moves_nothing": (4000.0, 0.0, False),
    "unknown_export": (4000.0, None, False),
    "slow_export_needs_longer_steps": (400.0, 0.01, False),
}


@pytest.mark.parametrize(
    ("standing", "export", "expected"), list(STALLS.values()), ids=list(STALLS)
)
def test_stalled(standing: float, export: float | None, expected: bool) -> None:
    """A counter standing longer than its cadence (or one step at the export) is stale."""
    cadence = declared(MeterCadence(), 10.0, 0.001, 0.0).begin(T0)
    assert cadence.stalled(at(standing), export) is expected


def test_round_trip_keeps_what_is_learned() -> None:
    """The learned cadence survives a restart; declarations come from the options."""
    cadence = run([(0, 3.0), (10, 3.01), (20, 3.02)], since=0)
    back = cadence_from_data(cadence.to_data())
    assert back == replace(cadence, session_since=None, rate_kw=None)
    assert cadence_from_data(MeterCadence().to_data()) == MeterCadence()


@pytest.mark.parametrize(
    "data",
    [
        None,
        "cadence",
        {"last_change_at": "2026-06-15T12:00:00"},
        {"last_value": "lots"},
        {"intervals": [1, "x"]},
    ],
    ids=["none", "text", "naive_time", "bad_value", "bad_interval"],
)
def test_malformed_data_gives_an_empty_cadence(data: object) -> None:
    """Malformed stored data are dropped, never trusted."""
    assert cadence_from_data(data) == MeterCadence()


SESSION = Session(
    started_at=T0,
    origin="service",
    power_kw=3.0,
    cutoff_soc=20.0,
    start_exported_kwh=3.0,
)
INPUTS = SupervisionInputs(
    now=at(600),
    safe=True,
    headroom_kwh=5.0,
    soc=80.0,
    exported_today_kwh=3.0,
    export_age_seconds=5.0,
    grid_export_kw=3.0,
    breaker_can_attempt=True,
    in_window=True,
    enable_is_on=True,
)


def test_stuck_counter_stops_the_discharge_as_unsafe() -> None:
    """A counter that has not moved for 600 s at 3 kW export stops it (#2)."""
    cadence = declared(MeterCadence(), 10.0, 0.001, 0.0).begin(T0)
    assert stop_reason(INPUTS, SESSION, cadence, 20.0) is StopReason.DATA_UNSAFE


def test_standing_counter_grows_the_reserve() -> None:
    """Time the counter stood still in the session is part of the reserve horizon."""
    cadence = declared(MeterCadence(), 10.0, 0.001, 0.0).begin(T0)
    inputs = replace(INPUTS, now=at(300), headroom_kwh=0.25, grid_export_kw=None)
    assert stop_reason(inputs, SESSION, cadence, 20.0) is StopReason.HEADROOM_EXHAUSTED
    assert (
        stop_reason(replace(inputs, headroom_kwh=0.3), SESSION, cadence, 20.0) is None
    )


def test_assumed_inverter_maximum_grows_the_reserve() -> None:
    """Before the meters show the export, the inverter's maximum is assumed."""
    cadence = declared(MeterCadence(), 10.0, 0.001, 0.0).begin(T0)
    inputs = replace(INPUTS, now=at(5), headroom_kwh=0.03, grid_export_kw=None)
    assert stop_reason(inputs, SESSION, cadence, 20.0) is None
    assumed = replace(inputs, assumed_max_kw=10.0)
    assert stop_reason(assumed, SESSION, cadence, 20.0) is StopReason.HEADROOM_EXHAUSTED


@given(
    power=st.floats(min_value=0.1, max_value=50.0),
    age=st.floats(min_value=0.0, max_value=3600.0),
    delay=st.floats(min_value=0.0, max_value=600.0),
)
def test_reserve_covers_the_declared_delay(
    power: float, age: float, delay: float
) -> None:
    """A meter declared late by `delay` s: that much export more is held back."""
    cadence = declared(MeterCadence(), 10.0, 0.001, delay)
    unseen = power * (max(10.0, age) + REACTION_SECONDS + delay) / 3600.0
    assert reserve_kwh(power, cadence, age) >= unseen


def test_same_value_again_changes_nothing() -> None:
    """A re-reported value is no change."""
    cadence = run([(0, 3.0)], since=0)
    assert cadence.observe(3.0, at(50)) is cadence


def test_no_export_measured_means_no_unseen_export() -> None:
    """With the grid meter showing no export, a counter standing still is no risk."""
    cadence = declared(MeterCadence(), 10.0, 0.001, 0.0).begin(T0)
    inputs = replace(INPUTS, now=at(300), headroom_kwh=0.25, grid_export_kw=0.0)
    assert stop_reason(inputs, SESSION, cadence, 20.0) is None
