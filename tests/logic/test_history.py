"""Tests of the compliance history's record arithmetic and its stored form."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.export_monitor.logic.history import (
    HISTORY_DAYS,
    MAX_GAP_SECONDS,
    DayRecord,
    DaySample,
    History,
    closed_to_data,
    history_from_data,
    history_from_stored,
    history_to_data,
    open_to_data,
    over_export_kwh,
    parse_days,
    record_from_data,
    record_sample,
    record_start,
    record_stop,
    record_to_data,
    roll,
)

TZ = ZoneInfo("Europe/Berlin")
# Listing health checks replaces the profile's list (tests/conftest.py): keep its three.
# Deadline and health checks come from the loaded profile (tests/conftest.py).
RELAXED = settings(max_examples=200)


def at(text: str) -> datetime:
    """Return an aware local moment from ISO wall-clock text."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def sample(
    text: str,
    allowance: float | None = 5.0,
    exported: float | None = 1.0,
    pv: float | None = 5.5,
) -> DaySample:
    """Return a sample taken at the local time `text`."""
    return DaySample(
        at=at(text), allowance_kwh=allowance, exported_kwh=exported, pv_kwh=pv
    )


def watch(history: History, until: datetime) -> History:
    """Sample without figures every 5 minutes up to `until`, as a watching Home Assistant."""
    now = history.days[0].last_seen
    # In real time (UTC): wall-clock steps would skip the hour repeated when clocks go back.
    while (now := (now.astimezone(UTC) + timedelta(minutes=5)).astimezone(TZ)) < until:
        history = record_sample(
            history,
            DaySample(at=now, allowance_kwh=None, exported_kwh=None, pv_kwh=None),
        )
    return history


def watched_day(day: str, *samples: tuple[str, float, float]) -> History:
    """Return a history that watched `day` from midnight, with (time, allowance, exported) samples."""
    history = roll(History(), at(f"{day}T00:00:00"))
    for time_text, allowance, exported in samples:
        history = watch(history, at(f"{day}T{time_text}"))
        history = record_sample(
            history, sample(f"{day}T{time_text}", allowance, exported)
        )
    return history


# -- over-export ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exported", "allowance", "over"),
    [
        (1.0, 5.0, 0.0),
        (5.0, 5.0, 0.0),
        (5.25, 5.0, 0.25),
        (0.0, -0.5, 0.0),
        (0.2, -0.5, 0.2),
        (5.0000005, 5.0, 0.0),
    ],
    ids=[
        "within",
        "exactly_at",
        "over",
        "negative_allowance_nothing_out",
        "negative_allowance",
        "float_noise",
    ],
)
def test_over_export(exported: float, allowance: float, over: float) -> None:
    """The history uses the breach detector's over-export: below-0 allowance as 0, noise forgiven."""
    assert over_export_kwh(exported, allowance) == pytest.approx(over)


def test_over_export_is_the_days_worst() -> None:
    """The day's over-export is its worst moment, even when the allowance later caught up."""
    history = watched_day(
        "2026-06-15",
        ("08:00:00", 1.0, 1.0),
        ("08:05:00", 1.0, 1.4),
        ("08:10:00", 2.0, 1.5),
    )
    record = history.days[0]
    assert record.over_export_kwh == pytest.approx(0.4)
    assert (record.allowance_kwh, record.exported_kwh) == (2.0, 1.5)


def test_unusable_values_keep_the_last_ones() -> None:
    """A sample without values keeps the last usable ones and adds no over-export."""
    history = watched_day("2026-06-15", ("08:00:00", 3.0, 1.0))
    history = record_sample(history, sample("2026-06-15T08:01:00", None, None, None))
    record = history.days[0]
    assert (record.allowance_kwh, record.exported_kwh, record.pv_kwh) == (3.0, 1.0, 5.5)
    assert record.over_export_kwh == 0.0
    assert record.last_seen == at("2026-06-15T08:01:00")


