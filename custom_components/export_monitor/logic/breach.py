"""The breach detector: measured export today beyond the allowance, whatever runs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Final

from .readings import Reading, ReadingProblem

# Only float noise is forgiven: any measurable amount beyond the allowance is a breach.
BREACH_EPSILON_KWH: Final = 1e-6
# Within one episode a breach is reported again each time it grows by this much.
REPORT_STEP_KWH: Final = 0.1


@dataclass(frozen=True, slots=True, kw_only=True)
class BreachRecord:
    """What the detector knows of one local day's export beyond the allowance."""

    day: date
    over_kwh: float = 0.0
    max_over_kwh: float = 0.0
    reported_kwh: float = 0.0
    first_at: datetime | None = None

    @property
    def exceeded(self) -> bool:
        """Return whether export is beyond the allowance now."""
        return self.over_kwh > 0.0

    @property
    def breached_today(self) -> bool:
        """Return whether export went beyond the allowance at any time today."""
        return self.max_over_kwh > 0.0

    def over_today_kwh(self, today: date) -> float:
        """Return the day's largest over-export, 0 when the record is of another day."""
        return self.max_over_kwh if self.day == today else 0.0


_LOWER_BOUNDS: Final = frozenset(
    {ReadingProblem.WENT_BACKWARDS, ReadingProblem.IMPLAUSIBLE}
)


def measured_export_kwh(reading: Reading | None) -> float | None:
    """Return today's export as measured: a usable value or a held lower bound."""
    if reading is None:
        return None
    if reading.usable or reading.problem in _LOWER_BOUNDS:
        # A counter that dropped mid-day is held at its last good value: today's
        # export is at least that. One that rose implausibly shows what it claims.
        return reading.value
    return None


def over_export_kwh(exported_kwh: float, allowance_kwh: float) -> float:
    """Return the export beyond the allowance, 0 within it (float noise forgiven).

    An allowance below 0 (less PV than the margin, as every night) counts as 0:
    exporting nothing is no breach. The simulator scores days the same way.
    """
    over = exported_kwh - max(0.0, allowance_kwh)
    return over if over > BREACH_EPSILON_KWH else 0.0


def judge_breach(
    record: BreachRecord | None,
    exported_kwh: float | None,
    allowance_kwh: float | None,
    now: datetime,
) -> tuple[BreachRecord, bool]:
    """Return the day's record after one look at the meters, and whether to report it.

    A report is due when an episode (a stretch of time over the allowance) begins,
    and again each time it grows by REPORT_STEP_KWH beyond the last report.
    Without a measurement (or an allowance) the record only rolls over at midnight.
    """
    today = now.date()
    if record is None or record.day != today:
        record = BreachRecord(day=today)
    if exported_kwh is None or allowance_kwh is None:
        return record, False
    over = over_export_kwh(exported_kwh, allowance_kwh)
    if over == 0.0:
        return replace(record, over_kwh=0.0, reported_kwh=0.0), False
    grown = over + BREACH_EPSILON_KWH >= record.reported_kwh + REPORT_STEP_KWH
    report = record.reported_kwh == 0.0 or grown
    return (
        replace(
            record,
            over_kwh=over,
            max_over_kwh=max(over, record.max_over_kwh),
            reported_kwh=over if report else record.reported_kwh,
            first_at=record.first_at or now,
        ),
        report,
    )


def breach_to_data(record: BreachRecord) -> dict[str, Any]:
    """Return a JSON-ready dict of a breach record."""
    return {
        "day": record.day.isoformat(),
        "over_kwh": record.over_kwh,
        "max_over_kwh": record.max_over_kwh,
        "reported_kwh": record.reported_kwh,
        "first_at": None if record.first_at is None else record.first_at.isoformat(),
    }


def breach_from_data(data: Any) -> BreachRecord | None:
    """Rebuild a stored breach record; None when malformed."""
    if not isinstance(data, dict):
        return None
    try:
        first_at = data.get("first_at")
        return BreachRecord(
            day=date.fromisoformat(str(data["day"])),
            over_kwh=float(data["over_kwh"]),
            max_over_kwh=float(data["max_over_kwh"]),
            reported_kwh=float(data["reported_kwh"]),
            first_at=None if first_at is None else datetime.fromisoformat(first_at),
        )
    except (KeyError, TypeError, ValueError):
        return None
