"""Score the controllers: every metric's definition lives here, pure and documented."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
import math
import statistics
from typing import Any, Final

from .config import SAFETY_MARGIN_KWH
from .records import (
    BASELINE,
    CONTROLLERS,
    OURS,
    ControllerDay,
    DayOutcome,
    Reference,
    WindowFigures,
)

# Below this much legally exportable energy a day has no meaningful share.
MIN_LEGAL_KWH: Final = 0.05
NOMINAL: Final = "nominal"
ALLOWANCE_BOUND: Final = "allowance"
BATTERY_BOUND: Final = "battery"
WINDOW_BOUND: Final = "window"

DEFINITIONS: Final[Mapping[str, str]] = {
    "over_export_kwh": (
        "True energy exported on the local day beyond the true allowance, scored at the "
        "day's end by sim.runner.over_export_kwh: max(0, export_today - max(0, allowance)), "
        "allowance = true PV today - safety margin (0.5 kWh); no cap."
    ),
    "max_over_export_kwh": (
        "The largest over-export seen at any plant step of the day (true PV so far - "
        "margin against true export so far), or the end-of-day figure if larger."
    ),
    "legal_kwh": (
        "Legally exportable battery energy of the window [16:00, 19:00): the extra true "
        "export, beyond what the house exports with no controller (idle run), that an "
        "oracle gets out of the same plant, PV, load and seed. The oracle reads the true "
        "counters, its inverter obeys at once, and it force-discharges at 3 kW (cutoff = "
        "min SOC 20 %) exactly while true export today < true PV today - margin. So it "
        "respects the allowance at every moment, the battery floor and the house load "
        "that a forced discharge serves first."
    ),
    "binding": (
        "What ended the oracle's export: 'allowance' (it hit the true allowance), "
        "'battery' (min SOC reached) or 'window' (19:00 came first)."
    ),
    "achieved_kwh": (
        "The controller's extra export in the window over the idle run: "
        "(export at 19:00 - export at 16:00) - the same for the idle run, clamped to "
        "[0, legal_kwh]."
    ),
    "share": ("achieved_kwh / legal_kwh; null when legal_kwh < 0.05 kWh."),
    "window_headroom_kwh": (
        "For reference (the simple formula): true allowance at 19:00 - true export at "
        "16:00 (H). battery_above_min_kwh: (SOC at 16:00 - 20) / 100 x capacity x "
        "one-way efficiency (B). min(H, B) ignores the house load and the PV that keeps "
        "raising the allowance during the window, so the oracle's figure is used instead."
    ),
    "simple_share": (
        "The simple formula, for comparison: simple_legal_kwh = min(H, B); simple_share "
        "= min(simple_legal_kwh, forced_discharge_kwh) / simple_legal_kwh, where "
        "forced_discharge_kwh is the true AC battery discharge inside the window while "
        "the inverter was force-discharging (part of it feeds the house load)."
    ),
    "writes": (
        "Writes that reached the inverter on the day. Ours: every state write (changed or "
        "re-written) of the four control helpers, each carried to the plant as a command; "
        "baseline: its commands."
    ),
    "reaction_s": (
        "For every stop command (enable off): seconds from the latest published export-"
        "meter update before it to the command. Ours: when the enable helper was written "
        "off; baseline: sim.runner StopRecord. Median and p99 (nearest rank) over all stops."
    ),
    "cpu": (
        "Process CPU time (time.process_time) per evaluation. Ours: around the supervisor's "
        "async_evaluate, which includes pushing the view to the integration's entities; "
        "baseline: around BaselineController.decide (called before every 1 s plant step). "
        "rule_cpu (ours only): around the pure stop_reason and auto_start_due calls."
    ),
}


def window_export_kwh(window: WindowFigures) -> float:
    """Return the true export inside the window."""
    return window.end_export_kwh - window.start_export_kwh


def headroom_kwh(window: WindowFigures) -> float:
    """Return H: the allowance at the window's end less the export before it."""
    allowance = window.end_pv_kwh - SAFETY_MARGIN_KWH
    return max(0.0, allowance - window.start_export_kwh)


def legal_kwh(reference: Reference) -> float:
    """Return the oracle's extra export over the idle run: the legally exportable energy."""
    extra = window_export_kwh(reference.oracle) - window_export_kwh(reference.idle)
    return max(0.0, extra)


def achieved_kwh(window: WindowFigures, reference: Reference) -> float:
    """Return a controller's extra export over the idle run, within [0, legal]."""
    extra = window_export_kwh(window) - window_export_kwh(reference.idle)
    return min(legal_kwh(reference), max(0.0, extra))


def share(window: WindowFigures, reference: Reference) -> float | None:
    """Return achieved / legal, None when too little was legal to judge."""
    legal = legal_kwh(reference)
    return None if legal < MIN_LEGAL_KWH else achieved_kwh(window, reference) / legal


def simple_legal_kwh(window: WindowFigures) -> float:
    """Return the simple formula's legal energy: min(H, B)."""
    return min(headroom_kwh(window), window.battery_above_min_kwh)


def simple_share(window: WindowFigures) -> float | None:
    """Return forced battery discharge in the window over min(H, B), capped at 1."""
    legal = simple_legal_kwh(window)
    if legal < MIN_LEGAL_KWH:
        return None
    return min(legal, window.forced_discharge_kwh) / legal


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Return the nearest-rank percentile, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def cpu_stats(samples: Sequence[float]) -> dict[str, Any]:
    """Return count, mean, median, p99 (microseconds) and total (ms) of CPU samples."""
    if not samples:
        return {"evaluations": 0, "mean_us": None, "median_us": None, "p99_us": None}
    p99 = percentile(samples, 0.99) or 0.0
    return {
        "evaluations": len(samples),
        "mean_us": statistics.fmean(samples) * 1e6,
        "median_us": statistics.median(samples) * 1e6,
        "p99_us": p99 * 1e6,
        "total_ms": math.fsum(samples) * 1e3,
    }


