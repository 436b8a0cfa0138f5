"""Tests of the daily export window."""

from __future__ import annotations

from datetime import time

from hypothesis import given, strategies as st
import pytest

from custom_components.export_monitor.logic.window import in_window, parse_time

TIMES: dict[str, tuple[str, time | None]] = {
    "hours_minutes": ("08:00", time(8, 0)),
    "hours_minutes_seconds": ("22:30:15", time(22, 30, 15)),
    "end_of_day": ("23:59:59", time(23, 59, 59)),
    "midnight": ("00:00:00", time(0, 0)),
    "empty": ("", None),
    "words": ("8am", None),
    "hour_25": ("25:00", None),
    "minute_60": ("12:60", None),
    "none_text": ("None", None),
    "with_offset": ("08:00:00+02:00", None),
    "utc_suffix": ("08:00Z", None),
}


@pytest.mark.parametrize(("text", "expected"), list(TIMES.values()), ids=list(TIMES))
def test_parse_time(text: str, expected: time | None) -> None:
    """Local clock times parse; malformed or offset times are refused."""
    assert parse_time(text) == expected


WINDOWS: dict[str, tuple[time, time, time, bool]] = {
    "normal_before": (time(7, 59, 59), time(8), time(17), False),
    "normal_at_start": (time(8), time(8), time(17), True),
    "normal_inside": (time(12), time(8), time(17), True),
    "normal_at_end": (time(17), time(8), time(17), True),
    "normal_after": (time(17, 0, 1), time(8), time(17), False),
    "midnight_before_start": (time(21, 59, 59), time(22), time(6), False),
    "midnight_at_start": (time(22), time(22), time(6), True),
    "midnight_late_evening": (time(23, 59, 59), time(22), time(6), True),
    "midnight_at_midnight": (time(0), time(22), time(6), True),
    "midnight_at_end": (time(6), time(22), time(6), True),
    "midnight_after_end": (time(6, 0, 1), time(22), time(6), False),
    "midnight_midday": (time(12), time(22), time(6), False),
    "equal_at_instant": (time(12), time(12), time(12), True),
    "equal_before": (time(11, 59, 59), time(12), time(12), False),
    "equal_after": (time(12, 0, 1), time(12), time(12), False),
    "default_first_second": (time(0), time(0), time(23, 59, 59), True),
    "default_last_second": (time(23, 59, 59), time(0), time(23, 59, 59), True),
}


@pytest.mark.parametrize(
    ("now", "start", "end", "expected"), list(WINDOWS.values()), ids=list(WINDOWS)
)
def test_in_window(now: time, start: time, end: time, expected: bool) -> None:
    """Boundaries are inclusive; an end before the start crosses midnight."""
    assert in_window(now, start, end) is expected


distinct_pairs = st.lists(st.times(), min_size=2, max_size=2, unique=True).map(sorted)


@given(st.times(), distinct_pairs)
def test_crossing_window_is_complement_of_gap(now: time, pair: list[time]) -> None:
    """A window crossing midnight holds every time not strictly between end and start."""
    end, start = pair
    assert in_window(now, start, end) is not (end < now < start)
