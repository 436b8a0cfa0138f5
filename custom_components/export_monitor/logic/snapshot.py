"""Build the immutable snapshot of all sources: readings, allowance, plan, faults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from ..const import DEFAULT_INVERTER_MAX_POWER_KW
from .allowance import allowance_kwh, headroom_kwh
from .counters import CounterTrack, track_counter
from .errors import ErrorState
from .freshness import Freshness, accept_quiet, quiet_limit_seconds
from .plan import DischargePlan, make_plan
from .readings import RawState, Reading, ReadingProblem, parse_reading
from .settings import MonitorSettings
from .units import Quantity


class Source(StrEnum):
    """The sources the monitor reads."""

    SOC = "soc"
    PV_TODAY = "pv_today"
    EXPORTED_TODAY = "exported_today"
    GRID_POWER = "grid_power"
    BATTERY_POWER = "battery_power"
    FORECAST_TODAY = "forecast_today"


QUANTITIES: Final[Mapping[Source, Quantity]] = MappingProxyType(
    {
        Source.SOC: Quantity.PERCENT,
        Source.PV_TODAY: Quantity.ENERGY,
        Source.EXPORTED_TODAY: Quantity.ENERGY,
        Source.GRID_POWER: Quantity.POWER,
        Source.BATTERY_POWER: Quantity.POWER,
        Source.FORECAST_TODAY: Quantity.ENERGY,
    }
)
REQUIRED_SOURCES: Final = (Source.SOC, Source.PV_TODAY, Source.EXPORTED_TODAY)
DAILY_COUNTERS: Final = (Source.PV_TODAY, Source.EXPORTED_TODAY)
READ_FAILURES: Final[Mapping[Source, ErrorState]] = MappingProxyType(
    {
        Source.SOC: ErrorState.SOC_READ_FAILED,
        Source.PV_TODAY: ErrorState.PV_READ_FAILED,
        Source.EXPORTED_TODAY: ErrorState.EXPORT_READ_FAILED,
    }
)
PROBLEM_FAULTS: Final[Mapping[ReadingProblem, ErrorState]] = MappingProxyType(
    {
        ReadingProblem.MISSING: ErrorState.SOURCE_MISSING,
        ReadingProblem.STALE: ErrorState.STALE_DATA,
        ReadingProblem.WENT_BACKWARDS: ErrorState.COUNTER_WENT_BACKWARDS,
        ReadingProblem.NOT_RESET: ErrorState.COUNTER_NOT_RESET,
        ReadingProblem.IMPLAUSIBLE: ErrorState.IMPLAUSIBLE_COUNTER,
    }
)
# Problems that say "no value at all", as at start-up.
_NO_VALUE: Final = frozenset({ReadingProblem.UNKNOWN, ReadingProblem.UNAVAILABLE})


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """Everything read at one moment, and what follows from it."""

    taken_at: datetime
    readings: Mapping[Source, Reading]
    data_fault: ErrorState
    is_stale: bool
    data_age_seconds: float | None
    allowance_kwh: float | None
    headroom_kwh: float | None
    plan: DischargePlan | None
    counters: Mapping[Source, CounterTrack] = field(default_factory=dict)

    @property
    def safe(self) -> bool:
        """Return whether every required source is usable."""
        return self.data_fault is ErrorState.NONE

    def value(self, source: Source) -> float | None:
        """Return a source's usable value, None when absent or unusable."""
        reading = self.readings.get(source)
        return reading.value if reading is not None and reading.usable else None

    def shown_value(self, source: Source) -> float | None:
        """Return a source's value for display, including a held counter value."""
        reading = self.readings.get(source)
        return None if reading is None else reading.value


def signed_power(
    snapshot: Snapshot, source: Source, *, positive_is_wanted: bool
) -> float | None:
    """Return a power reading so that the wanted direction is positive."""
    value = snapshot.value(source)
    if value is None:
        return None
    return value if positive_is_wanted else -value


def export_power_kw(snapshot: Snapshot, settings: MonitorSettings) -> float | None:
    """Return grid export power in kW (positive while exporting), if measured."""
    return signed_power(
        snapshot,
        Source.GRID_POWER,
        positive_is_wanted=not settings.grid_power_export_negative,
    )


def battery_discharge_kw(snapshot: Snapshot, settings: MonitorSettings) -> float | None:
    """Return battery discharge power in kW (positive while discharging), if measured."""
    return signed_power(
        snapshot,
        Source.BATTERY_POWER,
        positive_is_wanted=settings.battery_power_discharge_positive,
    )


def data_fault(readings: Mapping[Source, Reading]) -> ErrorState:
    """Return the first fault among the required sources, or NONE."""
    required = [readings.get(source) for source in REQUIRED_SOURCES]
    problems = [
        r.problem if r is not None else ReadingProblem.MISSING for r in required
    ]
    if all(problem in _NO_VALUE for problem in problems):
        return ErrorState.NO_DATA
    for source, problem in zip(REQUIRED_SOURCES, problems, strict=True):
        if problem is not None:
            return PROBLEM_FAULTS.get(problem, READ_FAILURES[source])
    return ErrorState.NONE


def oldest_age(readings: Mapping[Source, Reading]) -> float | None:
    """Return the age of the oldest required report, None when none has one."""
    ages = [
        reading.age_seconds
        for source in REQUIRED_SOURCES
        if (reading := readings.get(source)) is not None
        and reading.age_seconds is not None
    ]
    return max(ages) if ages else None


