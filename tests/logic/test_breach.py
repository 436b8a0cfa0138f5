"""Tests of the breach detector's pure core: over-export, episodes, reports, days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.export_monitor.logic.breach import (
    BREACH_EPSILON_KWH,
    REPORT_STEP_KWH,
    BreachRecord,
    breach_from_data,
    breach_to_data,
    judge_breach,
    measured_export_kwh,
    over_export_kwh,
)
from custom_components.export_monitor.logic.readings import Reading, ReadingProblem

from .common import NOW

TODAY = NOW.date()
ALLOWANCE = 11.5
kwh = st.floats(min_value=0.0, max_value=1000.0, allow_nan=False)


def reading(value: float | None, problem: ReadingProblem | None = None) -> Reading:
    """Return a reading of `value` kWh with `problem`."""
    return Reading(value=value, problem=problem, reported_at=NOW, age_seconds=0.0)


@pytest.mark.parametrize(
    ("given_reading", "expected"),
    [
        (None, None),
        (reading(3.0), 3.0),
        (reading(3.0, ReadingProblem.WENT_BACKWARDS), 3.0),
        (reading(9.0, ReadingProblem.IMPLAUSIBLE), 9.0),
        (reading(3.0, ReadingProblem.NOT_RESET), None),
        (reading(3.0, ReadingProblem.STALE), None),
        (reading(None, ReadingProblem.UNAVAILABLE), None),
    ],
    ids=[
        "absent",
        "usable",
        "held_after_drop",
        "implausible_rise",
        "not_reset",
        "stale",
        "unavailable",
    ],
)
def test_measured_export(given_reading: Reading | None, expected: float | None) -> None:
    """Only today's figure counts: a usable value or a held lower bound."""
    assert measured_export_kwh(given_reading) == expected


@pytest.mark.parametrize(
    ("exported", "expected"),
    [
        (11.0, 0.0),
        (11.5, 0.0),
        (11.5 + BREACH_EPSILON_KWH / 2, 0.0),
        (11.5 + 2 * BREACH_EPSILON_KWH, 2 * BREACH_EPSILON_KWH),
        (11.501, 0.001),
        (14.0, 2.5),
    ],
    ids=["within", "at", "float_noise", "just_over", "one_wh", "far_over"],
)
def test_over_export(exported: float, expected: float) -> None:
    """Anything measurable beyond the allowance is over; no tolerance."""
    assert over_export_kwh(exported, ALLOWANCE) == pytest.approx(expected, abs=1e-12)


@given(exported=kwh, allowance=kwh)
def test_over_export_is_exact_beyond_noise(exported: float, allowance: float) -> None:
    """Over-export is the excess itself, or 0 only within float noise."""
    over = over_export_kwh(exported, allowance)
    if exported - allowance > BREACH_EPSILON_KWH:
        assert over == exported - allowance
    else:
        assert over == 0.0


def run(steps: list[float | None]) -> tuple[BreachRecord, list[bool]]:
    """Judge one export value per minute against the allowance; return the reports."""
    record: BreachRecord | None = None
    reports: list[bool] = []
    for minute, exported in enumerate(steps):
        record, report = judge_breach(
            record, exported, ALLOWANCE, NOW + timedelta(minutes=minute)
        )
        reports.append(report)
    assert record is not None
    return record, reports


@pytest.mark.parametrize(
    ("exported", "expected"),
    [(0.0, 0.0), (0.2, 0.2)],
    ids=["nothing_exported", "something_exported"],
)
def test_allowance_below_zero_counts_as_zero(exported: float, expected: float) -> None:
    """At night the allowance is below 0 (PV less than the margin): 0 kWh is no breach."""
    assert over_export_kwh(exported, -0.5) == pytest.approx(expected)


def test_within_the_allowance_nothing_happens() -> None:
    """Export up to the allowance is no breach."""
    record, reports = run([3.0, 11.5])
    assert record == BreachRecord(day=TODAY)
    assert reports == [False, False]


