"""Tests of daily counter tracking: midnight resets, glitches held and flagged."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from itertools import accumulate
from operator import sub

from hypothesis import given, strategies as st
import pytest

from custom_components.export_monitor.logic.counters import (
    ZERO_KWH,
    CounterTrack,
    track_counter,
    track_from_data,
    track_to_data,
)
from custom_components.export_monitor.logic.readings import Reading, ReadingProblem

from .common import NOW

DAY_1 = date(2026, 6, 15)
DAY_2 = date(2026, 6, 16)
DAY_3 = date(2026, 6, 17)
WB = ReadingProblem.WENT_BACKWARDS
NR = ReadingProblem.NOT_RESET

type Step = tuple[Reading, date]
type Shown = tuple[float | None, ReadingProblem | None]


def ok(value: float) -> Reading:
    """Return a usable reading of `value` kWh."""
    return Reading(value=value, problem=None, reported_at=NOW, age_seconds=0.0)


def bad(problem: ReadingProblem, value: float | None = None) -> Reading:
    """Return an unusable reading."""
    return Reading(value=value, problem=problem, reported_at=NOW, age_seconds=0.0)


# Far above any site: these tables are about resets and glitches, not about power.
ANY_KW = 1000.0


def _at(day: date, index: int) -> datetime:
    """Return the moment of the `index`th reading on `day`: from noon, a minute apart."""
    return datetime.combine(day, time(12), UTC) + timedelta(minutes=index)


def _run(steps: list[Step]) -> tuple[list[Reading], CounterTrack | None]:
    """Feed readings through the tracker; return what was used and the last track."""

    def step(
        state: tuple[list[Reading], CounterTrack | None], item: Step
    ) -> tuple[list[Reading], CounterTrack | None]:
        used, track = state
        reading, today = item
        result, new_track = track_counter(
            reading, track, _at(today, len(used)), max_kw=ANY_KW
        )
        return [*used, result], new_track

    start: tuple[list[Reading], CounterTrack | None] = ([], None)
    return reduce(step, steps, start)


def _shown(steps: list[Step]) -> list[Shown]:
    """Return (value, problem) of each reading the tracker passes on."""
    return [(r.value, r.problem) for r in _run(steps)[0]]


SEQUENCES: dict[str, tuple[list[Step], list[Shown]]] = {
    "first_reading": ([(ok(5.0), DAY_1)], [(5.0, None)]),
    "first_reading_mid_day_any_value": ([(ok(40.0), DAY_1)], [(40.0, None)]),
    "steady_increase": (
        [(ok(1.0), DAY_1), (ok(2.0), DAY_1), (ok(3.5), DAY_1)],
        [(1.0, None), (2.0, None), (3.5, None)],
    ),
    "unchanged": ([(ok(2.0), DAY_1), (ok(2.0), DAY_1)], [(2.0, None), (2.0, None)]),
    "jitter_within_tolerance": (
        [(ok(5.0), DAY_1), (ok(4.9995), DAY_1)],
        [(5.0, None), (4.9995, None)],
    ),
    "mid_day_drop_held": (
        [(ok(5.0), DAY_1), (ok(3.0), DAY_1)],
        [(5.0, None), (5.0, WB)],
    ),
    "mid_day_drop_held_until_consistent": (
        [
            (ok(5.0), DAY_1),
            (ok(0.0), DAY_1),
            (ok(4.0), DAY_1),
            (ok(5.0), DAY_1),
            (ok(6.0), DAY_1),
        ],
        [(5.0, None), (5.0, WB), (5.0, WB), (5.0, None), (6.0, None)],
    ),
    "new_day_waits_for_reset": (
        [
            (ok(12.0), DAY_1),
            (ok(12.0), DAY_2),
            (ok(12.5), DAY_2),
            (ok(0.0), DAY_2),
            (ok(0.3), DAY_2),
        ],
        [(12.0, None), (12.0, NR), (12.0, NR), (0.0, None), (0.3, None)],
    ),
    "new_day_drop_within_tolerance_is_no_reset": (
        [(ok(12.0), DAY_1), (ok(11.9995), DAY_2)],
        [(12.0, None), (12.0, NR)],
    ),
    "new_day_reset_already_climbing": (
        [(ok(12.0), DAY_1), (ok(0.4), DAY_2), (ok(0.6), DAY_2)],
        [(12.0, None), (0.4, None), (0.6, None)],
    ),
    "yesterday_at_zero_accepts_at_once": (
        [(ok(0.0), DAY_1), (ok(0.4), DAY_2)],
        [(0.0, None), (0.4, None)],
    ),
    "yesterday_at_tolerance_accepts_at_once": (
        [(ok(ZERO_KWH), DAY_1), (ok(0.4), DAY_2)],
        [(ZERO_KWH, None), (0.4, None)],
    ),
    "yesterday_just_above_tolerance_waits": (
        [(ok(0.002), DAY_1), (ok(0.4), DAY_2)],
        [(0.002, None), (0.002, NR)],
    ),
    "held_day_then_new_day_resets": (
        [(ok(5.0), DAY_1), (ok(3.0), DAY_1), (ok(3.2), DAY_2)],
        [(5.0, None), (5.0, WB), (3.2, None)],
    ),
    # History older than yesterday is no history: the reading is judged as a first
    # one (see FIRST_READINGS for the bound that decides it).
    "day_skipped_is_a_first_reading": (
        [(ok(12.0), DAY_1), (ok(12.0), DAY_3), (ok(0.1), DAY_3)],
        [(12.0, None), (12.0, None), (12.0, WB)],
    ),
    "unusable_passes_through": (
        [
            (ok(5.0), DAY_1),
            (bad(ReadingProblem.UNAVAILABLE), DAY_1),
            (ok(6.0), DAY_1),
        ],
        [(5.0, None), (None, ReadingProblem.UNAVAILABLE), (6.0, None)],
    ),
    "unusable_does_not_reset_the_check": (
        [(ok(5.0), DAY_1), (bad(ReadingProblem.NOT_NUMERIC), DAY_1), (ok(3.0), DAY_1)],
        [(5.0, None), (None, ReadingProblem.NOT_NUMERIC), (5.0, WB)],
    ),
    "stale_passes_through_with_value": (
        [(ok(5.0), DAY_1), (bad(ReadingProblem.STALE, 2.0), DAY_1)],
        [(5.0, None), (2.0, ReadingProblem.STALE)],
    ),
    "unusable_first_then_any_value": (
        [(bad(ReadingProblem.UNKNOWN), DAY_1), (ok(3.0), DAY_1)],
        [(None, ReadingProblem.UNKNOWN), (3.0, None)],
    ),
    "unusable_first_then_new_day": (
        [(bad(ReadingProblem.UNKNOWN), DAY_1), (ok(3.0), DAY_2)],
        [(None, ReadingProblem.UNKNOWN), (3.0, None)],
    ),
    "unusable_over_midnight_then_reset": (
        [(ok(12.0), DAY_1), (bad(ReadingProblem.UNAVAILABLE), DAY_2), (ok(0.2), DAY_2)],
        [(12.0, None), (None, ReadingProblem.UNAVAILABLE), (0.2, None)],
    ),
    "unusable_over_midnight_then_no_reset": (
        [
            (ok(12.0), DAY_1),
            (bad(ReadingProblem.UNAVAILABLE), DAY_2),
            (ok(12.0), DAY_2),
        ],
        [(12.0, None), (None, ReadingProblem.UNAVAILABLE), (12.0, NR)],
    ),
}


@pytest.mark.parametrize(
    ("steps", "expected"), list(SEQUENCES.values()), ids=list(SEQUENCES)
)
def test_counter_sequences(steps: list[Step], expected: list[Shown]) -> None:
    """Each reading passed on shows the trusted value and any problem with it."""
    assert _shown(steps) == expected


TRACKS: dict[str, tuple[list[Step], CounterTrack]] = {
    "first_reading": (
        [(ok(5.0), DAY_1)],
        CounterTrack(day=DAY_1, last_good_kwh=5.0, reset_seen=True),
    ),
    "jitter_keeps_highest": (
        [(ok(5.0), DAY_1), (ok(4.9995), DAY_1)],
        CounterTrack(day=DAY_1, last_good_kwh=5.0, reset_seen=True),
    ),
    "held_keeps_last_good": (
        [(ok(5.0), DAY_1), (ok(3.0), DAY_1)],
        CounterTrack(day=DAY_1, last_good_kwh=5.0, reset_seen=True),
    ),
    "waiting_for_reset": (
        [(ok(12.0), DAY_1), (ok(12.0), DAY_2)],
        CounterTrack(day=DAY_2, last_good_kwh=12.0, reset_seen=False),
    ),
    "reset_seen": (
        [(ok(12.0), DAY_1), (ok(0.0), DAY_2)],
        CounterTrack(day=DAY_2, last_good_kwh=0.0, reset_seen=True),
    ),
    "unusable_keeps_yesterday": (
        [(ok(12.0), DAY_1), (bad(ReadingProblem.UNAVAILABLE), DAY_2)],
        CounterTrack(day=DAY_1, last_good_kwh=12.0, reset_seen=True),
    ),
}


@pytest.mark.parametrize(("steps", "expected"), list(TRACKS.values()), ids=list(TRACKS))
def test_counter_track(steps: list[Step], expected: CounterTrack) -> None:
    """The track remembers the day, the last trusted value and whether it reset."""
    track = _run(steps)[1]
    assert track is not None
    assert replace(track, changed_at=None) == expected


def test_unusable_first_reading_leaves_no_history() -> None:
    """A first reading that is unusable gives no history to trust later."""
    assert _run([(bad(ReadingProblem.MISSING), DAY_1)])[1] is None


def test_held_reading_keeps_report_time_and_age() -> None:
    """A held value still carries the incoming report's time and age."""
    track = CounterTrack(day=DAY_1, last_good_kwh=5.0, reset_seen=True)
    incoming = Reading(value=3.0, problem=None, reported_at=NOW, age_seconds=4.0)
    held, _ = track_counter(incoming, track, _at(DAY_1, 0))
    assert held == Reading(value=5.0, problem=WB, reported_at=NOW, age_seconds=4.0)


