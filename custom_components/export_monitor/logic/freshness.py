"""What "fresh" means for a required source that writes only when its value changes.

Many integrations write a state only when the value changes: the SOC of a full, idle
battery, a PV counter at night, an export counter while nothing is exported. Their
`last_reported` then grows old although the value is right. The rule:

- A source that has been seen re-writing an unchanged value (a report without a
  change) is not one of these: its silence is staleness, idle or discharging.
- Idle: a required source whose report is older than `stale_after_seconds` is still
  usable ("quiet") while its value is valid and plausible (parsed, in range, a daily
  counter passes its day and plausibility checks) and its integration is loaded. An
  export counter is quiet only while no export is measured that should have moved it
  (grid power below the moving threshold, or the counter's step time not yet passed).
- Discharging: the existing rules, measured from the later of the report and the
  start of the discharge: the export counter must be reported within the staleness
  limit or move as the export implies (its learned interval, or one step at the
  export power, times the stall factor; the stop reserve covers that time); the SOC
  must be reported within the staleness limit or move as the discharge implies (one
  percent of the capacity at the discharge power, times the stall factor, plus the
  stall tolerance). A PV counter may stay quiet: a
  daily counter only rises, so an old value understates the allowance.
- Missing, unknown, unavailable or invalid values, and sources of an integration
  that is not loaded, keep failing closed. A source once seen stale stays stale
  until it reports again (a counter that froze during a discharge must not pass as
  quiet once the discharge has stopped, or automatic restarts would repeat).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Final

from .cadence import STALL_FACTOR, STALL_TOLERANCE_SECONDS, MeterCadence
from .readings import Reading, ReadingProblem

SOC_SOURCE: Final = "soc"
EXPORT_SOURCE: Final = "exported_today"
# The step of a SOC sensor, in percent.
SOC_STEP_PERCENT: Final = 1.0
# Below this power a discharge is not expected to move the SOC within any bound.
_MIN_POWER_KW: Final = 0.05


@dataclass(frozen=True, slots=True, kw_only=True)
class Freshness:
    """What the freshness rule needs beyond the readings themselves."""

    # When the running discharge started; None while idle.
    discharging_since: datetime | None = None
    power_kw: float = 0.0
    capacity_kwh: float = 0.0
    cadence: MeterCadence = field(default_factory=MeterCadence)
    # Sources whose integration is not loaded: an old report of theirs is stale.
    not_loaded: frozenset[str] = frozenset()
    # Sources seen stale that have not reported since: no quiet for them.
    distrusted: frozenset[str] = frozenset()
    # Sources seen re-writing an unchanged value: their silence is staleness.
    re_reporting: frozenset[str] = frozenset()


def _seconds(start: datetime, end: datetime) -> float:
    """Return the real seconds from `start` to `end` (across clock changes)."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()


def _step_limit(seconds: float) -> float:
    """Return how long a value may stand when one step takes `seconds`."""
    return seconds * STALL_FACTOR + STALL_TOLERANCE_SECONDS


def quiet_limit_seconds(
    source: str, freshness: Freshness, export_kw: float | None
) -> float | None:
    """Return how long `source` may stand unchanged; None for as long as it reads valid."""
    strict = freshness.not_loaded | freshness.distrusted | freshness.re_reporting
    if source in strict:
        return 0.0
    discharging = freshness.discharging_since is not None
    if source == EXPORT_SOURCE and discharging:
        # No tolerance while discharging: the reserve covers the time it stands.
        flow = max(freshness.power_kw, export_kw or 0.0)
        return (freshness.cadence.expected_seconds(flow) or 0.0) * STALL_FACTOR
    if source == EXPORT_SOURCE:
        expected = freshness.cadence.expected_seconds(export_kw)
        return None if expected is None else _step_limit(expected)
    if source == SOC_SOURCE and discharging:
        energy = SOC_STEP_PERCENT / 100.0 * freshness.capacity_kwh
        power = max(freshness.power_kw, _MIN_POWER_KW)
        return _step_limit(energy / power * 3600.0)
    return None


def accept_quiet(
    reading: Reading,
    limit_seconds: float | None,
    *,
    stale_after_seconds: float,
    freshness: Freshness,
    now: datetime,
) -> Reading:
    """Return a stale reading as usable ("quiet") when the rule allows; else unchanged."""
    if reading.problem is not ReadingProblem.STALE or reading.reported_at is None:
        return reading
    if limit_seconds is not None:
        # The report's age (the larger of wall and monotonic), or the time since the
        # discharge started when that is shorter.
        elapsed = reading.age_seconds or 0.0
        since = freshness.discharging_since
        if since is not None and _seconds(reading.reported_at, since) > 0:
            elapsed = min(elapsed, _seconds(since, now))
        if elapsed > max(stale_after_seconds, limit_seconds):
            return reading
    return replace(reading, problem=None, quiet=True)


def distrusted_after[K: str](
    previous: Mapping[K, datetime], readings: Mapping[K, Reading], now: datetime
) -> dict[K, datetime]:
    """Return the sources seen stale, and since when, that have not reported since."""
    result: dict[K, datetime] = {}
    for source, reading in readings.items():
        since = previous.get(source)
        if reading.problem is ReadingProblem.STALE:
            result[source] = since or now
        elif since is not None and not _reported_after(reading, since):
            result[source] = since
    return result


def _reported_after(reading: Reading, moment: datetime) -> bool:
    """Return whether the reading was reported after `moment`."""
    return reading.reported_at is not None and _seconds(moment, reading.reported_at) > 0
