"""How the export counter moves: learned cadence and step, and when it has stalled."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

# Until a meter's cadence has been seen while exporting, assume it updates this rarely.
DEFAULT_METER_INTERVAL_SECONDS: Final = 300.0
# Until a finer step has been seen (or declared), assume a counter in 0.1 kWh steps.
DEFAULT_METER_RESOLUTION_KWH: Final = 0.1
CADENCE_SAMPLES: Final = 6
# A counter may be this much later than its cadence before it counts as stalled.
STALL_FACTOR: Final = 1.5
STALL_TOLERANCE_SECONDS: Final = 300.0
# Below this export power the counter is not expected to move at all.
MOVING_EXPORT_KW: Final = 0.05


def _seconds(start: datetime, end: datetime) -> float:
    """Return the real seconds from `start` to `end` (across clock changes)."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterCadence:
    """How often the export counter's value changes while exporting, and by how much."""

    last_value: float | None = None
    last_change_at: datetime | None = None
    # Intervals between two changes both seen during one discharge (idle gaps say
    # nothing about the meter: nothing was exported).
    intervals: tuple[float, ...] = ()
    # The smallest step seen, whatever the gap; 0 until one is seen.
    resolution_kwh: float = 0.0
    rate_kw: float | None = None
    # When the running discharge started; None while idle.
    session_since: datetime | None = None
    # What the user declared (options); None means learn it.
    declared_interval_s: float | None = None
    declared_resolution_kwh: float | None = None
    delay_s: float = 0.0
    # How far the counter was seen behind the integrated grid power (logic/lag.py).
    lags: tuple[float, ...] = ()
    # How late grid power showed our recent starts (one feed for both: logic/lag.py).
    echoes: tuple[float, ...] = ()
    # How long grid power's reports have not shown the running start yet: the feed is
    # at least that late until they do (not stored: it belongs to one discharge).
    unshown_s: float = 0.0

    @property
    def lag_seconds(self) -> float:
        """Return how late a value may arrive: declared, the worst seen, or still unshown."""
        return max((self.delay_s, *self.lags, *self.echoes, self.unshown_s))

    def awaiting_echo(self, seconds: float) -> MeterCadence:
        """Return the cadence with how long grid power has not shown the start (0: has)."""
        return self if seconds == self.unshown_s else replace(self, unshown_s=seconds)

    def learn_echo(self, seconds: float | None) -> MeterCadence:
        """Return the cadence with one more start's echo lag (None: nothing learned)."""
        if seconds is None:
            return self
        return replace(self, echoes=(*self.echoes, seconds)[-CADENCE_SAMPLES:])

    def learn_lag(self, seconds: float | None) -> MeterCadence:
        """Return the cadence with one more lag seen (None: nothing learned)."""
        if seconds is None:
            return self
        return replace(self, lags=(*self.lags, seconds)[-CADENCE_SAMPLES:])

    @property
    def interval_seconds(self) -> float:
        """Return the longest recent interval, never below the declared one."""
        if not self.intervals:
            return self.declared_interval_s or DEFAULT_METER_INTERVAL_SECONDS
        return max(*self.intervals, self.declared_interval_s or 0.0)

    @property
    def step_kwh(self) -> float:
        """Return the counter's step: the declared or assumed one, or a finer one seen."""
        assumed = self.declared_resolution_kwh or DEFAULT_METER_RESOLUTION_KWH
        return min(assumed, self.resolution_kwh) if self.resolution_kwh else assumed

    def observe(self, value: float, reported_at: datetime) -> MeterCadence:
        """Return the cadence after seeing `value` reported at `reported_at`."""
        if self.last_value is None or self.last_change_at is None:
            return replace(self, last_value=value, last_change_at=reported_at)
        delta = value - self.last_value
        if delta == 0:
            return self
        if delta < 0:
            return replace(self, last_value=value, last_change_at=reported_at)
        seconds = _seconds(self.last_change_at, reported_at)
        learned = replace(
            self,
            last_value=value,
            last_change_at=reported_at,
            resolution_kwh=min(self.resolution_kwh or delta, delta),
        )
        if seconds <= 0 or not self._in_session(self.last_change_at):
            return learned
        return replace(
            learned,
            intervals=(*self.intervals, seconds)[-CADENCE_SAMPLES:],
            rate_kw=delta / seconds * 3600.0,
        )

    def _in_session(self, moment: datetime) -> bool:
        """Return whether `moment` falls within the running discharge."""
        return (
            self.session_since is not None and _seconds(self.session_since, moment) >= 0
        )

    def begin(self, now: datetime) -> MeterCadence:
        """Mark the start of a discharge: the next interval is measured from a change."""
        return replace(self, session_since=now, rate_kw=None)

    def end(self) -> MeterCadence:
        """Mark the end of a discharge."""
        return replace(self, session_since=None, unshown_s=0.0)

    def seen_since_start(self) -> bool:
        """Return whether the counter has changed since the discharge started."""
        return self.last_change_at is not None and self._in_session(self.last_change_at)

    def since_change(self, now: datetime) -> float:
        """Return the seconds the counter has stood still during the discharge (0 idle)."""
        if self.session_since is None:
            return 0.0
        start = self.session_since
        if self.last_change_at is not None and self._in_session(self.last_change_at):
            start = self.last_change_at
        return max(0.0, _seconds(start, now))

    def expected_seconds(self, export_kw: float | None) -> float | None:
        """Return how long the next change may take; None when no export moves it."""
        if export_kw is None or export_kw < MOVING_EXPORT_KW:
            return None
        return max(self.interval_seconds, self.step_kwh / export_kw * 3600.0)

    def stalled(self, now: datetime, export_kw: float | None) -> bool:
        """Return whether the counter stands still for longer than the export allows."""
        expected = self.expected_seconds(export_kw)
        if expected is None:
            return False
        limit = expected * STALL_FACTOR + STALL_TOLERANCE_SECONDS
        return self.since_change(now) > limit

    def to_data(self) -> dict[str, Any]:
        """Return what is learned, JSON-ready (the declarations come from the options)."""
        changed = self.last_change_at
        return {
            "last_value": self.last_value,
            "last_change_at": None if changed is None else changed.isoformat(),
            "intervals": list(self.intervals),
            "resolution_kwh": self.resolution_kwh,
            "lags": list(self.lags),
            "echoes": list(self.echoes),
        }