# -- days open and close -------------------------------------------------------------------


def test_day_closes_at_midnight_and_counts_compliant() -> None:
    """Rolling past midnight closes the day, whole and compliant, and opens the next."""
    history = watched_day("2026-06-15", ("23:59:55", 5.0, 4.0))
    history = roll(history, at("2026-06-16T00:00:00"))
    new, old = history.days
    assert (new.day, new.closed, new.partial) == (date(2026, 6, 16), False, False)
    assert (old.day, old.closed, old.partial, old.compliant) == (
        date(2026, 6, 15),
        True,
        False,
        True,
    )
    assert history.compliant_days == 1


@pytest.mark.parametrize(
    ("samples", "compliant"),
    [
        ((("12:00:00", 5.0, 5.5),), False),
        ((), False),
    ],
    ids=["over", "no_export_figure"],
)
def test_days_that_are_not_compliant(
    samples: tuple[tuple[str, float, float], ...], compliant: bool
) -> None:
    """A day over its allowance, or without an export figure, is not counted compliant."""
    history = watched_day("2026-06-15", *samples)
    history = record_sample(history, sample("2026-06-15T23:59:59", None, None, None))
    history = roll(history, at("2026-06-16T00:00:00"))
    assert history.days[1].compliant is compliant
    assert history.compliant_days == 0


@pytest.mark.parametrize(
    ("start", "partial"),
    [
        ("2026-06-15T00:00:00", False),
        ("2026-06-15T00:10:00", False),
        ("2026-06-15T00:10:01", True),
        ("2026-06-15T14:00:00", True),
    ],
    ids=["midnight", "within_gap", "just_late", "afternoon"],
)
def test_a_day_started_late_is_partial(start: str, partial: bool) -> None:
    """A day first seen more than the gap after midnight is partial."""
    assert MAX_GAP_SECONDS == 600
    assert roll(History(), at(start)).days[0].partial is partial


def test_a_gap_during_the_day_makes_it_partial() -> None:
    """A sample more than the gap after the last one marks the day partial."""
    history = watched_day("2026-06-15", ("10:00:00", 5.0, 1.0))
    assert not history.days[0].partial
    history = record_sample(history, sample("2026-06-15T10:10:01"))
    assert history.days[0].partial


def test_a_day_whose_end_was_not_watched_closes_partial() -> None:
    """Home Assistant down over midnight: the day closes partial and is not compliant."""
    history = watched_day("2026-06-15", ("20:00:00", 5.0, 1.0))
    history = record_sample(history, sample("2026-06-16T09:00:00"))
    new, old = history.days
    assert (old.closed, old.partial, old.compliant) == (True, True, False)
    assert (new.closed, new.partial) == (False, True)
    assert history.compliant_days == 0


def test_missing_days_are_simply_missing() -> None:
    """Days with Home Assistant down throughout get no record."""
    history = watched_day("2026-06-15", ("23:59:59", 5.0, 1.0))
    history = roll(history, at("2026-06-18T00:00:00"))
    assert [record.day.day for record in history.days] == [18, 15]


@pytest.mark.parametrize(
    ("day", "last", "partial"),
    [
        ("2026-03-29", "23:51:00", False),
        ("2026-03-29", "23:49:59", True),
        ("2026-10-25", "23:51:00", False),
        ("2026-10-25", "23:49:59", True),
    ],
    ids=["23h_day_end_watched", "23h_day_gap", "25h_day_end_watched", "25h_day_gap"],
)
def test_dst_days_close_at_their_own_midnight(
    day: str, last: str, partial: bool
) -> None:
    """On 23 and 25 hour days the end gap is measured in real time to local midnight."""
    history = watched_day(day, (last, 5.0, 1.0))
    next_day = date.fromisoformat(day) + timedelta(days=1)
    history = roll(history, datetime.combine(next_day, datetime.min.time(), TZ))
    assert history.days[1].partial is partial


