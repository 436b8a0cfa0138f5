"""What one controller did to one scenario-day, as the scoring reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sim.runner import DayResult
from sim.scenarios import ScenarioDay

OURS = "ours"
BASELINE = "baseline"
CONTROLLERS = (OURS, BASELINE)


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
class ControllerDay:
    """One controller's day: the runner's result, window figures, CPU per evaluation."""

    controller: str
    result: DayResult
    window: WindowFigures
    cpu_s: tuple[float, ...]
    rule_cpu_s: tuple[float, ...] = ()
    stop_reasons: tuple[str, ...] = ()
    hass_span: tuple[datetime, datetime] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    """The same day with no controller (idle) and with an oracle that knows the truth."""

    idle: WindowFigures
    oracle: WindowFigures
    binding: str
    oracle_over_export_kwh: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DayOutcome:
    """Both controllers on the same scenario-day, and the reference runs of that day."""

    day: ScenarioDay
    ours: ControllerDay
    baseline: ControllerDay
    reference: Reference

    def of(self, controller: str) -> ControllerDay:
        """Return one controller's day by name."""
        return self.ours if controller == OURS else self.baseline