def cadence_from_data(data: Any) -> MeterCadence:
    """Rebuild a stored cadence; an empty one when absent or malformed."""
    if not isinstance(data, dict):
        return MeterCadence()
    try:
        changed = data.get("last_change_at")
        last = data.get("last_value")
        at = None if changed is None else datetime.fromisoformat(str(changed))
        if at is not None and at.tzinfo is None:
            return MeterCadence()
        return MeterCadence(
            last_value=None if last is None else float(last),
            last_change_at=at,
            intervals=tuple(float(s) for s in data.get("intervals", ()))[
                -CADENCE_SAMPLES:
            ],
            resolution_kwh=float(data.get("resolution_kwh", 0.0)),
            lags=tuple(float(s) for s in data.get("lags", ()))[-CADENCE_SAMPLES:],
            echoes=tuple(float(s) for s in data.get("echoes", ()))[-CADENCE_SAMPLES:],
        )
    except (TypeError, ValueError):
        return MeterCadence()


def declared(
    cadence: MeterCadence,
    interval_s: float | None,
    resolution_kwh: float | None,
    delay_s: float,
) -> MeterCadence:
    """Return the cadence with the user's declarations of the meter."""
    return replace(
        cadence,
        declared_interval_s=interval_s,
        declared_resolution_kwh=resolution_kwh,
        delay_s=delay_s,
    )
