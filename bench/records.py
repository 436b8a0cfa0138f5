"""What each controller did to one scenario-day, as the scoring reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sim.runner import DayResult
from sim.scenarios import ScenarioDay

OURS = "ours"
PUBLISHED = "published"
CORRECTED = "corrected"
ORACLE = "oracle"
# (a) the earlier tool as published, (b) its design with the correct rule, (c) the oracle.
PEERS = (PUBLISHED, CORRECTED, ORACLE)
CONTROLLERS = (OURS, *PEERS)
# Kept for readers of older results: the earlier tool as published was called "baseline".
BASELINE = PUBLISHED


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowFigures:
    """True figures at the export window's edges and the forced discharge inside it."""

    start_soc: float
    start_pv_kwh: float
    start_export_kwh: float
    end_pv_kwh: float
    end_export_kwh: float
    end_soc: float
    battery_above_min_kwh: float
    forced_discharge_kwh: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Reaction:
    """One stop: when it became due, when the stop command was written, and why."""

    due: datetime
    command: datetime
    trigger: str
    wall_s: float | None = None

    @property
    def sim_s(self) -> float:
        """Return the simulated seconds from due to command."""
        return (self.command - self.due).total_seconds()


@dataclass(frozen=True, slots=True, kw_only=True)
class ControllerDay:
    """One controller's day: the runner's result, window figures, stops and CPU."""

    controller: str
    result: DayResult
    window: WindowFigures
    cpu_s: tuple[float, ...]
    rule_cpu_s: tuple[float, ...] = ()
    update_cpu_s: tuple[float, ...] = ()
    state_writes: int = 0
    reactions: tuple[Reaction, ...] = ()
    stop_reasons: tuple[str, ...] = ()
    hass_span: tuple[datetime, datetime] | None = None
    binding: str | None = None
    run_cpu_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    """The same day with no controller (idle), against which extra export is measured."""

    idle: WindowFigures
    binding: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DayOutcome:
    """Every controller on the same scenario-day, and the idle run of that day."""

    day: ScenarioDay
    runs: dict[str, ControllerDay]
    reference: Reference

    @property
    def ours(self) -> ControllerDay:
        """Return ours' day."""
        return self.runs[OURS]

    @property
    def oracle(self) -> ControllerDay:
        """Return the oracle's day."""
        return self.runs[ORACLE]

    def of(self, controller: str) -> ControllerDay:
        """Return one controller's day by name."""
        return self.runs[controller]
