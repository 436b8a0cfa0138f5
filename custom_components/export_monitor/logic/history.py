"""Compliance history: one record per local day, built from snapshots and session events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
import math
from types import MappingProxyType
from typing import Any, Final

# One definition of over-export for the breach detector, its sensor and the history.
from .breach import over_export_kwh

# A longer time without a sample means Home Assistant was not watching: the day is partial.
MAX_GAP_SECONDS: Final = 600.0
HISTORY_DAYS: Final = 400


@dataclass(frozen=True, slots=True, kw_only=True)
class DaySample:
    """Today's figures at one moment (local time); None when not usable then."""

    at: datetime
    allowance_kwh: float | None
    exported_kwh: float | None
    pv_kwh: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DayRecord:
    """What one local day's export looked like against its allowance."""

    day: date
    allowance_kwh: float | None = None
    exported_kwh: float | None = None
    over_export_kwh: float = 0.0
    pv_kwh: float | None = None
    discharged_kwh: float = 0.0
    sessions: int = 0
    stops: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    first_seen: datetime
    last_seen: datetime
    partial: bool = False
    closed: bool = False

    @property
    def compliant(self) -> bool:
        """Return whether the day was watched whole and never exceeded its allowance."""
        return (
            self.closed
            and not self.partial
            and self.exported_kwh is not None
            and self.over_export_kwh == 0.0
        )


@dataclass(frozen=True, slots=True)
class History:
    """Days newest first (only the first may be open) and the compliant days ever closed."""

    days: tuple[DayRecord, ...] = ()
    compliant_days: int = 0


def _seconds(start: datetime, end: datetime) -> float:
    """Return the real seconds from start to end (UTC: a clock change is no gap)."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()


def _midnight(day: date, tzinfo: Any) -> datetime:
    """Return the local midnight that begins `day`."""
    return datetime.combine(day, time(), tzinfo)


def _open(now: datetime) -> DayRecord:
    """Return a new record for now's day, partial when it starts late."""
    late = _seconds(_midnight(now.date(), now.tzinfo), now) > MAX_GAP_SECONDS
    return DayRecord(day=now.date(), first_seen=now, last_seen=now, partial=late)


def _close(record: DayRecord, tzinfo: Any) -> DayRecord:
    """Return the record closed at its day's end, partial when its end was not watched."""
    end = _midnight(record.day + timedelta(days=1), tzinfo)
    late = _seconds(record.last_seen, end) > MAX_GAP_SECONDS
    return replace(record, closed=True, partial=record.partial or late)


def roll(history: History, now: datetime, limit: int = HISTORY_DAYS) -> History:
    """Close an open day that has ended and open `now`'s day; keep at most `limit` days."""
    days = history.days
    compliant = history.compliant_days
    if days and not days[0].closed and days[0].day < now.date():
        closed = _close(days[0], now.tzinfo)
        compliant += int(closed.compliant)
        days = (closed, *days[1:])
    if not days or days[0].day < now.date():
        days = (_open(now), *days)
    return History(days=days[:limit], compliant_days=compliant)


def _today(history: History, now: datetime, limit: int) -> History | None:
    """Return the history rolled to now with today's record first; None if now is in the past."""
    if history.days and now.date() < history.days[0].day:
        # The clock went back past a day already recorded: nothing to attribute it to.
        return None
    rolled = roll(history, now, limit)
    return None if rolled.days[0].closed else rolled


def _update(history: History, record: DayRecord) -> History:
    """Return the history with its first record replaced."""
    return replace(history, days=(record, *history.days[1:]))


def _seen(record: DayRecord, now: datetime) -> DayRecord:
    """Return the record seen at `now`; a long gap since the last sight makes it partial."""
    elapsed = _seconds(record.last_seen, now)
    # Compared in UTC: in the hour repeated when clocks go back, wall times mislead.
    latest = now if elapsed >= 0 else record.last_seen
    return replace(
        record, last_seen=latest, partial=record.partial or elapsed > MAX_GAP_SECONDS
    )


def record_sample(
    history: History, sample: DaySample, limit: int = HISTORY_DAYS
) -> History:
    """Add a snapshot's figures to its day: latest values, worst over-export."""
    rolled = _today(history, sample.at, limit)
    if rolled is None:
        return history
    record = _seen(rolled.days[0], sample.at)
    over = record.over_export_kwh
    if sample.exported_kwh is not None and sample.allowance_kwh is not None:
        over = max(over, over_export_kwh(sample.exported_kwh, sample.allowance_kwh))
    record = replace(
        record,
        allowance_kwh=_latest(sample.allowance_kwh, record.allowance_kwh),
        exported_kwh=_latest(sample.exported_kwh, record.exported_kwh),
        pv_kwh=_latest(sample.pv_kwh, record.pv_kwh),
        over_export_kwh=over,
    )
    return _update(rolled, record)


def record_start(history: History, now: datetime, limit: int = HISTORY_DAYS) -> History:
    """Count a discharge session started at `now`."""
    rolled = _today(history, now, limit)
    if rolled is None:
        return history
    record = _seen(rolled.days[0], now)
    return _update(rolled, replace(record, sessions=record.sessions + 1))


