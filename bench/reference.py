"""Reference runs of a scenario-day: no controller at all, and an oracle that knows the truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Final

from sim.commands import (
    Command,
    SetCutoff,
    SetDuration,
    SetEnable,
    SetPower,
    apply_command,
)
from sim.plant import Plant, PlantConfig, Published
from sim.scenarios import ScenarioDay

from .config import MIN_SOC, PLANT_STEP_S, POWER_KW, SAFETY_MARGIN_KWH, export_window
from .records import Reference, WindowFigures
from .scoring import ALLOWANCE_BOUND, BATTERY_BOUND, WINDOW_BOUND
from .tracker import EPS, DayTracker, advance, seconds_at

# The most one plant step can export (3 kW forced plus PV, for one second), kWh.
STEP_EXPORT_KWH: Final = 0.002
# SOC this close to the floor counts as emptied.
SOC_TOLERANCE: Final = 0.1


class OracleController:
    """Force-discharges in the window whenever the true headroom allows; acts instantly."""

    __slots__ = ("_on", "_plant", "_start_s", "end_s", "headroom_limited")

    def __init__(self, plant: Plant, window: tuple[datetime, datetime]) -> None:
        """Read the plant's truth directly; window is the aware export window."""
        self._plant = plant
        self._start_s = seconds_at(plant, window[0])
        self.end_s = seconds_at(plant, window[1])
        self._on = False
        self.headroom_limited = False

    def decide(self, published: Published, now: datetime) -> Sequence[Command]:
        """Return the writes that keep forcing exactly while it is legal."""
        plant = self._plant
        in_window = self._start_s - EPS <= plant.elapsed_s < self.end_s - EPS
        headroom = plant.pv_today_kwh - SAFETY_MARGIN_KWH - plant.export_today_kwh
        legal = headroom > STEP_EXPORT_KWH
        if in_window and not legal:
            self.headroom_limited = True
        want = in_window and legal
        if want == self._on:
            return []
        self._on = want
        if not want:
            return [SetEnable(False)]
        return [
            SetPower(POWER_KW),
            SetCutoff(MIN_SOC),
            SetDuration(0.0),
            SetEnable(True),
        ]


def perfect_inverter(config: PlantConfig) -> PlantConfig:
    """Return the plant with an inverter that obeys every write at once."""
    inverter = replace(
        config.inverter, latency_s=(0.0, 0.0), ignore_probability=0.0, ignore_after=None
    )
    return replace(config, inverter=inverter)


def _idle(day: ScenarioDay) -> WindowFigures:
    """Return the window's figures with no controller: self-consumption only."""
    plant = day.plant()
    window = export_window(day.day, plant.config.timezone)
    tracker = DayTracker(plant, window)
    advance(plant, tracker, seconds_at(plant, window[1]))
    return tracker.figures()


def _run_oracle(plant: Plant, tracker: DayTracker, oracle: OracleController) -> None:
    """Step the plant under the oracle until the window's end (all the share needs)."""
    end_s = oracle.end_s
    while plant.elapsed_s < end_s - EPS:
        for command in oracle.decide(plant.published(), plant.now):
            apply_command(plant, command)
        plant.step(min(PLANT_STEP_S, end_s - plant.elapsed_s))
        tracker.observe()


def _binding(oracle: OracleController, figures: WindowFigures) -> str:
    """Return what ended the oracle's export: allowance, battery or the window."""
    if oracle.headroom_limited:
        return ALLOWANCE_BOUND
    if figures.end_soc <= MIN_SOC + SOC_TOLERANCE:
        return BATTERY_BOUND
    return WINDOW_BOUND


def reference_runs(day: ScenarioDay) -> Reference:
    """Run the day to 19:00 idle and under the oracle (perfect inverter, same PV, load, seed)."""
    plant = Plant(perfect_inverter(day.config), day.start)
    window = export_window(day.day, plant.config.timezone)
    tracker = DayTracker(plant, window)
    oracle = OracleController(plant, window)
    _run_oracle(plant, tracker, oracle)
    figures = tracker.figures()
    return Reference(
        idle=_idle(day),
        oracle=figures,
        binding=_binding(oracle, figures),
        oracle_over_export_kwh=tracker.max_over_kwh,
    )
