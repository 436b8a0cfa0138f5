"""Local-day arithmetic: UTC inside the simulator, the plant's time zone at its edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE: Final = "Europe/London"
# Events this close (seconds) to now count as due now (float noise in sums of steps).
EVENT_EPS: Final = 1e-9


def require_aware(moment: datetime) -> datetime:
    """Return the moment in UTC, refusing naive datetimes."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment.astimezone(UTC)


@lru_cache(maxsize=4096)
def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """Return the UTC instant at which the local day begins."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    """Return the local calendar date of an aware moment."""
    return moment.astimezone(tz).date()


def next_local_midnight(moment: datetime, tz: ZoneInfo) -> datetime:
    """Return the UTC instant of the first local midnight after the moment."""
    return local_midnight(local_day(moment, tz) + timedelta(days=1), tz)


def day_length_s(day: date, tz: ZoneInfo) -> float:
    """Return the length of a local day in seconds (23 h or 25 h on DST days)."""
    return (
        local_midnight(day + timedelta(days=1), tz) - local_midnight(day, tz)
    ).total_seconds()


def clock_hours(local: datetime) -> float:
    """Return the wall-clock time of a local datetime as fractional hours."""
    seconds = local.second + local.microsecond / 1e6
    return local.hour + local.minute / 60 + seconds / 3600


def in_window(clock: time, start: time, end: time) -> bool:
    """Return whether a clock time lies in [start, end); the window may cross midnight."""
    if start <= end:
        return start <= clock < end
    return clock >= start or clock < end