def _on(day: date, values: list[float]) -> list[Step]:
    """Return usable readings of `values`, all on `day`."""
    return [(ok(value), day) for value in values]


def _max_drop(steps: list[Step]) -> float:
    """Return how far an accepted value fell below an earlier accepted one."""
    used = _run(steps)[0]
    accepted = [r.value for r in used if r.usable and r.value is not None]
    return max(
        (
            earlier - later
            for i, later in enumerate(accepted)
            for earlier in accepted[:i]
        ),
        default=0.0,
    )


@given(st.lists(st.floats(0, 1000), max_size=30))
def test_accepted_values_never_drop_within_a_day(values: list[float]) -> None:
    """Within one day no accepted value is more than the tolerance below an earlier one."""
    assert _max_drop(_on(DAY_1, values)) <= ZERO_KWH


@given(st.lists(st.floats(0, ZERO_KWH * 0.99), min_size=1, max_size=200))
def test_small_steps_down_cannot_add_up(drops: list[float]) -> None:
    """Many drops each within the tolerance are caught once they add up."""
    values = list(accumulate(drops, sub, initial=10.0))
    assert _max_drop(_on(DAY_1, values)) <= ZERO_KWH


@st.composite
def not_reset_days(draw: st.DrawFn) -> tuple[float, list[float]]:
    """Draw yesterday's last value and today's values that neither drop nor read zero."""
    yesterday = draw(st.floats(ZERO_KWH * 2, 1000))
    low = max(yesterday - ZERO_KWH, ZERO_KWH * 2)
    today = draw(st.lists(st.floats(low, 1000), min_size=1))
    return yesterday, today


