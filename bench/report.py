"""Assemble the results document (JSON) and its Markdown tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import platform
import shutil
import subprocess
from typing import Any

from .config import (
    MIN_SOC,
    PLANT_STEP_S,
    POWER_KW,
    SAFETY_MARGIN_KWH,
    WINDOW_END,
    WINDOW_START,
    HassSpan,
    stale_after_seconds,
)
from .records import BASELINE, OURS, DayOutcome
from .scoring import (
    DEFINITIONS,
    day_id,
    day_metrics,
    legal_kwh,
    per_scenario,
    ratios,
    summaries,
    window_export_kwh,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    """How the run was made: command, seeds, scenario list, span, time taken."""

    command: str
    argv: list[str]
    timestamp: str
    base_seed: int
    days_per_scenario: int
    scenarios: list[str]
    span: HassSpan
    runtime_s: float
    failed: list[str] = field(default_factory=list)
    code: dict[str, Any] = field(default_factory=dict)


def code_version() -> dict[str, Any]:
    """Return the commit the run used and whether the code differed from it."""
    git = shutil.which("git")
    if git is None:
        return {"commit": None, "modified": None}
    root = Path(__file__).resolve().parent.parent
    args = [git, "-C", str(root)]
    # Fixed arguments, no shell: nothing here comes from outside.
    commit = subprocess.run(  # noqa: S603
        [*args, "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    status = subprocess.run(  # noqa: S603
        [*args, "status", "--porcelain", "--", "custom_components", "sim", "bench"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    outputs = ("bench/out", "bench/results")
    modified = [
        path
        for line in status.splitlines()
        if (path := line[3:]) and not path.startswith(outputs)
    ]
    return {"commit": commit or None, "modified": modified}


def machine_facts() -> dict[str, Any]:
    """Return the interpreter and machine the run used."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def settings(span: HassSpan) -> dict[str, Any]:
    """Return the benchmark's fixed settings."""
    return {
        "export_window": [WINDOW_START.isoformat(), WINDOW_END.isoformat()],
        "safety_margin_kwh": SAFETY_MARGIN_KWH,
        "min_soc": MIN_SOC,
        "power_kw": POWER_KW,
        "plant_step_s": PLANT_STEP_S,
        "hass_step_s": span.step_s,
        "hass_span": span.describe(),
        "stale_after_seconds": "max(30, 3 x meter interval)",
        "stale_after_seconds_at_10s": stale_after_seconds(10.0),
    }


def day_entry(outcome: DayOutcome) -> dict[str, Any]:
    """Return one scenario-day's entry: identity and both controllers' metrics."""
    day, span = outcome.day, outcome.ours.hass_span
    return {
        "id": day_id(outcome),
        "scenario": day.name,
        "index": day.index,
        "seed": day.seed,
        "date": day.day.isoformat(),
        "meter_interval_s": day.config.meters.update_interval_s,
        "hass_span": None if span is None else [m.isoformat() for m in span],
        "reference": reference_entry(outcome),
        OURS: day_metrics(outcome.ours, outcome.reference),
        BASELINE: day_metrics(outcome.baseline, outcome.reference),
    }


def reference_entry(outcome: DayOutcome) -> dict[str, Any]:
    """Return the idle and oracle figures the share is measured against."""
    reference = outcome.reference
    return {
        "legal_kwh": legal_kwh(reference),
        "binding": reference.binding,
        "idle_window_export_kwh": window_export_kwh(reference.idle),
        "oracle_window_export_kwh": window_export_kwh(reference.oracle),
        "oracle_max_over_export_kwh": reference.oracle_over_export_kwh,
    }


def build_results(outcomes: Sequence[DayOutcome], run: RunInfo) -> dict[str, Any]:
    """Return the whole results document."""
    summary = summaries(outcomes)
    return {
        "command": run.command,
        "argv": run.argv,
        "timestamp": run.timestamp,
        "runtime_s": run.runtime_s,
        "machine": machine_facts(),
        "code": run.code,
        "base_seed": run.base_seed,
        "days_per_scenario": run.days_per_scenario,
        "scenarios": run.scenarios,
        "seeds": {day_id(o): o.day.seed for o in outcomes},
        "settings": settings(run.span),
        "definitions": dict(DEFINITIONS),
        "failed": run.failed,
        "days": [day_entry(outcome) for outcome in outcomes],
        "summary": summary,
        "ratios": ratios(summary),
        "per_scenario": per_scenario(outcomes),
    }


def write_json(document: Mapping[str, Any], path: Path) -> None:
    """Write the document as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def kwh(value: float | None) -> str:
    """Return kWh with three decimals."""
    return "-" if value is None else f"{value:.3f}"


def pct(value: float | None) -> str:
    """Return a share as a percentage."""
    return "-" if value is None else f"{100.0 * value:.1f} %"


def num(value: float | None, digits: int = 1) -> str:
    """Return a number with the given decimals."""
    return "-" if value is None else f"{value:.{digits}f}"


def ratio(value: float | None) -> str:
    """Return a ratio like 1.5x."""
    return "-" if value is None else f"{value:.2f}x"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _worst(entry: Mapping[str, Any]) -> str:
    """Return the worst day's over-export and its id."""
    return f"{kwh(entry['kwh'])} ({entry['day'] or '-'})"


