"""Run a plant for a local day under a pure controller and record what the scoring needs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final, Protocol

from .clock import next_local_midnight
from .commands import Command, SetEnable, apply_command
from .plant import DayTotals, Plant, Published, Truth

# Over-export below this (kWh) is float noise, not energy.
NOISE_KWH: Final = 1e-9


class Controller(Protocol):
    """A pure controller: reads what is published, returns writes."""

    def decide(self, published: Published, now: datetime) -> Sequence[Command]:
        """Return the writes to make at now."""
        ...


class IdleController:
    """Never writes anything: the plant runs on self-consumption."""

    def decide(self, published: Published, now: datetime) -> Sequence[Command]:
        """Return no writes."""
        return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """One coarse sample of the true plant (kW; grid export positive; kWh; %)."""

    at: datetime
    pv_kw: float
    load_kw: float
    battery_kw: float
    grid_kw: float
    export_today_kwh: float
    allowance_kwh: float
    soc_pct: float


@dataclass(frozen=True, slots=True, kw_only=True)
class StopRecord:
    """A stop write and the latest export-meter update before it (the trigger)."""

    trigger: datetime
    command: datetime

    @property
    def reaction_s(self) -> float:
        """Return the seconds from the meter update to the stop write."""
        return (self.command - self.trigger).total_seconds()


@dataclass(frozen=True, slots=True, kw_only=True)
class DayResult:
    """What one controller did to one plant over one local day."""

    day: date
    samples: tuple[Sample, ...]
    totals: DayTotals
    allowance_kwh: float
    over_export_kwh: float
    max_over_export_kwh: float
    commands_written: int
    stops: tuple[StopRecord, ...]
    timer_stops: int
    ignored_commands: int
    end_soc: float
    flash_writes: int = 0


def true_allowance_kwh(
    pv_kwh: float, margin_kwh: float, daily_cap_kwh: float | None
) -> float:
    """Return the compliance rule's allowance from true PV: margin always subtracted."""
    allowance = pv_kwh - margin_kwh
    if daily_cap_kwh is not None:
        allowance = min(allowance, daily_cap_kwh - margin_kwh)
    return allowance


def over_export_kwh(export_kwh: float, allowance_kwh: float) -> float:
    """Return exported energy beyond the allowance (an allowance below 0 counts as 0).

    Below a microwatt-hour it is float noise of summed sub-steps, and counts as 0.
    """
    over = export_kwh - max(0.0, allowance_kwh)
    return over if over > NOISE_KWH else 0.0


@dataclass(slots=True)
class _Recorder:
    """Accumulates samples, stops and the worst breach while a day runs."""

    day: date
    margin_kwh: float
    daily_cap_kwh: float | None
    sample_s: float
    next_sample_s: float
    max_over_kwh: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    stops: list[StopRecord] = field(default_factory=list)

    def allowance(self, pv_kwh: float) -> float:
        """Return the true allowance for a true PV total."""
        return true_allowance_kwh(pv_kwh, self.margin_kwh, self.daily_cap_kwh)

    def commands(
        self, plant: Plant, published: Published, commands: Sequence[Command]
    ) -> None:
        """Write the commands and note stops with their triggering meter update."""
        for command in commands:
            if command == SetEnable(False):
                trigger = published.export_today.last_reported
                self.stops.append(StopRecord(trigger=trigger, command=plant.now_utc))
            apply_command(plant, command)

    def observe(self, plant: Plant) -> None:
        """Track the breach and take a sample when one is due (running day only)."""
        if plant.day != self.day:
            return
        allowance = self.allowance(plant.pv_today_kwh)
        over = over_export_kwh(plant.export_today_kwh, allowance)
        self.max_over_kwh = max(self.max_over_kwh, over)
        if plant.elapsed_s + 1e-9 >= self.next_sample_s:
            self.next_sample_s += self.sample_s
            self.samples.append(_sample(plant.truth(), allowance))


def _sample(truth: Truth, allowance: float) -> Sample:
    """Return a sample of the true plant."""
    return Sample(
        at=truth.now,
        pv_kw=truth.pv_kw,
        load_kw=truth.load_kw,
        battery_kw=truth.battery_kw,
        grid_kw=truth.grid_kw,
        export_today_kwh=truth.export_today_kwh,
        allowance_kwh=allowance,
        soc_pct=truth.soc_pct,
    )


def run_day(
    plant: Plant,
    controller: Controller,
    step_s: float = 1.0,
    *,
    margin_kwh: float = 0.5,
    daily_cap_kwh: float | None = None,
    sample_s: float = 60.0,
    step_for: Callable[[Plant], float] | None = None,
) -> DayResult:
    """Step the plant to its next local midnight, asking the controller before every step.

    step_for, if given, chooses each step's length from the plant (coarser while nothing
    can happen); the plant splits every step at its own events, so totals stay exact.
    """
    end_s = (
        plant.elapsed_s
        + (next_local_midnight(plant.now_utc, plant.tz) - plant.now_utc).total_seconds()
    )
    start = plant.truth()
    recorder = _Recorder(
        start.day, margin_kwh, daily_cap_kwh, sample_s, plant.elapsed_s
    )
    recorder.observe(plant)
    while plant.elapsed_s < end_s - 1e-9:
        published = plant.published()
        recorder.commands(plant, published, controller.decide(published, plant.now))
        length = step_s if step_for is None else step_for(plant)
        plant.step(min(length, end_s - plant.elapsed_s))
        recorder.observe(plant)
    return _result(start, plant.truth(), recorder)


def _result(start: Truth, end: Truth, recorder: _Recorder) -> DayResult:
    """Return the day's result from the truth just after midnight."""
    return score_day(
        start,
        end,
        day=recorder.day,
        samples=recorder.samples,
        stops=recorder.stops,
        max_over_kwh=recorder.max_over_kwh,
        allowance_for=recorder.allowance,
    )


def score_day(
    start: Truth,
    end: Truth,
    *,
    day: date,
    samples: Sequence[Sample],
    stops: Sequence[StopRecord],
    max_over_kwh: float,
    allowance_for: Callable[[float], float],
) -> DayResult:
    """Score a completed day from the truth at its start and just after its midnight."""
    totals = end.previous_day
    if totals is None or totals.day != day:
        raise RuntimeError("the day did not complete")
    allowance = allowance_for(totals.pv_kwh)
    over = over_export_kwh(totals.export_kwh, allowance)
    return DayResult(
        day=day,
        samples=tuple(samples),
        totals=totals,
        allowance_kwh=allowance,
        over_export_kwh=over,
        max_over_export_kwh=max(max_over_kwh, over),
        commands_written=end.commands - start.commands,
        stops=tuple(stops),
        timer_stops=end.timer_stops - start.timer_stops,
        ignored_commands=end.ignored_commands - start.ignored_commands,
        end_soc=end.soc_pct,
        flash_writes=end.flash_writes - start.flash_writes,
    )
