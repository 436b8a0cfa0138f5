"""Daily counters: resets at local midnight, glitches and impossible jumps held and flagged."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any, Final

from .readings import Reading, ReadingProblem

# Below this a counter is taken as already at zero (no reset can be seen).
ZERO_KWH: Final = 0.001
# A rise may exceed the physical bound by this much: one step of a coarse meter.
PLAUSIBLE_SLACK_KWH: Final = 0.1
# Rounding of the meters' decimal values (3.1 - 3.0 is a little above 0.1).
_ROUNDING_KWH: Final = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterTrack:
    """What we last trusted of one daily counter."""

    day: date
    last_good_kwh: float | None
    reset_seen: bool
    # When the trusted value last rose: the start of the next plausibility check.
    changed_at: datetime | None = None
    # A rise was impossible: held for the day unless it comes back to the trusted value.
    implausible: bool = False


def local_midnight(now: datetime) -> datetime:
    """Return the start of the local day of `now`."""
    return datetime.combine(now.date(), time(), now.tzinfo)


def _hours_between(start: datetime, end: datetime) -> float:
    """Return the real hours from `start` to `end` (across clock changes)."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600.0


def possible_today(value: float, now: datetime, max_kw: float | None) -> bool:
    """Return whether a first reading can be today's: zero, or reachable since midnight."""
    if value <= ZERO_KWH:
        return True
    if max_kw is None:
        return False
    return value <= max_kw * _hours_between(local_midnight(now), now)


def track_counter(
    reading: Reading,
    track: CounterTrack | None,
    now: datetime,
    *,
    max_kw: float | None = None,
    keep_higher: bool = False,
) -> tuple[Reading, CounterTrack | None]:
    """Check a daily counter against its history; return the reading to use and the new track.

    `keep_higher` (the export counter): an implausible rise is flagged but shows the
    higher value it claims, since more export than trusted is the cautious reading.
    """
    if not reading.usable or reading.value is None:
        return reading, track
    value = reading.value
    today = now.date()
    if track is not None and track.day != today:
        track = _new_day(track, today)
    if track is None:
        track = CounterTrack(
            day=today,
            last_good_kwh=value,
            reset_seen=possible_today(value, now, max_kw),
            changed_at=now,
        )
    reset_today = _reset_today(reading, now)
    if reset_today is False:
        return _held(reading, track, ReadingProblem.NOT_RESET), track
    if reset_today and not track.reset_seen:
        track = replace(track, last_good_kwh=value, reset_seen=True, changed_at=now)
    if not track.reset_seen:
        return _await_reset(reading, track, value, now)
    checked, track = _check_rise(reading, track, value, now, max_kw)
    if keep_higher and checked.problem is ReadingProblem.IMPLAUSIBLE:
        checked = replace(reading, problem=ReadingProblem.IMPLAUSIBLE)
    return checked, track


def _reset_today(reading: Reading, now: datetime) -> bool | None:
    """Return what the counter's own `last_reset` says of today; None when it has none."""
    if reading.last_reset is None:
        return None
    return reading.last_reset >= local_midnight(now)


def _check_rise(
    reading: Reading,
    track: CounterTrack,
    value: float,
    now: datetime,
    max_kw: float | None,
) -> tuple[Reading, CounterTrack]:
    """Hold a counter that went backwards or rose faster than physically possible."""
    last = track.last_good_kwh
    if last is None:
        return reading, replace(track, last_good_kwh=value, changed_at=now)
    if track.implausible:
        if value > last + PLAUSIBLE_SLACK_KWH + _ROUNDING_KWH:
            return _held(reading, track, ReadingProblem.IMPLAUSIBLE), track
        track = replace(track, implausible=False)
    if value < last - ZERO_KWH:
        return _held(reading, track, ReadingProblem.WENT_BACKWARDS), track
    if value <= last:
        # Keep the highest value: drops within the tolerance must not add up unseen.
        return reading, track
    if not _plausible_rise(value - last, track.changed_at, now, max_kw):
        held = replace(track, implausible=True)
        return _held(reading, held, ReadingProblem.IMPLAUSIBLE), held
    return reading, replace(track, last_good_kwh=value, changed_at=now)


def _plausible_rise(
    rise_kwh: float, since: datetime | None, now: datetime, max_kw: float | None
) -> bool:
    """Return whether a rise fits the most power the site can deliver since `since`."""
    if max_kw is None or since is None:
        return True
    bound = max_kw * max(0.0, _hours_between(since, now)) + PLAUSIBLE_SLACK_KWH
    bound += _ROUNDING_KWH
    return rise_kwh <= bound


def _new_day(track: CounterTrack, today: date) -> CounterTrack | None:
    """Start a new local day: yesterday's last value must be seen to drop first."""
    if (today - track.day).days != 1:
        # History older than yesterday says nothing about what the counter shows now.
        return None
    already_zero = track.last_good_kwh is None or track.last_good_kwh <= ZERO_KWH
    return CounterTrack(
        day=today,
        last_good_kwh=track.last_good_kwh,
        reset_seen=already_zero,
        changed_at=None,
    )


def _await_reset(
    reading: Reading, track: CounterTrack, value: float, now: datetime
) -> tuple[Reading, CounterTrack]:
    """Accept a counter only once it has dropped below the last value, or reads zero."""
    last = track.last_good_kwh
    dropped = last is not None and value < last - ZERO_KWH
    if dropped or value <= ZERO_KWH:
        return reading, CounterTrack(
            day=track.day, last_good_kwh=value, reset_seen=True, changed_at=now
        )
    return _held(reading, track, ReadingProblem.NOT_RESET), track


def _held(reading: Reading, track: CounterTrack, problem: ReadingProblem) -> Reading:
    """Keep the last good value on display, marked with the problem."""
    return Reading(
        value=track.last_good_kwh,
        problem=problem,
        reported_at=reading.reported_at,
        age_seconds=reading.age_seconds,
    )


def track_to_data(track: CounterTrack) -> dict[str, Any]:
    """Return a JSON-ready dict of a counter track."""
    changed = track.changed_at
    return {
        "day": track.day.isoformat(),
        "last_good_kwh": track.last_good_kwh,
        "reset_seen": track.reset_seen,
        "changed_at": None if changed is None else changed.isoformat(),
        "implausible": track.implausible,
    }


def track_from_data(data: Any) -> CounterTrack | None:
    """Rebuild a stored counter track; None when malformed."""
    if not isinstance(data, dict):
        return None
    try:
        last = data.get("last_good_kwh")
        changed = data.get("changed_at")
        return CounterTrack(
            day=date.fromisoformat(str(data["day"])),
            last_good_kwh=None if last is None else float(last),
            reset_seen=bool(data["reset_seen"]),
            changed_at=None if changed is None else _aware(str(changed)),
            implausible=bool(data.get("implausible", False)),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _aware(text: str) -> datetime:
    """Parse a stored time; a naive one is malformed."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(text)
    return parsed
