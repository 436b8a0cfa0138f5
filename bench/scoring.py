"""Score the controllers: every metric's definition lives here, pure and documented."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
import math
import statistics
from typing import Any, Final

from .records import (
    CONTROLLERS,
    OURS,
    ControllerDay,
    DayOutcome,
    Reference,
    WindowFigures,
)

# Below this much legally exportable energy a day has no meaningful share.
MIN_LEGAL_KWH: Final = 0.05
# A p99 from fewer samples than this is just the maximum, so it is not reported.
MIN_P99_SAMPLES: Final = 100
# The floor for any day where the inverter obeys.
LOW_SHARE: Final = 0.8

DEFINITIONS: Final[Mapping[str, str]] = {
    "over_export_kwh": (
        "True energy exported on the local day beyond the true allowance, at the day's "
        "end: max(0, export_today - max(0, allowance)), allowance = min(true PV today - "
        "margin, daily cap - margin) (cap only where the scenario has one), margin 0.5 kWh."
    ),
    "max_over_export_kwh": (
        "The largest over-export at any moment of the day (checked at every 1 s plant "
        "step: true export so far against true PV so far - margin, and the cap), or the "
        "end-of-day figure if larger."
    ),
    "legal_kwh": (
        "The oracle's extra true export in the window [16:00, 19:00) over the idle run "
        "(no controller, same plant, PV, load and seed). The oracle reads the true "
        "counters, its inverter obeys at once at its setpoint, and it force-discharges at "
        "3 kW (cutoff = min SOC 20 %) exactly while true export < true allowance. It "
        "never dies and never restarts: an upper bound."
    ),
    "binding": (
        "What ended the oracle's export: 'allowance' (it hit the true allowance), "
        "'battery' (min SOC reached) or 'window' (19:00 came first)."
    ),
    "captured_kwh": (
        "Energy exported within the allowance: the controller's extra export in the "
        "window over the idle run, less its max over-export of the day (over-export "
        "excluded), at least 0. Not clipped at legal_kwh."
    ),
    "share": (
        "captured_kwh / legal_kwh; null when legal_kwh < 0.05 kWh. The oracle's is 1 by "
        "construction; ours can exceed 1 slightly where the oracle, held at its cutoff, "
        "exports less evening PV."
    ),
    "writes": (
        "Writes that reached the inverter on the day. Ours: every state write (changed or "
        "re-written) of the four control helpers, each carried to the plant as a command; "
        "peers: their commands."
    ),
    "flash_writes": (
        "Writes of settings the inverter keeps in flash/EEPROM (wear): power and cutoff SOC "
        "for every variant; all four controls on the SolarEdge-like command-timeout "
        "inverter. Enable and duration are RAM commands elsewhere."
    ),
    "reaction_s": (
        "For every stop command: simulated seconds from the moment the stop became due to "
        "the stop command. Ours: the source write whose processing wrote the stop (0 s "
        "when decided in that write's listeners), or for a stop written from a timer the "
        "staleness deadline (last report + stale_after_seconds) that passed, else the "
        "previous timer tick (the harness fires timers every 5 s). Published/corrected: "
        "the planned end of the fixed run, or the export reading its 10 s check acted on. "
        "reaction_wall_ms: wall-clock from the write (or the timer firing) to the stop "
        "reaching the control entity's listener, ours only."
    ),
    "update_cpu": (
        "Ours: process CPU (time.process_time) of the whole path per source update: the "
        "state writes of one poll, every listener, the snapshot, the decision, any service "
        "call and helper write, until Home Assistant is idle again. Peers: CPU per decide() "
        "call (one per 1 s plant step)."
    ),
}


def window_export_kwh(window: WindowFigures) -> float:
    """Return the true export inside the window."""
    return window.end_export_kwh - window.start_export_kwh


def extra_kwh(window: WindowFigures, reference: Reference) -> float:
    """Return a controller's extra export in the window over the idle run."""
    return window_export_kwh(window) - window_export_kwh(reference.idle)


def legal_kwh(outcome: DayOutcome) -> float:
    """Return the oracle's extra export over the idle run: the legally exportable energy."""
    return max(0.0, captured_kwh(outcome.oracle, outcome.reference))


def captured_kwh(day: ControllerDay, reference: Reference) -> float:
    """Return the energy exported within the allowance: extra export less over-export."""
    return max(0.0, extra_kwh(day.window, reference) - day.result.max_over_export_kwh)


def share(day: ControllerDay, outcome: DayOutcome) -> float | None:
    """Return captured / legal, None when too little was legal to judge."""
    legal = legal_kwh(outcome)
    if legal < MIN_LEGAL_KWH:
        return None
    return captured_kwh(day, outcome.reference) / legal


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Return the nearest-rank percentile, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def spread(values: Sequence[float], scale: float = 1.0) -> dict[str, Any]:
    """Return count, median, p99 (only from 100 samples on) and max, scaled."""
    if not values:
        return {"count": 0, "median": None, "p99": None, "max": None}
    p99 = percentile(values, 0.99) if len(values) >= MIN_P99_SAMPLES else None
    return {
        "count": len(values),
        "median": statistics.median(values) * scale,
        "p99": None if p99 is None else p99 * scale,
        "max": max(values) * scale,
    }