def day_metrics(day: ControllerDay, reference: Reference) -> dict[str, Any]:
    """Return every metric of one controller on one day."""
    result, window = day.result, day.window
    reactions = [stop.reaction_s for stop in result.stops]
    return {
        "over_export_kwh": result.over_export_kwh,
        "max_over_export_kwh": result.max_over_export_kwh,
        "exported_kwh": result.totals.export_kwh,
        "pv_kwh": result.totals.pv_kwh,
        "allowance_kwh": result.allowance_kwh,
        "window_headroom_kwh": headroom_kwh(window),
        "battery_above_min_kwh": window.battery_above_min_kwh,
        "legal_kwh": legal_kwh(reference),
        "binding": reference.binding,
        "window_export_kwh": window_export_kwh(window),
        "forced_discharge_kwh": window.forced_discharge_kwh,
        "achieved_kwh": achieved_kwh(window, reference),
        "share": share(window, reference),
        "simple_legal_kwh": simple_legal_kwh(window),
        "simple_share": simple_share(window),
        "writes": result.commands_written,
        "ignored_writes": result.ignored_commands,
        "timer_stops": result.timer_stops,
        "stops": len(result.stops),
        "reaction_s": reactions,
        "stop_reasons": list(day.stop_reasons),
        "end_soc": result.end_soc,
        "cpu": cpu_stats(day.cpu_s),
        "rule_cpu": cpu_stats(day.rule_cpu_s),
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
    found = (
        share(outcome.of(controller).window, outcome.reference) for outcome in outcomes
    )
    return [value for value in found if value is not None]


def controller_summary(
    outcomes: Sequence[DayOutcome], controller: str
) -> dict[str, Any]:
    """Return one controller's figures over a set of days."""
    days = [outcome.of(controller) for outcome in outcomes]
    nominal = [o for o in outcomes if o.day.name == NOMINAL]
    shares, nominal_shares = _shares(outcomes, controller), _shares(nominal, controller)
    simple = [
        value
        for outcome in nominal
        if (value := simple_share(outcome.of(controller).window)) is not None
    ]
    reactions = [stop.reaction_s for day in days for stop in day.result.stops]
    writes = [day.result.commands_written for day in days]
    cpu = [sample for day in days for sample in day.cpu_s]
    totals_ms = [math.fsum(day.cpu_s) * 1e3 for day in days]
    return {
        "days": len(days),
        "total_over_export_kwh": math.fsum(d.result.over_export_kwh for d in days),
        "days_over_allowance": sum(d.result.over_export_kwh > 0.0 for d in days),
        "worst_over_export": _worst(outcomes, controller, "over_export_kwh"),
        "worst_max_over_export": _worst(outcomes, controller, "max_over_export_kwh"),
        "share_mean": statistics.fmean(shares) if shares else None,
        "share_min": min(shares, default=None),
        "share_nominal_mean": (
            statistics.fmean(nominal_shares) if nominal_shares else None
        ),
        "share_nominal_min": min(nominal_shares, default=None),
        "simple_share_nominal_mean": statistics.fmean(simple) if simple else None,
        "writes_total": sum(writes),
        "writes_per_day": statistics.fmean(writes) if writes else None,
        "stops_total": len(reactions),
        "reaction_median_s": statistics.median(reactions) if reactions else None,
        "reaction_p99_s": percentile(reactions, 0.99),
        "cpu": cpu_stats(cpu),
        "rule_cpu": cpu_stats([s for day in days for s in day.rule_cpu_s]),
        "cpu_total_ms_per_day": statistics.fmean(totals_ms) if totals_ms else None,
    }


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    """Return ours / theirs, None when either is missing or theirs is 0."""
    if ours is None or theirs is None or theirs == 0:
        return None
    return ours / theirs


def ratios(summary: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """Return ours / baseline for CPU, writes and reaction time."""
    ours, theirs = summary[OURS], summary[BASELINE]
    return {
        "cpu_mean_per_evaluation": _ratio(
            ours["cpu"]["mean_us"], theirs["cpu"]["mean_us"]
        ),
        "cpu_median_per_evaluation": _ratio(
            ours["cpu"]["median_us"], theirs["cpu"]["median_us"]
        ),
        "cpu_p99_per_evaluation": _ratio(
            ours["cpu"]["p99_us"], theirs["cpu"]["p99_us"]
        ),
        "rule_cpu_mean_per_evaluation": _ratio(
            ours["rule_cpu"]["mean_us"], theirs["cpu"]["mean_us"]
        ),
        "cpu_total_per_day": _ratio(
            ours["cpu_total_ms_per_day"], theirs["cpu_total_ms_per_day"]
        ),
        "writes_per_day": _ratio(ours["writes_per_day"], theirs["writes_per_day"]),
        "reaction_median": _ratio(
            ours["reaction_median_s"], theirs["reaction_median_s"]
        ),
    }


def summaries(outcomes: Sequence[DayOutcome]) -> dict[str, dict[str, Any]]:
    """Return both controllers' summaries over the days."""
    return {c: controller_summary(outcomes, c) for c in CONTROLLERS}


def per_scenario(outcomes: Sequence[DayOutcome]) -> dict[str, dict[str, Any]]:
    """Return both controllers' summaries per scenario, in run order."""
    names = list(dict.fromkeys(outcome.day.name for outcome in outcomes))
    return {
        name: summaries([o for o in outcomes if o.day.name == name]) for name in names
    }
