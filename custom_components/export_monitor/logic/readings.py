"""Turn a source's raw state into a reading or the reason it is unusable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import math

from .units import VALID_RANGES, Quantity, unit_scale


class ReadingProblem(StrEnum):
    """Why a source's state cannot be used."""

    MISSING = "missing"
    UNKNOWN = "unknown"
    UNAVAILABLE = "unavailable"
    NOT_NUMERIC = "not_numeric"
    NOT_FINITE = "not_finite"
    BAD_UNIT = "bad_unit"
    OUT_OF_RANGE = "out_of_range"
    STALE = "stale"
    WENT_BACKWARDS = "went_backwards"
    NOT_RESET = "not_reset"
    IMPLAUSIBLE = "implausible"


@dataclass(frozen=True, slots=True, kw_only=True)
class RawState:
    """A source entity's state as Home Assistant holds it."""

    state: str
    unit: str | None
    reported_at: datetime
    last_reset: str | None = None
    # Monotonic seconds since the report was received: a backward step of the wall
    # clock cannot make it look new (the larger of both ages counts).
    received_age_seconds: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """A parsed source value in canonical units, or the problem that voids it."""

    value: float | None
    problem: ReadingProblem | None
    reported_at: datetime | None = None
    age_seconds: float | None = None
    last_reset: datetime | None = None
    # Older than the staleness limit but accepted: unchanged, from a source that
    # writes only on change (logic/freshness.py).
    quiet: bool = False

    @property
    def usable(self) -> bool:
        """Return whether the value may be used for decisions."""
        return self.problem is None and self.value is not None


def reserve_age_seconds(reading: Reading | None) -> float:
    """Return the report age the stop reserve must cover (0 for a quiet value).

    A quiet value is unchanged and would have been written had it changed; the
    time a counter stands still during a discharge is covered by its standing time.
    """
    if reading is None or reading.quiet:
        return 0.0
    return reading.age_seconds or 0.0


_STATE_PROBLEMS = {
    "unknown": ReadingProblem.UNKNOWN,
    "unavailable": ReadingProblem.UNAVAILABLE,
}


def parse_number(state: str) -> float | ReadingProblem:
    """Parse a state string into a finite float or the problem with it."""
    if (problem := _STATE_PROBLEMS.get(state.strip().lower())) is not None:
        return problem
    try:
        number = float(state)
    except ValueError:
        return ReadingProblem.NOT_NUMERIC
    if not math.isfinite(number):
        return ReadingProblem.NOT_FINITE
    return number


def convert(value: float, unit: str | None, quantity: Quantity) -> float | None:
    """Convert a value to the canonical unit of its quantity, None if impossible."""
    scale = unit_scale(unit, quantity)
    return None if scale is None else value * scale


def in_range(value: float, quantity: Quantity) -> bool:
    """Return whether a canonical value is physically plausible."""
    low, high = VALID_RANGES[quantity]
    return low <= value <= high


def age_seconds(reported_at: datetime, now: datetime) -> float:
    """Return how old a report is, never negative."""
    return max(0.0, (now - reported_at).total_seconds())


def is_stale(age: float, stale_after_seconds: float) -> bool:
    """Return whether an age passes the staleness threshold."""
    return age > stale_after_seconds


def parse_reading(
    raw: RawState | None,
    quantity: Quantity,
    *,
    now: datetime,
    stale_after_seconds: float,
) -> Reading:
    """Parse one source state into a canonical reading or a problem."""
    if raw is None:
        return Reading(value=None, problem=ReadingProblem.MISSING)
    age = max(age_seconds(raw.reported_at, now), raw.received_age_seconds)
    parsed = parse_number(raw.state)
    if isinstance(parsed, ReadingProblem):
        return _faulty(raw, parsed, age)
    value = convert(parsed, raw.unit, quantity)
    if value is None:
        return _faulty(raw, ReadingProblem.BAD_UNIT, age)
    if not in_range(value, quantity):
        return _faulty(raw, ReadingProblem.OUT_OF_RANGE, age)
    problem = ReadingProblem.STALE if is_stale(age, stale_after_seconds) else None
    return Reading(
        value=value,
        problem=problem,
        reported_at=raw.reported_at,
        age_seconds=age,
        last_reset=parse_last_reset(raw.last_reset),
    )


def parse_last_reset(text: str | None) -> datetime | None:
    """Parse a counter's `last_reset` attribute; None when absent or not a time."""
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _faulty(raw: RawState, problem: ReadingProblem, age: float) -> Reading:
    """Build a reading that carries only its problem."""
    return Reading(
        value=None, problem=problem, reported_at=raw.reported_at, age_seconds=age
    )