def test_a_dst_change_is_no_gap() -> None:
    """The clocks going forward at 02:00 is not a gap in watching."""
    history = watched_day("2026-03-29", ("01:59:00", 5.0, 1.0))
    history = record_sample(history, sample("2026-03-29T03:01:00"))
    assert not history.days[0].partial


def test_the_clock_going_back_past_a_day_is_ignored() -> None:
    """A sample or event from a day before the newest record changes nothing."""
    history = watched_day("2026-06-15", ("12:00:00", 5.0, 1.0))
    earlier = at("2026-06-14T12:00:00")
    assert record_sample(history, sample("2026-06-14T12:00:00")) is history
    assert record_start(history, earlier) is history
    assert record_stop(history, earlier, "user", 1.0) is history


def test_a_closed_today_takes_nothing_more() -> None:
    """A record of today already closed (restored so) is not reopened."""
    history = watched_day("2026-06-15", ("12:00:00", 5.0, 1.0))
    closed = replace(history, days=(replace(history.days[0], closed=True),))
    assert record_start(closed, at("2026-06-15T13:00:00")) is closed


def test_the_history_keeps_at_most_its_limit() -> None:
    """Only the newest `limit` days are kept."""
    history = History()
    for day in range(1, 8):
        history = roll(history, at(f"2026-06-{day:02d}T00:00:00"), limit=3)
    assert [record.day.day for record in history.days] == [7, 6, 5]


# -- sessions -------------------------------------------------------------------------------


def test_sessions_and_stops_by_reason() -> None:
    """Starts count sessions; stops count by reason and add what the session exported."""
    history = watched_day("2026-06-15")
    now = at("2026-06-15T17:00:00")
    history = record_start(history, now)
    history = record_stop(history, now, "headroom_exhausted", 1.25)
    history = record_start(history, now)
    history = record_stop(history, now, "user", 0.5)
    history = record_stop(history, now, "user", float("nan"))
    history = record_stop(history, now, "restart", -0.2)
    record = history.days[0]
    assert record.sessions == 2
    assert dict(record.stops) == {"headroom_exhausted": 1, "user": 2, "restart": 1}
    assert record.discharged_kwh == pytest.approx(1.75)


# -- service input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "days"),
    [
        (1, 1),
        (30, 30),
        (400, 400),
        (7.0, 7),
        ("12", 12),
        (0, None),
        (401, None),
        (-3, None),
        (2.5, None),
        ("many", None),
        (None, None),
        (True, None),
        (float("nan"), None),
        (float("inf"), None),
        ([7], None),
    ],
    ids=[
        "one",
        "default",
        "max",
        "whole_float",
        "numeric_text",
        "zero",
        "too_many",
        "negative",
        "fraction",
        "text",
        "none",
        "bool",
        "nan",
        "inf",
        "list",
    ],
)
def test_parse_days(value: Any, days: int | None) -> None:
    """Only a whole number of days from 1 to the limit is accepted."""
    assert HISTORY_DAYS == 400
    assert parse_days(value) == days


# -- stored form -----------------------------------------------------------------------------


def full_history() -> History:
    """Return a history of two days, the newest open, with sessions."""
    history = watched_day("2026-06-14", ("23:59:30", 6.0, 6.2))
    history = record_start(history, at("2026-06-14T23:59:31"))
    history = record_stop(history, at("2026-06-14T23:59:40"), "midnight", 0.125)
    history = roll(history, at("2026-06-15T00:00:00"))
    return record_sample(history, sample("2026-06-15T00:00:10", -0.5, 0.0, 0.0))