def test_breach_is_reported_once_per_episode() -> None:
    """The first measurement over reports; small growth does not."""
    record, reports = run([11.4, 11.6, 11.65, 11.69])
    assert reports == [False, True, False, False]
    assert record.over_kwh == pytest.approx(0.19)
    assert record.reported_kwh == pytest.approx(0.1)
    assert record.first_at == NOW + timedelta(minutes=1)


def test_growing_breach_is_reported_again() -> None:
    """Growth by the report step within an episode reports again."""
    _, reports = run([11.6, 11.6 + REPORT_STEP_KWH, 11.6 + 1.5 * REPORT_STEP_KWH])
    assert reports == [True, True, False]


def test_new_episode_reports_again_and_keeps_the_days_maximum() -> None:
    """Back within the allowance ends the episode; the maximum stays for the day."""
    record, reports = run([11.9, 11.4, 11.6])
    assert reports == [True, False, True]
    assert record.exceeded
    assert record.over_kwh == pytest.approx(0.1)
    assert record.max_over_kwh == pytest.approx(0.4)
    assert record.first_at == NOW


def test_unmeasured_keeps_the_record() -> None:
    """Without a measurement nothing is learned: the breach stands as it was."""
    record, reports = run([11.9, None])
    assert reports == [True, False]
    assert record.exceeded
    assert judge_breach(record, 12.0, None, NOW)[0] == record


def test_the_record_rolls_over_at_the_next_local_day() -> None:
    """A new day starts clean, measured or not."""
    record, _ = run([11.9])
    tomorrow = NOW + timedelta(days=1)
    rolled, report = judge_breach(record, None, None, tomorrow)
    assert rolled == BreachRecord(day=tomorrow.date())
    assert not report
    assert not rolled.breached_today
    assert record.over_today_kwh(tomorrow.date()) == 0.0
    assert record.over_today_kwh(TODAY) == pytest.approx(0.4)


@given(steps=st.lists(st.one_of(st.none(), kwh), min_size=1, max_size=30))
def test_record_invariants(steps: list[float | None]) -> None:
    """The maximum bounds the present, reports happen only over, never twice unchanged."""
    record: BreachRecord | None = None
    for exported in steps:
        before = record
        record, report = judge_breach(record, exported, ALLOWANCE, NOW)
        assert 0.0 <= record.over_kwh <= record.max_over_kwh
        assert not report or record.exceeded
        if before is not None:
            assert record.max_over_kwh >= before.max_over_kwh
        if report:
            assert record.reported_kwh == record.over_kwh


@pytest.mark.parametrize(
    "record",
    [
        BreachRecord(day=TODAY),
        BreachRecord(
            day=TODAY, over_kwh=0.2, max_over_kwh=0.3, reported_kwh=0.2, first_at=NOW
        ),
    ],
    ids=["clean", "breached"],
)
def test_record_round_trips(record: BreachRecord) -> None:
    """A stored record comes back as it was."""
    assert breach_from_data(breach_to_data(record)) == record


@pytest.mark.parametrize(
    "data",
    [
        None,
        "2026-06-15",
        {},
        {"day": "not a day", "over_kwh": 0, "max_over_kwh": 0, "reported_kwh": 0},
        {"day": "2026-06-15", "over_kwh": "x", "max_over_kwh": 0, "reported_kwh": 0},
        {
            "day": "2026-06-15",
            "over_kwh": 0,
            "max_over_kwh": 0,
            "reported_kwh": 0,
            "first_at": 5,
        },
    ],
    ids=["none", "not_a_dict", "empty", "bad_day", "bad_number", "bad_time"],
)
def test_malformed_record_is_ignored(data: Any) -> None:
    """Anything malformed starts without a record."""
    assert breach_from_data(data) is None


def test_record_of_another_day_shows_nothing() -> None:
    """Only today's record counts as today's over-export."""
    record = BreachRecord(day=date(2026, 6, 14), max_over_kwh=1.0)
    assert record.breached_today
    assert record.over_today_kwh(TODAY) == 0.0