def cpu_stats(samples: Sequence[float]) -> dict[str, Any]:
    """Return count, mean, median, p99 (microseconds) and total (ms) of CPU samples."""
    if not samples:
        return {
            "count": 0,
            "mean_us": None,
            "median_us": None,
            "p99_us": None,
            "total_ms": 0.0,
        }
    return {
        "count": len(samples),
        "mean_us": statistics.fmean(samples) * 1e6,
        "median_us": statistics.median(samples) * 1e6,
        "p99_us": (percentile(samples, 0.99) or 0.0) * 1e6,
        "total_ms": math.fsum(samples) * 1e3,
    }


def day_metrics(day: ControllerDay, outcome: DayOutcome) -> dict[str, Any]:
    """Return every metric of one controller on one day."""
    result, window, reference = day.result, day.window, outcome.reference
    sim = [r.sim_s for r in day.reactions]
    wall = [r.wall_s for r in day.reactions if r.wall_s is not None]
    return {
        "over_export_kwh": result.over_export_kwh,
        "max_over_export_kwh": result.max_over_export_kwh,
        "exported_kwh": result.totals.export_kwh,
        "pv_kwh": result.totals.pv_kwh,
        "allowance_kwh": result.allowance_kwh,
        "legal_kwh": legal_kwh(outcome),
        "binding": reference.binding,
        "window_export_kwh": window_export_kwh(window),
        "extra_kwh": extra_kwh(window, reference),
        "captured_kwh": captured_kwh(day, reference),
        "share": share(day, outcome),
        "forced_discharge_kwh": window.forced_discharge_kwh,
        "writes": result.commands_written,
        "flash_writes": result.flash_writes,
        "ignored_writes": result.ignored_commands,
        "timer_stops": result.timer_stops,
        "stops": len(day.reactions),
        "reaction_s": sim,
        "reaction_triggers": [r.trigger for r in day.reactions],
        "reaction_wall_ms": [w * 1e3 for w in wall],
        "stop_reasons": list(day.stop_reasons),
        "end_soc": result.end_soc,
        "update_cpu": cpu_stats(day.update_cpu_s),
        "run_cpu_s": day.run_cpu_s,
        "state_writes": day.state_writes,
        "evaluate_cpu": cpu_stats(day.cpu_s),
    }


def day_id(outcome: DayOutcome) -> str:
    """Return a scenario-day's short id, e.g. nominal-0."""
    return f"{outcome.day.name}-{outcome.day.index}"


def _worst(outcomes: Sequence[DayOutcome], controller: str, key: str) -> dict[str, Any]:
    """Return the day with the largest value of a result field, and the value."""
    if not outcomes:
        return {"day": None, "kwh": 0.0}
    pick = max(outcomes, key=lambda o: getattr(o.of(controller).result, key))
    return {"day": day_id(pick), "kwh": getattr(pick.of(controller).result, key)}


def _shares(outcomes: Iterable[DayOutcome], controller: str) -> list[float]:
    """Return the shares of the days that have one."""
    found = (share(outcome.of(controller), outcome) for outcome in outcomes)
    return [value for value in found if value is not None]


def controller_summary(
    outcomes: Sequence[DayOutcome], controller: str
) -> dict[str, Any]:
    """Return one controller's figures over a set of days."""
    days = [outcome.of(controller) for outcome in outcomes]
    shares = _shares(outcomes, controller)
    reactions = [r for day in days for r in day.reactions]
    writes = [day.result.commands_written for day in days]
    flash = [day.result.flash_writes for day in days]
    return {
        "days": len(days),
        "total_over_export_kwh": math.fsum(d.result.over_export_kwh for d in days),
        "days_over_allowance": sum(d.result.over_export_kwh > 0.0 for d in days),
        "days_over_at_any_moment": sum(
            d.result.max_over_export_kwh > 0.0 for d in days
        ),
        "worst_over_export": _worst(outcomes, controller, "over_export_kwh"),
        "worst_max_over_export": _worst(outcomes, controller, "max_over_export_kwh"),
        "share_mean": statistics.fmean(shares) if shares else None,
        "share_min": min(shares, default=None),
        "share_max": max(shares, default=None),
        "days_below_80pct": sum(value < LOW_SHARE for value in shares),
        "writes_total": sum(writes),
        "writes_per_day": statistics.fmean(writes) if writes else None,
        "flash_writes_per_day": statistics.fmean(flash) if flash else None,
        "reaction_s": spread([r.sim_s for r in reactions]),
        "reaction_wall_ms": spread(
            [r.wall_s for r in reactions if r.wall_s is not None], 1e3
        ),
        "update_cpu": cpu_stats([s for day in days for s in day.update_cpu_s]),
    }


def summaries(outcomes: Sequence[DayOutcome]) -> dict[str, dict[str, Any]]:
    """Return every controller's summary over the days."""
    return {c: controller_summary(outcomes, c) for c in CONTROLLERS}


def per_scenario(outcomes: Sequence[DayOutcome]) -> dict[str, dict[str, Any]]:
    """Return every controller's summary per scenario, in run order."""
    names = list(dict.fromkeys(outcome.day.name for outcome in outcomes))
    return {
        name: summaries([o for o in outcomes if o.day.name == name]) for name in names
    }


def worst_day(
    outcomes: Sequence[DayOutcome], controller: str = OURS
) -> DayOutcome | None:
    """Return the controller's worst day: most over-export, then the lowest share."""
    if not outcomes:
        return None

    def badness(outcome: DayOutcome) -> tuple[float, float]:
        """Return (max over-export, shortfall of share) for ordering."""
        day = outcome.of(controller)
        value = share(day, outcome)
        return (day.result.max_over_export_kwh, 1.0 - (1.0 if value is None else value))

    return max(outcomes, key=badness)
