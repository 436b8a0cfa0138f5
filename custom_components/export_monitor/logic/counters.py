"""Daily counters: expected resets at local midnight, glitches held and flagged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from .readings import Reading, ReadingProblem

# Below this a counter is taken as already at zero (no reset can be seen).
ZERO_KWH: Final = 0.001


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterTrack:
    """What we last trusted of one daily counter."""

    day: date
    last_good_kwh: float | None
    reset_seen: bool


def track_counter(
    reading: Reading, track: CounterTrack | None, today: date
) -> tuple[Reading, CounterTrack]:
    """Check a daily counter against its history; return the reading to use and the new track."""
    if not reading.usable or reading.value is None:
        return reading, track or CounterTrack(
            day=today, last_good_kwh=None, reset_seen=True
        )
    value = reading.value
    if track is None:
        return reading, CounterTrack(day=today, last_good_kwh=value, reset_seen=True)
    if track.day != today:
        track = _new_day(track, today)
    if not track.reset_seen:
        return _await_reset(reading, track, value)
    last = track.last_good_kwh
    if last is not None and value < last - ZERO_KWH:
        return _held(reading, track, ReadingProblem.WENT_BACKWARDS), track
    # Keep the highest value: drops within the tolerance must not add up unseen.
    kept = value if last is None else max(value, last)
    return reading, CounterTrack(day=today, last_good_kwh=kept, reset_seen=True)


def _new_day(track: CounterTrack, today: date) -> CounterTrack:
    """Start a new local day: yesterday's last value must be seen to drop first."""
    already_zero = track.last_good_kwh is None or track.last_good_kwh <= ZERO_KWH
    return CounterTrack(
        day=today, last_good_kwh=track.last_good_kwh, reset_seen=already_zero
    )


def _await_reset(
    reading: Reading, track: CounterTrack, value: float
) -> tuple[Reading, CounterTrack]:
    """Accept a counter only once it has dropped below yesterday's last value."""
    if track.last_good_kwh is not None and value < track.last_good_kwh - ZERO_KWH:
        return reading, CounterTrack(
            day=track.day, last_good_kwh=value, reset_seen=True
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
    return {
        "day": track.day.isoformat(),
        "last_good_kwh": track.last_good_kwh,
        "reset_seen": track.reset_seen,
    }


def track_from_data(data: Any) -> CounterTrack | None:
    """Rebuild a stored counter track; None when malformed."""
    if not isinstance(data, dict):
        return None
    try:
        last = data.get("last_good_kwh")
        return CounterTrack(
            day=date.fromisoformat(str(data["day"])),
            last_good_kwh=None if last is None else float(last),
            reset_seen=bool(data["reset_seen"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
