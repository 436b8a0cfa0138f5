"""Run the baseline (the earlier tools' published algorithm) through sim.runner."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
import time

from sim.baseline import BaselineController
from sim.commands import Command
from sim.plant import Published
from sim.runner import Controller, run_day
from sim.scenarios import ScenarioDay

from .config import PLANT_STEP_S, SAFETY_MARGIN_KWH, baseline_config, export_window
from .records import BASELINE, ControllerDay
from .tracker import DayTracker

# The baseline ends a run only when its fixed duration is up.
BASELINE_STOP_REASON = "fixed_duration"


class Observed:
    """A pure controller, timed around every decision, with the tracker looking first."""

    __slots__ = ("_inner", "_tracker", "cpu_s")

    def __init__(self, inner: Controller, tracker: DayTracker) -> None:
        """Wrap the controller; CPU seconds per decide() go to cpu_s."""
        self._inner = inner
        self._tracker = tracker
        self.cpu_s: list[float] = []

    def decide(self, published: Published, now: datetime) -> Sequence[Command]:
        """Observe the plant, then time the controller's decision."""
        self._tracker.observe()
        start = time.process_time()
        commands = self._inner.decide(published, now)
        self.cpu_s.append(time.process_time() - start)
        return commands


def run_baseline(day: ScenarioDay) -> ControllerDay:
    """Run the baseline over a whole scenario-day, from local midnight to the next."""
    plant = day.plant()
    timezone = plant.config.timezone
    tracker = DayTracker(plant, export_window(day.day, timezone))
    controller = Observed(BaselineController(baseline_config(timezone)), tracker)
    result = run_day(plant, controller, PLANT_STEP_S, margin_kwh=SAFETY_MARGIN_KWH)
    return ControllerDay(
        controller=BASELINE,
        result=result,
        window=tracker.figures(),
        cpu_s=tuple(controller.cpu_s),
        stop_reasons=tuple(BASELINE_STOP_REASON for _ in result.stops),
    )