def test_stored_form() -> None:
    """A record is stored as plain JSON, rounded to Wh, with its compliance."""
    assert record_to_data(full_history().days[1]) == {
        "day": "2026-06-14",
        "allowance_kwh": 6.0,
        "exported_kwh": 6.2,
        "over_export_kwh": 0.2,
        "pv_kwh": 5.5,
        "discharged_kwh": 0.125,
        "sessions": 1,
        "stops": {"midnight": 1},
        "first_seen": "2026-06-14T00:00:00+02:00",
        "last_seen": "2026-06-14T23:59:40+02:00",
        "partial": False,
        "closed": True,
        "compliant": False,
    }


def test_round_trip() -> None:
    """A stored history reads back to the same stored form."""
    stored = history_to_data(full_history())
    assert history_to_data(history_from_data(stored)) == stored


@pytest.mark.parametrize(
    "data",
    [None, [], {"days": "x"}, {"days": None}],
    ids=["none", "list", "days_text", "days_none"],
)
def test_unusable_store_gives_an_empty_history(data: Any) -> None:
    """Anything but a dict with a list of days reads as an empty history."""
    assert history_from_data(data) == History()


def good_record() -> dict[str, Any]:
    """Return the stored form of a valid closed record."""
    return record_to_data(full_history().days[1])


@pytest.mark.parametrize(
    "change",
    [
        {"day": "June"},
        {"day": None},
        {"first_seen": "2026-06-14T00:00:00"},
        {"last_seen": None},
        {"exported_kwh": "NaN"},
        {"over_export_kwh": "inf"},
        {"sessions": "two"},
        {"stops": {"user": "x"}},
        {"stops": 3},
    ],
    ids=[
        "bad_day",
        "no_day",
        "naive_time",
        "no_time",
        "nan",
        "inf",
        "bad_count",
        "bad_stop_count",
        "stops_not_a_mapping",
    ],
)
def test_malformed_records_are_dropped(change: dict[str, Any]) -> None:
    """A malformed record is dropped; the good ones stay."""
    other = {**good_record(), "day": "2026-06-13"}
    data = {"days": [{**good_record(), **change}, other, "junk"], "compliant_days": 3}
    history = history_from_data(data)
    assert [record.day for record in history.days] == [date(2026, 6, 13)]
    assert history.compliant_days == 3


def test_missing_flags_read_as_partial_and_closed() -> None:
    """A record without its flags is taken as closed and partial: unproven."""
    data = {k: v for k, v in good_record().items() if k not in {"partial", "closed"}}
    record = record_from_data(data)
    assert record is not None
    assert (record.closed, record.partial) == (True, True)


def test_order_and_open_records_are_repaired() -> None:
    """Out-of-order or repeated days are dropped; only the newest may stay open."""
    newest = {**good_record(), "day": "2026-06-15", "closed": False}
    older_open = {**good_record(), "day": "2026-06-13", "closed": False}
    repeated = {**good_record(), "day": "2026-06-15"}
    out_of_order = {**good_record(), "day": "2026-06-14"}
    history = history_from_data(
        {"days": [newest, repeated, older_open, out_of_order], "compliant_days": -1}
    )
    assert [(r.day.day, r.closed) for r in history.days] == [(15, False), (13, True)]
    assert history.compliant_days == 0


def test_stored_in_two_parts() -> None:
    """The closed days and the open day are stored apart and read back together."""
    history = full_history()
    closed, today = closed_to_data(history), open_to_data(history)
    assert [d["day"] for d in closed["days"]] == ["2026-06-14"]
    assert today["day"]["day"] == "2026-06-15"
    assert history_to_data(history_from_stored(closed, today)) == history_to_data(
        history
    )


def test_without_an_open_day_the_open_part_is_empty() -> None:
    """After a day closes and before a new one opens, the open part holds nothing."""
    history = full_history()
    closed_only = replace(history, days=history.days[1:])
    assert open_to_data(closed_only) == {"day": None}
    stored = history_to_data(closed_only)
    assert (
        history_to_data(history_from_stored(closed_to_data(closed_only), None))
        == stored
    )