def record_stop(
    history: History,
    now: datetime,
    reason: str,
    exported_kwh: float,
    limit: int = HISTORY_DAYS,
) -> History:
    """Count a session's stop by reason and add what it exported."""
    rolled = _today(history, now, limit)
    if rolled is None:
        return history
    record = _seen(rolled.days[0], now)
    stops = dict(record.stops)
    stops[reason] = stops.get(reason, 0) + 1
    energy = exported_kwh if math.isfinite(exported_kwh) and exported_kwh > 0 else 0.0
    record = replace(
        record,
        stops=MappingProxyType(stops),
        discharged_kwh=record.discharged_kwh + energy,
    )
    return _update(rolled, record)


def _latest(value: float | None, previous: float | None) -> float | None:
    """Return the new value when usable, else keep the previous one."""
    return previous if value is None else value


def parse_days(value: Any) -> int | None:
    """Return a whole number of days within 1..HISTORY_DAYS, None for anything else."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not number.is_integer() or not 1 <= number <= HISTORY_DAYS:
        return None
    return int(number)


# -- stored form ---------------------------------------------------------------------------


def record_to_data(record: DayRecord) -> dict[str, Any]:
    """Return a JSON-ready dict of a day's record (also the service's answer)."""
    return {
        "day": record.day.isoformat(),
        "allowance_kwh": _round(record.allowance_kwh),
        "exported_kwh": _round(record.exported_kwh),
        "over_export_kwh": round(record.over_export_kwh, 3),
        "pv_kwh": _round(record.pv_kwh),
        "discharged_kwh": round(record.discharged_kwh, 3),
        "sessions": record.sessions,
        "stops": dict(sorted(record.stops.items())),
        "first_seen": record.first_seen.isoformat(),
        "last_seen": record.last_seen.isoformat(),
        "partial": record.partial,
        "closed": record.closed,
        "compliant": record.compliant,
    }


def history_to_data(history: History) -> dict[str, Any]:
    """Return the stored form of the whole history."""
    return {
        "days": [record_to_data(record) for record in history.days],
        "compliant_days": history.compliant_days,
    }


def closed_to_data(history: History) -> dict[str, Any]:
    """Return the stored form of the closed days (written once a day)."""
    return history_to_data(closed_part(history))


def open_to_data(history: History) -> dict[str, Any]:
    """Return the stored form of the open day (written often, so kept small)."""
    days = history.days
    return {"day": record_to_data(days[0]) if days and not days[0].closed else None}


def closed_part(history: History) -> History:
    """Return the history without its open day."""
    closed = tuple(record for record in history.days if record.closed)
    return History(days=closed, compliant_days=history.compliant_days)


def history_from_stored(
    closed_data: Any, open_data: Any, limit: int = HISTORY_DAYS
) -> History:
    """Rebuild the history from its two stored parts, tolerating either being bad."""
    closed = history_from_data(closed_data, limit)
    today = (
        record_from_data(open_data.get("day")) if isinstance(open_data, dict) else None
    )
    if (
        today is None
        or today.closed
        or (closed.days and today.day <= closed.days[0].day)
    ):
        # Its day was closed already (a write of the open day was still pending).
        return closed
    return History(
        days=(today, *closed.days)[:limit], compliant_days=closed.compliant_days
    )


def history_from_data(data: Any, limit: int = HISTORY_DAYS) -> History:
    """Rebuild the stored history, dropping malformed or out-of-order records."""
    if not isinstance(data, dict):
        return History()
    raw_days = data.get("days")
    records = [
        record
        for raw in (raw_days if isinstance(raw_days, list) else [])
        if (record := record_from_data(raw)) is not None
    ]
    days: list[DayRecord] = []
    for record in records:
        if days and record.day >= days[-1].day:
            continue
        # Only the newest record may still be open.
        days.append(
            record if not days or record.closed else replace(record, closed=True)
        )
    compliant = data.get("compliant_days")
    count = compliant if isinstance(compliant, int) and compliant >= 0 else 0
    return History(days=tuple(days[:limit]), compliant_days=count)


def record_from_data(data: Any) -> DayRecord | None:
    """Rebuild one stored record; None when it is malformed."""
    if not isinstance(data, dict):
        return None
    try:
        stops = {str(k): int(v) for k, v in dict(data.get("stops") or {}).items()}
        return DayRecord(
            day=date.fromisoformat(str(data["day"])),
            allowance_kwh=_optional_float(data.get("allowance_kwh")),
            exported_kwh=_optional_float(data.get("exported_kwh")),
            over_export_kwh=_finite(data.get("over_export_kwh", 0.0)),
            pv_kwh=_optional_float(data.get("pv_kwh")),
            discharged_kwh=_finite(data.get("discharged_kwh", 0.0)),
            sessions=int(data.get("sessions", 0)),
            stops=MappingProxyType(stops),
            first_seen=_aware(data["first_seen"]),
            last_seen=_aware(data["last_seen"]),
            partial=bool(data.get("partial", True)),
            closed=bool(data.get("closed", True)),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _round(value: float | None) -> float | None:
    """Round a figure to Wh, keeping None."""
    return None if value is None else round(value, 3)


def _finite(value: Any) -> float:
    """Return a finite float; raise ValueError otherwise."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not finite")
    return number


def _optional_float(value: Any) -> float | None:
    """Return a finite float or None."""
    return None if value is None else _finite(value)


def _aware(value: Any) -> datetime:
    """Parse an aware ISO timestamp; raise ValueError on naive or bad text."""
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("naive timestamp")
    return parsed