@given(not_reset_days())
def test_yesterdays_value_is_never_taken_for_today(
    days: tuple[float, list[float]],
) -> None:
    """On a new day nothing is accepted until the counter dropped below yesterday's."""
    yesterday, today = days
    shown = _shown([(ok(yesterday), DAY_1), *_on(DAY_2, today)])
    assert set(shown[1:]) == {(yesterday, NR)}


STORED_TRACKS = {
    "fresh": CounterTrack(day=date(2026, 6, 15), last_good_kwh=None, reset_seen=True),
    "waiting": CounterTrack(day=date(2026, 6, 15), last_good_kwh=7.5, reset_seen=False),
}


@pytest.mark.parametrize("track", list(STORED_TRACKS.values()), ids=list(STORED_TRACKS))
def test_track_round_trip(track: CounterTrack) -> None:
    """A stored counter track reads back unchanged."""
    assert track_from_data(track_to_data(track)) == track


BAD_TRACK_DATA: dict[str, object] = {
    "none": None,
    "text": "track",
    "no_day": {"last_good_kwh": 1.0, "reset_seen": True},
    "bad_day": {"day": "someday", "last_good_kwh": 1.0, "reset_seen": True},
    "bad_value": {"day": "2026-06-15", "last_good_kwh": "lots", "reset_seen": True},
    "no_reset_flag": {"day": "2026-06-15", "last_good_kwh": 1.0},
}


