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
)
from .records import CONTROLLERS, OURS, DayOutcome
from .scoring import (
    DEFINITIONS,
    day_id,
    day_metrics,
    legal_kwh,
    per_scenario,
    summaries,
    window_export_kwh,
)
from .targets import targets_table


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
    workers: int = 1
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
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_at_end": None if load is None else [round(x, 2) for x in load],
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
        "stale_after_seconds": "max(30, 3 x the slowest source's interval) (guide)",
        "export_meter_described": span.describe_meter,
    }


def day_entry(outcome: DayOutcome) -> dict[str, Any]:
    """Return one scenario-day's entry: identity, events and every controller's metrics."""
    day, span = outcome.day, outcome.ours.hass_span
    events = day.events
    return {
        "id": day_id(outcome),
        "scenario": day.name,
        "index": day.index,
        "seed": day.seed,
        "date": day.day.isoformat(),
        "meter_interval_s": day.config.meters.update_interval_s,
        "inverter_backstop": day.config.inverter.backstop,
        "daily_cap_kwh": events.daily_cap_kwh,
        "ha_dies_at": None
        if events.ha_dies_at is None
        else events.ha_dies_at.isoformat(),
        "restart_at": None
        if events.restart_at is None
        else events.restart_at.isoformat(),
        "restart_gap_s": events.restart_gap_s,
        "hass_span": None if span is None else [m.isoformat() for m in span],
        "reference": {
            "legal_kwh": legal_kwh(outcome),
            "binding": outcome.reference.binding,
            "idle_window_export_kwh": window_export_kwh(outcome.reference.idle),
        },
        **{c: day_metrics(outcome.of(c), outcome) for c in CONTROLLERS},
    }


def build_results(outcomes: Sequence[DayOutcome], run: RunInfo) -> dict[str, Any]:
    """Return the whole results document."""
    bound = sum(o.reference.binding == "allowance" for o in outcomes)
    return {
        "command": run.command,
        "argv": run.argv,
        "timestamp": run.timestamp,
        "runtime_s": run.runtime_s,
        "workers": run.workers,
        "machine": machine_facts(),
        "code": run.code,
        "base_seed": run.base_seed,
        "days_per_scenario": run.days_per_scenario,
        "scenarios": run.scenarios,
        "seeds": {day_id(o): o.day.seed for o in outcomes},
        "settings": settings(run.span),
        "definitions": dict(DEFINITIONS),
        "failed": run.failed,
        "allowance_bound_days": bound,
        "days_run": len(outcomes),
        "days": [day_entry(outcome) for outcome in outcomes],
        "summary": summaries(outcomes),
        "per_scenario": per_scenario(outcomes),
    }


def write_json(document: Mapping[str, Any], path: Path) -> None:
    """Write the document as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def kwh(value: float | None) -> str:
    """Return kWh with three decimals."""
    return "-" if value is None else f"{value:.3f}"


def pct(value: float | None) -> str:
    """Return a share as a percentage."""
    return "-" if value is None else f"{100.0 * value:.1f} %"


def num(value: float | None, digits: int = 1) -> str:
    """Return a number with the given decimals."""
    return "-" if value is None else f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _worst(entry: Mapping[str, Any]) -> str:
    """Return the worst day's over-export and its id."""
    return f"{kwh(entry['kwh'])} ({entry['day'] or '-'})"


def _spread(entry: Mapping[str, Any], digits: int = 1) -> str:
    """Return median / p99 / max of a spread."""
    return " / ".join(num(entry[k], digits) for k in ("median", "p99", "max"))


def _rows(s: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """Return the summary's rows: label, then one cell per controller."""

    def each(cell: Any) -> list[str]:
        """Return the cell for every controller."""
        return [cell(s[c]) for c in CONTROLLERS]

    n = s[OURS]["days"]
    return [
        ("over-export at day end, total (kWh)", each(lambda c: kwh(c["total_over_export_kwh"]))),
        ("days over at day end", each(lambda c: f"{c['days_over_allowance']}/{n}")),
        ("days over at any moment", each(lambda c: f"{c['days_over_at_any_moment']}/{n}")),
        ("worst day, end of day (kWh)", each(lambda c: _worst(c["worst_over_export"]))),
        ("worst day, max at any moment (kWh)", each(lambda c: _worst(c["worst_max_over_export"]))),
        ("share of the oracle: mean (min)", each(lambda c: f"{pct(c['share_mean'])} ({pct(c['share_min'])})")),
        ("days below 80 % of the oracle", each(lambda c: str(c["days_below_80pct"]))),
        ("inverter writes per day (flash-wearing)", each(lambda c: f"{num(c['writes_per_day'])} ({num(c['flash_writes_per_day'])})")),
        ("stop reaction, simulated: median / p99 / max (s)", each(lambda c: _spread(c["reaction_s"]))),
        ("stop reaction, wall-clock: median / p99 / max (ms)", each(lambda c: _spread(c["reaction_wall_ms"], 2))),
        ("CPU per source update (ours) / decision (peers): mean / p99 (us)", each(lambda c: f"{num(c['update_cpu']['mean_us'])} / {num(c['update_cpu']['p99_us'])}")),
    ]  # fmt: skip


def summary_table(document: Mapping[str, Any]) -> str:
    """Return the headline table: ours beside each peer."""
    rows = [[label, *cells] for label, cells in _rows(document["summary"])]
    return _table(["metric", *CONTROLLERS], rows)


def scenario_table(document: Mapping[str, Any]) -> str:
    """Return the per-scenario table: over-export (end / any moment) and share per controller."""
    rows = []
    for name, group in document["per_scenario"].items():
        row = [name, str(group[OURS]["days"])]
        for c in CONTROLLERS:
            g = group[c]
            row.append(
                f"{kwh(g['total_over_export_kwh'])} / {kwh(g['worst_max_over_export']['kwh'])}"
                f" / {pct(g['share_mean'])} ({pct(g['share_min'])})"
                f" / {num(g['writes_per_day'], 0)}"
            )
        rows.append(row)
    header = ["scenario", "days", *CONTROLLERS]
    legend = (
        "Each cell: over-export at day end, total (kWh) / worst max at any moment (kWh) / "
        "share of the oracle mean (min) / writes per day."
    )
    return legend + "\n\n" + _table(header, rows)


def _day_row(entry: Mapping[str, Any]) -> list[str]:
    """Return one row of the per-day table."""
    cells = [
        f"{kwh(entry[c]['over_export_kwh'])} / {kwh(entry[c]['max_over_export_kwh'])} / "
        f"{pct(entry[c]['share'])}"
        for c in CONTROLLERS
    ]
    o = entry[OURS]
    return [
        entry["id"],
        entry["date"],
        entry["reference"]["binding"],
        kwh(entry["reference"]["legal_kwh"]),
        *cells,
        f"{o['writes']} ({o['flash_writes']})",
        ", ".join(dict.fromkeys(o["stop_reasons"])) or "-",
    ]


def day_table(document: Mapping[str, Any]) -> str:
    """Return the per-day table."""
    header = [
        "day",
        "date",
        "binding",
        "legal kWh",
        *(f"{c} over / max / share" for c in CONTROLLERS),
        "ours writes (flash)",
        "ours stop reasons",
    ]
    return _table(header, [_day_row(entry) for entry in document["days"]])


def tables(document: Mapping[str, Any]) -> str:
    """Return all tables as one Markdown text."""
    return "\n\n".join(
        [
            "## Targets of issue 10",
            targets_table(document),
            "## Summary",
            summary_table(document),
            "## Per scenario",
            scenario_table(document),
            "## Per day",
            day_table(document),
        ]
    )
