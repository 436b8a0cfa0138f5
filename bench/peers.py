"""Run the peers through sim.runner: the earlier tool as published, corrected, and the oracle."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
import time
from typing import Final

from sim.baseline import BaselineController, corrected, published_rule
from sim.commands import Command, SetEnable
from sim.plant import Plant, Published
from sim.runner import Controller, run_day
from sim.scenarios import DayEvents, ScenarioDay

from .config import PLANT_STEP_S, SAFETY_MARGIN_KWH, baseline_config, export_window
from .records import CORRECTED, ORACLE, PUBLISHED, ControllerDay, Reaction
from .reference import OracleController, oracle_binding, perfect_inverter
from .tracker import DayTracker

# Outside the window (with a margin) and not forcing, no peer writes: coarser steps.
QUIET_STEP_S: Final = 10.0
BUSY_MARGIN: Final = timedelta(minutes=5)


class Observed:
    """A pure controller under the day's events, timed, with the tracker looking first."""

    __slots__ = (
        "_dead",
        "_events",
        "_factory",
        "_inner",
        "_plant",
        "_tracker",
        "cpu_s",
        "reactions",
        "stop_reasons",
    )

    def __init__(
        self,
        factory: Callable[[], Controller],
        plant: Plant,
        tracker: DayTracker,
        events: DayEvents,
    ) -> None:
        """Build the controller; events say when it dies or restarts (None: never)."""
        self._factory = factory
        self._inner = factory()
        self._plant = plant
        self._tracker = tracker
        self._events = events
        self._dead = False
        self.cpu_s: list[float] = []
        self.reactions: list[Reaction] = []
        self.stop_reasons: list[str] = []

    def decide(self, published: Published, now: datetime) -> Sequence[Command]:
        """Observe the plant, apply the day's events, then time the controller's decision."""
        self._tracker.observe()
        if self._gone(now):
            return []
        start = time.process_time()
        commands = self._inner.decide(published, now)
        self.cpu_s.append(time.process_time() - start)
        if SetEnable(False) in commands:
            self._note_stop(published, now)
        return commands

    def _gone(self, now: datetime) -> bool:
        """Return whether the host is down now: dead for good, or inside a restart gap."""
        events = self._events
        if self._dead:
            return True
        if events.ha_dies_at is not None and now >= events.ha_dies_at:
            self._dead = True
            self._plant.controller_gone()
            return True
        restart = events.restart_at
        if restart is None or now < restart:
            return False
        if now < restart + timedelta(seconds=events.restart_gap_s):
            return True
        self._events = DayEvents(daily_cap_kwh=events.daily_cap_kwh)
        self._inner = self._factory()  # the earlier tool forgets its run on a restart
        return False

    def _note_stop(self, published: Published, now: datetime) -> None:
        """Note when the stop became due and what made it due."""
        due = getattr(self._inner, "last_stop_due", None) or now
        kind = getattr(self._inner, "last_stop_kind", "truth")
        self.stop_reasons.append(kind)
        self.reactions.append(Reaction(due=due, command=now, trigger=kind))


def quiet_steps(window: tuple[datetime, datetime]) -> Callable[[Plant], float]:
    """Return a step chooser: 1 s near the window or while forcing, else QUIET_STEP_S."""
    busy_from = window[0] - BUSY_MARGIN
    busy_to = window[1] + BUSY_MARGIN

    def step_for(plant: Plant) -> float:
        """Return the next step's length."""
        now = plant.now_utc
        if plant.forcing or busy_from <= now < busy_to:
            return PLANT_STEP_S
        return QUIET_STEP_S

    return step_for


def run_peer(day: ScenarioDay, name: str) -> ControllerDay:
    """Run one peer over the whole scenario-day, from local midnight to the next."""
    begin = time.process_time()
    cap = day.events.daily_cap_kwh
    config = day.config
    if name == ORACLE:
        config = perfect_inverter(config)
    plant = Plant(config, day.start)
    timezone = plant.config.timezone
    window = export_window(day.day, timezone)
    tracker = DayTracker(plant, window, cap)
    base = baseline_config(timezone)
    oracle = OracleController(plant, window, cap)
    factories: dict[str, Callable[[], Controller]] = {
        PUBLISHED: lambda: BaselineController(published_rule(base)),
        CORRECTED: lambda: BaselineController(corrected(base, cap)),
        ORACLE: lambda: oracle,
    }
    events = DayEvents(daily_cap_kwh=cap) if name == ORACLE else day.events
    controller = Observed(factories[name], plant, tracker, events)
    quiet = quiet_steps(window)
    result = run_day(
        plant,
        controller,
        PLANT_STEP_S,
        margin_kwh=SAFETY_MARGIN_KWH,
        daily_cap_kwh=cap,
        step_for=quiet,
    )
    return ControllerDay(
        controller=name,
        result=result,
        window=tracker.figures(),
        cpu_s=tuple(controller.cpu_s),
        update_cpu_s=tuple(controller.cpu_s),
        reactions=tuple(controller.reactions),
        stop_reasons=tuple(controller.stop_reasons),
        binding=oracle_binding(oracle, tracker.figures()) if name == ORACLE else None,
        run_cpu_s=time.process_time() - begin,
    )
