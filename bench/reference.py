"""The oracle that knows the truth, and the idle run (no controller) of a scenario-day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Final

from sim.commands import Command, SetCutoff, SetDuration, SetEnable, SetPower
from sim.plant import Plant, PlantConfig, Published
from sim.scenarios import ScenarioDay

from .config import MIN_SOC, PLANT_STEP_S, POWER_KW, export_window
from .records import WindowFigures
from .tracker import EPS, DayTracker, advance, allowance_kwh, seconds_at

ALLOWANCE_BOUND: Final = "allowance"
BATTERY_BOUND: Final = "battery"
WINDOW_BOUND: Final = "window"
# The most one plant step can export (5 kW forced plus PV, for one second), kWh.
STEP_EXPORT_KWH: Final = 0.002
# SOC this close to the floor counts as emptied.
SOC_TOLERANCE: Final = 0.1


class OracleController:
    """Force-discharges in the window whenever the true headroom allows; acts instantly."""

    __slots__ = ("_cap", "_on", "_plant", "_start_s", "end_s", "headroom_limited")

    def __init__(
        self,
        plant: Plant,
        window: tuple[datetime, datetime],
        cap_kwh: float | None = None,
    ) -> None:
        """Read the plant's truth directly; window is the aware export window."""
        self._plant = plant
        self._cap = cap_kwh
        self._start_s = seconds_at(plant, window[0])
        self.end_s = seconds_at(plant, window[1])
        self._on = False
        self.headroom_limited = False

    def decide(self, published: Published, now: datetime) -> Sequence[Command]:
        """Return the writes that keep forcing exactly while it is legal."""
        plant = self._plant
        in_window = self._start_s - EPS <= plant.elapsed_s < self.end_s - EPS
        allowance = allowance_kwh(plant.pv_today_kwh, self._cap)
        headroom = allowance - plant.export_today_kwh
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
    """Return the plant with an inverter that obeys every write at once, at its setpoint."""
    inverter = replace(
        config.inverter,
        latency_s=(0.0, 0.0),
        ignore_probability=0.0,
        ignore_after=None,
        ignore_windows=(),
        stop_latency_s=None,
        power_factor=1.0,
        backstop="rearm_any_write",
    )
    return replace(config, inverter=inverter)


def idle_figures(day: ScenarioDay) -> WindowFigures:
    """Return the window's figures with no controller: self-consumption only."""
    plant = day.plant()
    window = export_window(day.day, plant.config.timezone)
    tracker = DayTracker(plant, window)
    advance(plant, tracker, seconds_at(plant, window[1]), PLANT_STEP_S * 10)
    return tracker.figures()


def oracle_binding(oracle: OracleController, figures: WindowFigures) -> str:
    """Return what ended the oracle's export: allowance, battery or the window."""
    if oracle.headroom_limited:
        return ALLOWANCE_BOUND
    if figures.end_soc <= MIN_SOC + SOC_TOLERANCE:
        return BATTERY_BOUND
    return WINDOW_BOUND