@pytest.mark.parametrize(
    "today",
    [
        {"day": {**record_to_data(full_history().days[1]), "closed": False}},
        {"day": {**record_to_data(full_history().days[0]), "closed": True}},
        {"day": "junk"},
        "junk",
    ],
    ids=["already_closed_day", "closed_flag", "malformed", "not_a_dict"],
)
def test_an_unusable_open_part_is_ignored(today: Any) -> None:
    """An open day already closed (its write was pending at a crash) or malformed is dropped."""
    closed = closed_to_data(full_history())
    history = history_from_stored(closed, today)
    assert [r.day.day for r in history.days] == [14]
    assert history.compliant_days == 0


def test_the_stored_history_is_cut_to_its_limit() -> None:
    """A store with more days than the limit keeps the newest ones."""
    records = [
        {**good_record(), "day": (date(2026, 6, 14) - timedelta(days=n)).isoformat()}
        for n in range(5)
    ]
    history = history_from_data({"days": records}, limit=2)
    assert [r.day.day for r in history.days] == [14, 13]


# -- properties -------------------------------------------------------------------------------

EVENTS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=6 * 24 * 3600),
        st.sampled_from(["sample", "start", "stop", "roll"]),
        st.one_of(st.none(), st.floats(min_value=-5, max_value=50)),
        st.one_of(st.none(), st.floats(min_value=0, max_value=50)),
    ),
    max_size=60,
)


def apply(
    history: History, event: tuple[int, str, float | None, float | None]
) -> History:
    """Apply one generated event to a history of at most 3 days."""
    offset, kind, allowance, exported = event
    start = at("2026-03-27T00:00:00").astimezone(UTC)
    now = (start + timedelta(seconds=offset)).astimezone(TZ)
    if kind == "sample":
        step = DaySample(
            at=now, allowance_kwh=allowance, exported_kwh=exported, pv_kwh=None
        )
        return record_sample(history, step, limit=3)
    if kind == "start":
        return record_start(history, now, limit=3)
    if kind == "stop":
        return record_stop(history, now, "user", exported or 0.0, limit=3)
    return roll(history, now, limit=3)


@RELAXED
@given(EVENTS)
def test_history_invariants(
    events: list[tuple[int, str, float | None, float | None]],
) -> None:
    """Days stay newest first and bounded, only the first is open, figures never negative."""
    history = History()
    compliant_before = 0
    for event in sorted(events, key=lambda e: e[0]):
        history = apply(history, event)
        assert history.compliant_days >= compliant_before
        compliant_before = history.compliant_days
        days = [record.day for record in history.days]
        assert days == sorted(days, reverse=True)
        assert len(set(days)) == len(days) <= 3
        assert all(record.closed for record in history.days[1:])
        for record in history.days:
            assert record.over_export_kwh >= 0.0
            assert record.discharged_kwh >= 0.0
            assert record.sessions >= 0
            assert record.first_seen.astimezone(UTC) <= record.last_seen.astimezone(UTC)
        assert history_from_data(history_to_data(history), limit=3).days == tuple(
            _rounded(record) for record in history.days
        )


def _rounded(record: DayRecord) -> DayRecord:
    """Return a record as it reads back from the store (figures rounded to Wh)."""
    restored = record_from_data(record_to_data(record))
    assert restored is not None
    return restored


@RELAXED
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=-1, max_value=30), st.floats(min_value=0, max_value=30)
        ),
        min_size=1,
        max_size=30,
    )
)
def test_over_export_is_the_maximum_of_its_samples(
    figures: list[tuple[float, float]],
) -> None:
    """The day's over-export equals the worst sample's, whatever the order."""
    history = roll(History(), at("2026-06-15T00:00:00"))
    for minute, (allowance, exported) in enumerate(figures):
        history = record_sample(
            history, sample(f"2026-06-15T10:{minute:02d}:00", allowance, exported)
        )
    worst = max(over_export_kwh(e, a) for a, e in figures)
    assert history.days[0].over_export_kwh == pytest.approx(worst)