def _cpu(cpu: Mapping[str, Any]) -> str:
    """Return mean / median / p99 microseconds."""
    return " / ".join(num(cpu[key]) for key in ("mean_us", "median_us", "p99_us"))


def summary_table(document: Mapping[str, Any]) -> str:
    """Return the headline table: ours beside the baseline, with ratios."""
    s, r = document["summary"], document["ratios"]
    o, b = s[OURS], s[BASELINE]
    n = o["days"]
    rows = [
        ["over-export, total (kWh)", kwh(o["total_over_export_kwh"]), kwh(b["total_over_export_kwh"]), ""],
        ["days over the allowance", f"{o['days_over_allowance']}/{n}", f"{b['days_over_allowance']}/{n}", ""],
        ["worst day, end of day (kWh)", _worst(o["worst_over_export"]), _worst(b["worst_over_export"]), ""],
        ["worst day, max during the day (kWh)", _worst(o["worst_max_over_export"]), _worst(b["worst_max_over_export"]), ""],
        ["share of legal energy, nominal: mean (min)", f"{pct(o['share_nominal_mean'])} ({pct(o['share_nominal_min'])})", f"{pct(b['share_nominal_mean'])} ({pct(b['share_nominal_min'])})", ""],
        ["simple-formula share, nominal: mean", pct(o["simple_share_nominal_mean"]), pct(b["simple_share_nominal_mean"]), ""],
        ["share of legal energy, all days: mean (min)", f"{pct(o['share_mean'])} ({pct(o['share_min'])})", f"{pct(b['share_mean'])} ({pct(b['share_min'])})", ""],
        ["inverter writes per day", num(o["writes_per_day"]), num(b["writes_per_day"]), ratio(r["writes_per_day"])],
        ["stop reaction median / p99 (s)", f"{num(o['reaction_median_s'])} / {num(o['reaction_p99_s'])}", f"{num(b['reaction_median_s'])} / {num(b['reaction_p99_s'])}", ratio(r["reaction_median"])],
        ["CPU per evaluation mean / median / p99 (us)", _cpu(o["cpu"]), _cpu(b["cpu"]), ratio(r["cpu_mean_per_evaluation"])],
        ["CPU of the pure rules per call, mean / median / p99 (us)", _cpu(o["rule_cpu"]), _cpu(b["cpu"]), ratio(r["rule_cpu_mean_per_evaluation"])],
        ["evaluations (all days)", str(o["cpu"]["evaluations"]), str(b["cpu"]["evaluations"]), ""],
        ["CPU per day, all evaluations (ms)", num(o["cpu_total_ms_per_day"]), num(b["cpu_total_ms_per_day"]), ratio(r["cpu_total_per_day"])],
    ]  # fmt: skip
    return _table(["metric", "ours", "baseline", "ours/baseline"], rows)


def _day_row(entry: Mapping[str, Any]) -> list[str]:
    """Return one row of the per-day table."""
    o, b = entry[OURS], entry[BASELINE]
    return [
        entry["id"],
        entry["date"],
        num(entry["meter_interval_s"], 0),
        o["binding"],
        kwh(o["legal_kwh"]),
        f"{kwh(o['over_export_kwh'])} / {kwh(o['max_over_export_kwh'])}",
        f"{kwh(b['over_export_kwh'])} / {kwh(b['max_over_export_kwh'])}",
        pct(o["share"]),
        pct(b["share"]),
        f"{o['writes']} / {b['writes']}",
        ", ".join(dict.fromkeys(o["stop_reasons"])) or "-",
    ]


def day_table(document: Mapping[str, Any]) -> str:
    """Return the per-day table."""
    header = [
        "day",
        "date",
        "meter s",
        "binding",
        "legal kWh",
        "ours over / max (kWh)",
        "baseline over / max (kWh)",
        "ours share",
        "baseline share",
        "writes ours / baseline",
        "ours stop reasons",
    ]
    return _table(header, [_day_row(entry) for entry in document["days"]])


def scenario_table(document: Mapping[str, Any]) -> str:
    """Return the per-scenario table."""
    rows = []
    for name, pair in document["per_scenario"].items():
        o, b = pair[OURS], pair[BASELINE]
        rows.append(
            [
                name,
                str(o["days"]),
                kwh(o["total_over_export_kwh"]),
                kwh(b["total_over_export_kwh"]),
                f"{kwh(o['worst_max_over_export']['kwh'])} / {kwh(b['worst_max_over_export']['kwh'])}",
                pct(o["share_mean"]),
                pct(b["share_mean"]),
                f"{num(o['writes_per_day'])} / {num(b['writes_per_day'])}",
                f"{num(o['reaction_median_s'])} / {num(b['reaction_median_s'])}",
            ]
        )
    header = [
        "scenario",
        "days",
        "ours over (kWh)",
        "baseline over (kWh)",
        "max during day ours / baseline",
        "ours share",
        "baseline share",
        "writes/day ours / baseline",
        "reaction median ours / baseline (s)",
    ]
    return _table(header, rows)


def tables(document: Mapping[str, Any]) -> str:
    """Return all tables as one Markdown text."""
    return "\n\n".join(
        [
            "## Summary",
            summary_table(document),
            "## Per scenario",
            scenario_table(document),
            "## Per day",
            day_table(document),
        ]
    )