@pytest.mark.parametrize(
    "data", list(BAD_TRACK_DATA.values()), ids=list(BAD_TRACK_DATA)
)
def test_malformed_track_data_is_refused(data: object) -> None:
    """Malformed stored track data are dropped, never trusted."""
    assert track_from_data(data) is None


def test_restored_yesterday_track_waits_for_reset() -> None:
    """After a restart past midnight, yesterday's total is not taken as today's."""
    stored = track_from_data(
        {"day": "2026-06-14", "last_good_kwh": 18.2, "reset_seen": True}
    )
    reading = Reading(value=18.2, problem=None)
    held, track = track_counter(reading, stored, _at(date(2026, 6, 15), 0))
    assert held.problem is ReadingProblem.NOT_RESET
    assert track is not None
    assert track.reset_seen is False


LONDON_MIDNIGHT = datetime(2026, 6, 17, 0, 0, tzinfo=UTC)
NR_OR_OK = ReadingProblem | None


@pytest.mark.parametrize(
    ("value", "minutes", "max_kw", "expected"),
    [
        (15.0, 10, 15.0, NR),
        (2.4, 10, 15.0, None),
        (2.6, 10, 15.0, NR),
        (0.0, 10, 15.0, None),
        (ZERO_KWH, 1, None, None),
        (0.5, 600, None, NR),
        (40.0, 120, 15.0, NR),
        (29.0, 120, 15.0, None),
    ],
    ids=[
        "yesterdays_pv_just_after_midnight",
        "reachable_since_midnight",
        "just_beyond_reach",
        "reads_zero",
        "zero_with_no_bound",
        "no_bound_is_ambiguous",
        "more_than_two_hours_of_peak",
        "within_two_hours_of_peak",
    ],
)
def test_first_reading_must_be_possible_today(
    value: float, minutes: int, max_kw: float | None, expected: NR_OR_OK
) -> None:
    """With no usable history a reading counts only if today could have made it."""
    now = LONDON_MIDNIGHT + timedelta(minutes=minutes)
    used, track = track_counter(ok(value), None, now, max_kw=max_kw)
    assert used.problem is expected
    assert track is not None
    assert track.reset_seen is (expected is None)


def test_ambiguous_first_reading_clears_when_it_resets() -> None:
    """An ambiguous first reading is trusted once the counter drops (resets)."""
    now = LONDON_MIDNIGHT + timedelta(minutes=10)
    _, track = track_counter(ok(15.0), None, now, max_kw=15.0)
    same, track = track_counter(ok(15.0), track, now, max_kw=15.0)
    assert same.problem is NR
    reset, track = track_counter(ok(0.2), track, now, max_kw=15.0)
    assert reset.problem is None
    assert track is not None
    assert track.reset_seen


def _reset_at(value: float, last_reset: str | None) -> Reading:
    """Return a usable reading with a `last_reset` attribute."""
    stamp = None if last_reset is None else datetime.fromisoformat(last_reset)
    return replace(ok(value), last_reset=stamp)