def seconds_since_local_midnight(now: datetime) -> float:
    """Return the real seconds since the local day began (DST-aware)."""
    midnight = datetime.combine(now.date(), time(), now.tzinfo)
    return (now.astimezone(UTC) - midnight.astimezone(UTC)).total_seconds()


def _stale_after(source: Source, settings: MonitorSettings, now: datetime) -> float:
    """Return a source's staleness limit: a forecast need only be from today."""
    if source is Source.FORECAST_TODAY:
        return seconds_since_local_midnight(now)
    return settings.stale_after_seconds


def max_rate_kw(source: Source, settings: MonitorSettings) -> float:
    """Return how fast a daily counter can physically rise, in kW."""
    if source is Source.PV_TODAY:
        return settings.pv_peak_kw
    # Export: the PV (an AC-coupled array) and the battery inverter together.
    inverter = settings.inverter_max_kw or DEFAULT_INVERTER_MAX_POWER_KW
    return settings.pv_peak_kw + inverter


def read_sources(
    states: Mapping[Source, RawState | None],
    settings: MonitorSettings,
    now: datetime,
    counters: Mapping[Source, CounterTrack],
    freshness: Freshness | None = None,
) -> tuple[dict[Source, Reading], dict[Source, CounterTrack]]:
    """Parse every configured source, accept quiet ones, and check the daily counters.

    Without `freshness` every report older than the staleness limit is stale.
    """
    readings: dict[Source, Reading] = {
        source: parse_reading(
            raw,
            QUANTITIES[source],
            now=now,
            stale_after_seconds=_stale_after(source, settings, now),
        )
        for source, raw in states.items()
    }
    grid = readings.get(Source.GRID_POWER)
    export_kw = None
    if grid is not None and grid.usable and grid.value is not None:
        export_kw = -grid.value if settings.grid_power_export_negative else grid.value
    tracks: dict[Source, CounterTrack] = dict(counters)
    for source in REQUIRED_SOURCES:
        if (reading := readings.get(source)) is None:
            continue
        if freshness is not None:
            reading = accept_quiet(
                reading,
                quiet_limit_seconds(source, freshness, export_kw),
                stale_after_seconds=settings.stale_after_seconds,
                freshness=freshness,
                now=now,
            )
        if source in DAILY_COUNTERS:
            reading, track = track_counter(
                reading,
                counters.get(source),
                now,
                max_kw=max_rate_kw(source, settings),
                keep_higher=source is Source.EXPORTED_TODAY,
            )
            if track is not None:
                tracks[source] = track
        readings[source] = reading
    return readings, tracks


def build_snapshot(
    states: Mapping[Source, RawState | None],
    settings: MonitorSettings,
    now: datetime,
    counters: Mapping[Source, CounterTrack] | None = None,
    freshness: Freshness | None = None,
) -> Snapshot:
    """Read every source at `now` (local time) and derive allowance and plan."""
    readings, tracks = read_sources(states, settings, now, counters or {}, freshness)
    fault = data_fault(readings)
    snapshot = Snapshot(
        taken_at=now,
        readings=readings,
        data_fault=fault,
        is_stale=any(
            r.problem is ReadingProblem.STALE
            for s in REQUIRED_SOURCES
            if (r := readings.get(s)) is not None
        ),
        data_age_seconds=oldest_age(readings),
        allowance_kwh=None,
        headroom_kwh=None,
        plan=None,
        counters=tracks,
    )
    return _with_allowance(snapshot, settings)


def _with_allowance(snapshot: Snapshot, settings: MonitorSettings) -> Snapshot:
    """Add allowance (needs PV), headroom (needs export) and plan (needs all safe)."""
    pv = snapshot.value(Source.PV_TODAY)
    if pv is None:
        return snapshot
    allowance = allowance_kwh(
        pv, snapshot.value(Source.FORECAST_TODAY), settings.limits
    )
    exported = snapshot.value(Source.EXPORTED_TODAY)
    if exported is None:
        return replace(snapshot, allowance_kwh=allowance)
    headroom = headroom_kwh(allowance, exported)
    soc = snapshot.value(Source.SOC)
    if not snapshot.safe or soc is None:
        return replace(snapshot, allowance_kwh=allowance, headroom_kwh=headroom)
    plan = make_plan(
        headroom_kwh=headroom,
        soc=soc,
        min_soc=settings.min_soc,
        capacity_kwh=settings.battery_capacity_kwh,
        power_kw=settings.discharge_power_kw,
    )
    return replace(snapshot, allowance_kwh=allowance, headroom_kwh=headroom, plan=plan)


def start_blockers(
    snapshot: Snapshot, settings: MonitorSettings
) -> tuple[ErrorState, ...]:
    """Return what blocks a start, judged from the data alone."""
    if not snapshot.safe:
        return (snapshot.data_fault,)
    blockers: list[ErrorState] = []
    soc = snapshot.value(Source.SOC)
    if soc is not None and soc <= settings.min_soc:
        blockers.append(ErrorState.SOC_AT_MIN)
    if snapshot.headroom_kwh is not None and snapshot.headroom_kwh <= 0:
        blockers.append(ErrorState.NO_HEADROOM)
    return tuple(blockers)
