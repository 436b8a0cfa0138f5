"""Follow a plant through its day: window edges, forced discharge, samples, worst breach."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sim.plant import Plant, Truth
from sim.runner import (
    DayResult,
    Sample,
    StopRecord,
    over_export_kwh,
    score_day,
    true_allowance_kwh,
)

from .config import MIN_SOC, PLANT_STEP_S, SAFETY_MARGIN_KWH, SAMPLE_S
from .records import WindowFigures

EPS: Final = 1e-9


def seconds_at(plant: Plant, moment: datetime) -> float:
    """Return the plant's simulation seconds at an aware moment."""
    return (moment - plant.start_utc).total_seconds()


def allowance_kwh(pv_kwh: float, cap_kwh: float | None) -> float:
    """Return the true allowance: PV today - margin, and cap - margin when capped."""
    return true_allowance_kwh(pv_kwh, SAFETY_MARGIN_KWH, cap_kwh)


def sample(truth: Truth, cap_kwh: float | None = None) -> Sample:
    """Return a sample of the true plant with the true allowance."""
    return Sample(
        at=truth.now,
        pv_kw=truth.pv_kw,
        load_kw=truth.load_kw,
        battery_kw=truth.battery_kw,
        grid_kw=truth.grid_kw,
        export_today_kwh=truth.export_today_kwh,
        allowance_kwh=allowance_kwh(truth.pv_today_kwh, cap_kwh),
        soc_pct=truth.soc_pct,
    )


class DayTracker:
    """Observes a plant at every step boundary of its first local day."""

    __slots__ = (
        "_discharge",
        "_end",
        "_forcing",
        "_next_sample_s",
        "_plant",
        "_start",
        "_window_end_s",
        "_window_start_s",
        "cap_kwh",
        "day",
        "forced_discharge_kwh",
        "max_over_kwh",
        "samples",
    )

    def __init__(
        self,
        plant: Plant,
        window: tuple[datetime, datetime],
        cap_kwh: float | None = None,
    ) -> None:
        """Start at the plant's current moment; window is the aware export window."""
        self._plant = plant
        self.cap_kwh = cap_kwh
        self.day = plant.day
        self._window_start_s = seconds_at(plant, window[0])
        self._window_end_s = seconds_at(plant, window[1])
        self._next_sample_s = plant.elapsed_s
        self._start: Truth | None = None
        self._end: Truth | None = None
        self._forcing = False
        self._discharge = 0.0
        self.forced_discharge_kwh = 0.0
        self.max_over_kwh = 0.0
        self.samples: list[Sample] = []
        self.observe()

    def observe(self) -> None:
        """Take what is due at the plant's current moment (first day only)."""
        plant = self._plant
        if plant.day != self.day:
            return
        allowance = allowance_kwh(plant.pv_today_kwh, self.cap_kwh)
        over = over_export_kwh(plant.export_today_kwh, allowance)
        self.max_over_kwh = max(self.max_over_kwh, over)
        now_s = plant.elapsed_s
        if now_s + EPS >= self._window_start_s and self._end is None:
            self._in_window(plant.truth(), now_s)
        if now_s + EPS >= self._next_sample_s:
            self._next_sample_s += SAMPLE_S
            self.samples.append(sample(plant.truth(), self.cap_kwh))

    def _in_window(self, truth: Truth, now_s: float) -> None:
        """Count battery discharge while forced; note the window's edges."""
        if self._start is None:
            self._start = truth
        elif self._forcing:
            self.forced_discharge_kwh += truth.discharge_today_kwh - self._discharge
        self._forcing = truth.forcing
        self._discharge = truth.discharge_today_kwh
        if now_s + EPS >= self._window_end_s:
            self._end = truth

    def figures(self) -> WindowFigures:
        """Return the window's figures; the day must have passed the window's end."""
        start, end = self._start, self._end
        if start is None or end is None:
            raise RuntimeError("the export window was not observed")
        battery = self._plant.config.battery
        above_min = max(0.0, start.soc_pct - MIN_SOC) / 100.0 * battery.capacity_kwh
        return WindowFigures(
            start_soc=start.soc_pct,
            start_pv_kwh=start.pv_today_kwh,
            start_export_kwh=start.export_today_kwh,
            end_pv_kwh=end.pv_today_kwh,
            end_export_kwh=end.export_today_kwh,
            end_soc=end.soc_pct,
            battery_above_min_kwh=above_min * battery.one_way_efficiency,
            forced_discharge_kwh=self.forced_discharge_kwh,
        )


def advance(
    plant: Plant, tracker: DayTracker, end_s: float, step_s: float = PLANT_STEP_S
) -> None:
    """Step the plant alone to end_s (simulation seconds), observing every step."""
    while plant.elapsed_s < end_s - EPS:
        plant.step(min(step_s, end_s - plant.elapsed_s))
        tracker.observe()


def day_result(
    plant: Plant, tracker: DayTracker, start: Truth, stops: list[StopRecord]
) -> DayResult:
    """Return the day's result, as sim.runner scores it, once the plant passed midnight."""
    return score_day(
        start,
        plant.truth(),
        day=tracker.day,
        samples=tracker.samples,
        stops=stops,
        max_over_kwh=tracker.max_over_kwh,
        allowance_for=lambda pv_kwh: allowance_kwh(pv_kwh, tracker.cap_kwh),
    )