@pytest.mark.parametrize(
    ("history", "reading", "expected"),
    [
        (None, _reset_at(15.0, "2026-06-16T00:00:00+00:00"), NR),
        (None, _reset_at(15.0, "2026-06-17T00:00:00+00:00"), None),
        (
            CounterTrack(day=date(2026, 6, 16), last_good_kwh=20.0, reset_seen=True),
            _reset_at(25.0, "2026-06-17T00:00:00+00:00"),
            None,
        ),
        (
            CounterTrack(day=date(2026, 6, 17), last_good_kwh=1.0, reset_seen=True),
            _reset_at(1.2, "2026-06-16T00:00:00+00:00"),
            NR,
        ),
    ],
    ids=["reset_yesterday", "reset_today", "reset_today_over_history", "stale_reset"],
)
def test_last_reset_decides_when_present(
    history: CounterTrack | None, reading: Reading, expected: NR_OR_OK
) -> None:
    """A counter's own `last_reset` says whether it counts today."""
    now = LONDON_MIDNIGHT + timedelta(hours=9)
    used, _ = track_counter(reading, history, now, max_kw=15.0)
    assert used.problem is expected


IMP = ReadingProblem.IMPLAUSIBLE
T0 = LONDON_MIDNIGHT + timedelta(hours=12)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([(4.0, 0), (40.0, 60)], [(4.0, None), (4.0, IMP)]),
        ([(4.0, 0), (4.3, 60)], [(4.0, None), (4.3, None)]),
        ([(4.0, 0), (4.5, 60)], [(4.0, None), (4.0, IMP)]),
        ([(4.0, 0), (9.0, 3600)], [(4.0, None), (9.0, None)]),
        ([(4.0, 0), (40.0, 60), (40.0, 36000)], [(4.0, None), (4.0, IMP), (4.0, IMP)]),
        ([(4.0, 0), (40.0, 60), (4.05, 120)], [(4.0, None), (4.0, IMP), (4.05, None)]),
        (
            [(4.0, 0), (40.0, 60), (4.0, 120), (4.2, 130)],
            [(4.0, None), (4.0, IMP), (4.0, None), (4.2, None)],
        ),
    ],
    ids=[
        "jump_to_40",
        "within_peak",
        "beyond_peak_and_slack",
        "an_hour_at_peak",
        "held_for_the_day",
        "back_to_trusted",
        "checked_again_after",
    ],
)
def test_rise_faster_than_the_site_is_held(
    steps: list[tuple[float, int]], expected: list[Shown]
) -> None:
    """A rise beyond peak power since the last rise is held as implausible."""
    track: CounterTrack | None = None
    shown: list[Shown] = []
    for value, seconds in steps:
        used, track = track_counter(
            ok(value), track, T0 + timedelta(seconds=seconds), max_kw=15.0
        )
        shown.append((used.value, used.problem))
    assert shown == expected


def test_implausible_flag_and_change_time_are_stored() -> None:
    """The plausibility state survives a restart."""
    track = CounterTrack(
        day=date(2026, 6, 17),
        last_good_kwh=4.0,
        reset_seen=True,
        changed_at=T0,
        implausible=True,
    )
    assert track_from_data(track_to_data(track)) == track


def test_naive_stored_change_time_is_malformed() -> None:
    """A stored change time without a zone is refused."""
    data = {
        **track_to_data(CounterTrack(day=DAY_1, last_good_kwh=1.0, reset_seen=True))
    }
    data["changed_at"] = "2026-06-15T12:00:00"
    assert track_from_data(data) is None


def test_export_jump_keeps_the_higher_value_it_claims() -> None:
    """An implausible export rise is flagged, yet shows the higher (cautious) value."""
    _, track = track_counter(ok(4.0), None, T0, max_kw=15.0, keep_higher=True)
    used, track = track_counter(
        ok(9.0), track, T0 + timedelta(seconds=10), max_kw=15.0, keep_higher=True
    )
    assert (used.value, used.problem) == (9.0, IMP)
    assert track is not None
    assert track.last_good_kwh == 4.0


def test_stored_track_without_a_value_takes_the_first_one() -> None:
    """A stored track of today with no value yet trusts the next reading."""
    empty = CounterTrack(day=T0.date(), last_good_kwh=None, reset_seen=True)
    used, track = track_counter(ok(2.0), empty, T0, max_kw=15.0)
    assert used.problem is None
    assert track == replace(empty, last_good_kwh=2.0, changed_at=T0)
