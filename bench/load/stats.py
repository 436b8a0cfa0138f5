"""Figures of a load run (latency, loop lag, memory, CPU) and its RESULTS.md section: pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
import math
from typing import Any, Final

TARGET_P99_MS: Final = 50.0
TARGET_LAG_MS: Final = 100.0
# What 10 minutes of 10 s RSS samples can tell apart from the garbage collector's
# and the allocator's own ups and downs: a slope below this is "flat" here.
FLAT_MIB_PER_MIN: Final = 0.5
# Caches, the recorder's first commits and the monitors' first learning.
WARMUP_S: Final = 120.0
# A stop slower than this is looked at against the probe's long oversleeps.
SLOW_STOP_MS: Final = 10.0
# The probe's own sleep.
PROBE_MS: Final = 100.0
START: Final = "<!-- load:start -->"
END: Final = "<!-- load:end -->"


def percentile(values: Sequence[float], share: float) -> float:
    """Return the nearest-rank percentile (share in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100.0 * len(ordered)))
    return ordered[rank - 1]


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Return count, p50, p99, max and mean of a sample (None for an empty one)."""
    if not values:
        return {"n": 0, "p50": None, "p99": None, "max": None, "mean": None}
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 3),
        "p99": round(percentile(values, 99), 3),
        "max": round(max(values), 3),
        "mean": round(sum(values) / len(values), 3),
    }


def slope_per_min(points: Sequence[tuple[float, float]]) -> float | None:
    """Return the least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:  # noqa: PLR2004 - a line needs two points
        return None
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return None
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return cov / var * 60.0


def cycles(units: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Return every recorded cycle of every unit."""
    return [cycle for unit in units for cycle in unit["cycles"]]


def delays_ms(recorded: Iterable[Mapping[str, Any]], key: str) -> list[float]:
    """Return, per stopped cycle, the milliseconds from the source write to `key`."""
    return [
        (c[key] - c["write_ts"]) * 1000.0
        for c in recorded
        if c.get("write_ts") is not None and c.get(key) is not None
    ]


def stop_figures(units: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Return the latency spreads and the counts of cycles, stops and refusals."""
    recorded = cycles(units)
    kinds = sorted({c["kind"] for c in recorded})
    refusals: Counter[str] = Counter()
    for unit in units:
        refusals.update(unit["refusals"])
    return {
        "write_to_turn_off_ms": spread(delays_ms(recorded, "turn_off_ts")),
        "write_to_first_call_ms": spread(delays_ms(recorded, "first_call_ts")),
        "by_kind_ms": {
            kind: spread(
                delays_ms([c for c in recorded if c["kind"] == kind], "turn_off_ts")
            )
            for kind in kinds
        },
        "cycles": len(recorded),
        "stopped": sum(c.get("turn_off_ts") is not None for c in recorded),
        "missed": sum(
            c.get("write_ts") is not None and c.get("turn_off_ts") is None
            for c in recorded
        ),
        "reasons": dict(Counter(str(c.get("reason")) for c in recorded)),
        "first_calls": dict(Counter(str(c.get("first_call")) for c in recorded)),
        "refusals": dict(refusals),
        "source_writes": sum(unit["writes"] for unit in units),
    }


def memory_figures(samples: Sequence[Mapping[str, float]]) -> dict[str, Any]:
    """Return RSS at start and end, growth, peak and slopes (whole run, after warm-up)."""
    points = [(s["t"], s["rss_mib"]) for s in samples]
    later = [(t, v) for t, v in points if t >= WARMUP_S]
    return {
        "start_mib": round(points[0][1], 1),
        "end_mib": round(points[-1][1], 1),
        "growth_mib": round(points[-1][1] - points[0][1], 1),
        "peak_mib": round(max(v for _, v in points), 1),
        "slope_mib_per_min": _rounded(slope_per_min(points), 3),
        "slope_after_warmup_mib_per_min": _rounded(slope_per_min(later), 3),
        "warmup_s": WARMUP_S,
        "samples": len(points),
    }


def inside_figures(recorded: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return SQLite's heap (MiB) and Python's blocks (thousands): ends and slopes."""
    inside = recorded.get("memory_inside")
    if not inside:
        return None
    figures: dict[str, Any] = {}
    for key, name, scale in (
        ("sqlite_mib", "sqlite_mib", 1.0),
        ("python_blocks", "python_kblocks", 1000.0),
        ("malloc_in_use_mib", "malloc_in_use_mib", 1.0),
        ("malloc_free_mib", "malloc_free_mib", 1.0),
    ):
        points = [(p["t"], p[key] / scale) for p in inside if p.get(key) is not None]
        later = [(t, v) for t, v in points if t >= WARMUP_S]
        figures[name] = (
            None
            if not points
            else {
                "start": round(points[0][1], 1),
                "end": round(points[-1][1], 1),
                "slope_after_warmup_per_min": _rounded(slope_per_min(later), 3),
            }
        )
    return figures


def cpu_figures(samples: Sequence[Mapping[str, float]], writes: int) -> dict[str, Any]:
    """Return the process's CPU over the run: seconds, share of one core, per write."""
    cpu = samples[-1]["cpu_s"] - samples[0]["cpu_s"]
    wall = samples[-1]["t"] - samples[0]["t"]
    return {
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 1),
        "share_of_one_core_pct": round(cpu / wall * 100.0, 1) if wall else None,
        "per_source_write_us": round(cpu / writes * 1e6, 1) if writes else None,
    }


def stalled_stops(recorded: Mapping[str, Any]) -> dict[str, int]:
    """Return how many stops took over 10 ms, and how many overlapped a long oversleep."""
    stalls = [_stall(p) for p in recorded.get("slow_probes", [])]
    slow = [
        (c["write_ts"], c["turn_off_ts"])
        for c in cycles(recorded["units"])
        if c.get("turn_off_ts") is not None
        and (c["turn_off_ts"] - c["write_ts"]) * 1000.0 > SLOW_STOP_MS
    ]
    during = [s for s in slow if any(a < s[1] and b > s[0] for a, b in stalls)]
    return {"over_10_ms": len(slow), "during_an_oversleep": len(during)}


def recorder_figures(recorded: Mapping[str, Any], seconds: float) -> dict[str, Any]:
    """Return the state changes per second by owner and the recorder's queue."""
    changes = recorded.get("state_changes", {})
    backlog = [n for _, n in recorded.get("recorder_backlog", []) if n is not None]
    by_entity = recorded.get("monitor_changes", {})
    return {
        "state_changes_per_s": {
            owner: round(count / seconds, 1) for owner, count in sorted(changes.items())
        },
        "monitor_changes_per_s": {
            entity: round(count / seconds, 2)
            for entity, count in sorted(by_entity.items())
        },
        "backlog_first": backlog[0] if backlog else None,
        "backlog_last": backlog[-1] if backlog else None,
        "backlog_max": max(backlog) if backlog else None,
    }


def slow_figures(slow: Sequence[Mapping[str, float]]) -> dict[str, Any]:
    """Return the oversleeps over the target and how busy the loop was during them."""
    over = [p for p in slow if p["lag_ms"] > TARGET_LAG_MS]
    span = sum(p["lag_ms"] + PROBE_MS for p in over)
    worst = sorted(over, key=lambda p: p["lag_ms"], reverse=True)[:5]
    return {
        "over_20_ms": len(slow),
        "over_100_ms": len(over),
        "loop_cpu_share_pct": _share(sum(p["loop_cpu_ms"] for p in over), span),
        "process_cpu_share_pct": _share(sum(p["process_cpu_ms"] for p in over), span),
        "worst": [{k: round(v, 1) for k, v in p.items()} for p in worst],
    }


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Return whether two (start, end) intervals overlap."""
    return a[0] < b[1] and b[0] < a[1]


def _stall(probe: Mapping[str, float]) -> tuple[float, float]:
    """Return the wall-clock interval of a probe's whole sleep (it ended at ts)."""
    return (probe["ts"] - (probe["lag_ms"] + PROBE_MS) / 1000.0, probe["ts"])


def gc_figures(recorded: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the full collections (time, thread) and the long oversleeps they explain."""
    watched = recorded.get("gc")
    if watched is None:
        return None
    full = watched["full"]
    spans = [(c["ts"], c["ts"] + c["ms"] / 1000.0) for c in full]
    over = [p for p in recorded.get("slow_probes", []) if p["lag_ms"] > TARGET_LAG_MS]
    explained = [p for p in over if any(_overlaps(_stall(p), s) for s in spans)]
    starts = sorted(c["ts"] for c in full)
    gaps = [b - a for a, b in pairwise(starts)]
    return {
        "threshold": watched["threshold"],
        "collections": watched["counts"],
        "total_ms": watched["total_ms"],
        "full_ms": spread([c["ms"] for c in full]),
        "full_by_thread": dict(Counter(c["thread"] for c in full)),
        "full_interval_s": spread(gaps),
        "objects_at_start": watched.get("objects_at_start"),
        "over_100_ms": len(over),
        "over_100_ms_during_a_full_collection": len(explained),
    }


def _share(part: float, whole: float) -> float | None:
    """Return part as a percentage of whole (None when whole is nothing)."""
    return round(part / whole * 100.0, 1) if whole else None


def _rounded(value: float | None, digits: int) -> float | None:
    """Return a value rounded, None staying None."""
    return None if value is None else round(value, digits)


def analyse(
    recorded: Mapping[str, Any], resources: Sequence[Mapping[str, float]]
) -> dict[str, Any]:
    """Return every figure of a run from the bench's record and the process samples."""
    stops = stop_figures(recorded["units"])
    lag = spread(recorded["lag_ms"])
    memory = memory_figures(resources)
    p99 = stops["write_to_turn_off_ms"]["p99"]
    slope = memory["slope_after_warmup_mib_per_min"]
    return {
        "stops": stops,
        "loop_lag_ms": lag,
        "slow_probes": slow_figures(recorded.get("slow_probes", [])),
        "slow_stops": stalled_stops(recorded),
        "gc": gc_figures(recorded),
        "recorder": recorder_figures(
            recorded, max(1.0, recorded.get("ended", 1.0) - recorded.get("began", 0.0))
        ),
        "memory": memory,
        "memory_inside": inside_figures(recorded),
        "cpu": cpu_figures(resources, stops["source_writes"]),
        "log_errors": len(recorded.get("log_errors", [])),
        "targets": {
            "p99_under_50_ms": p99 is not None and p99 < TARGET_P99_MS,
            "no_stop_missed": stops["missed"] == 0 and stops["stopped"] > 0,
            "loop_lag_max_at_most_100_ms": lag["max"] is not None
            and lag["max"] <= TARGET_LAG_MS,
            "memory_flat": slope is not None and abs(slope) <= FLAT_MIB_PER_MIN,
        },
    }


def replace_section(text: str, section: str) -> str:
    """Return text with the part between the load markers replaced (appended if none)."""
    head, found, rest = text.partition(START)
    if found and END in rest:
        return head + section + rest.partition(END)[2]
    return text.rstrip("\n") + "\n\n" + section + "\n"


def _verdict(met: bool) -> str:
    """Return the word for a target."""
    return "**met**" if met else "**missed**"


def _ms(value: float | None) -> str:
    """Return milliseconds for a table."""
    return "-" if value is None else f"{value:.1f}"


def _spread_row(name: str, figures: Mapping[str, Any]) -> str:
    """Return one table row of a spread."""
    cells = [_ms(figures[k]) for k in ("p50", "p99", "max")]
    return f"| {name} | {figures['n']} | " + " | ".join(cells) + " |"


def render(result: Mapping[str, Any]) -> str:
    """Return the RESULTS.md section of a run, markers included."""
    fig = result["figures"]
    stops, lag, mem, cpu = fig["stops"], fig["loop_lag_ms"], fig["memory"], fig["cpu"]
    targets, run, machine = fig["targets"], result["run"], result["machine"]
    rows = [
        _spread_row(
            "source write → `turn_off` of the enable helper",
            stops["write_to_turn_off_ms"],
        ),
        _spread_row(
            "source write → first call on the controls", stops["write_to_first_call_ms"]
        ),
        *(
            _spread_row(f"… `turn_off`, trigger {kind}", figures)
            for kind, figures in stops["by_kind_ms"].items()
        ),
        _spread_row("event-loop lag (oversleep of a 0.1 s sleep)", lag),
    ]
    return "\n".join(
        [
            START,
            "## Wall-clock latency and load in a real Home Assistant",
            "",
            f"{run['entries']} export_monitor entries in one real Home Assistant "
            f"{machine['home_assistant']} (Python {machine['python']}, recorder "
            f"{'on' if run.get('recorder', True) else 'off'}, "
            f"127.0.0.1 only), each with five sources written once a second (SOC, PV "
            f"and export counters, grid and battery power: {stops['source_writes']} "
            f"writes) and its own helper entities as inverter controls, for "
            f"{run['duration_s']:.0f} s. Each entry goes round a cycle: start a "
            "discharge through `export_monitor.start_discharge`, let it run 5-15 s, "
            "then make a stop due with ONE source write (SOC 19 % under a 20 % "
            "minimum, or SOC `unavailable`, in turn), and record that write's "
            "`last_updated` and the `call_service` event of the monitor's `turn_off` "
            "on the enable helper (`time_fired`): one wall clock, one process.",
            "",
            f"Commit `{run['commit']}`, {run['started_utc']}; machine: {machine['cpus']} "
            f"x {machine['cpu_model']}, {machine['memory_gib']} GiB, shared with other "
            f"engineers' work: load average {machine['load_before']} before, "
            f"{machine['load_after']} after (1, 5, 15 min).",
            "",
            "| what (ms) | n | p50 | p99 | max |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            f"Cycles {stops['cycles']}, stops seen {stops['stopped']}, stops missed "
            f"{stops['missed']}; stop reasons {_counts(stops['reasons'])}; first call "
            f"after the write {_counts(stops['first_calls'])}; starts refused "
            f"{_counts(stops['refusals'])}; errors in Home Assistant's log "
            f"{fig['log_errors']}.",
            "",
            _slow_line(fig["slow_probes"], fig["slow_stops"]),
            "",
            *_gc_lines(fig.get("gc")),
            _recorder_line(fig["recorder"]),
            "",
            f"Memory (RSS of the Home Assistant process, every 10 s, {mem['samples']} "
            f"samples): {mem['start_mib']} MiB at the start, {mem['end_mib']} MiB at "
            f"the end ({mem['growth_mib']:+} MiB), peak {mem['peak_mib']} MiB; slope "
            f"{mem['slope_mib_per_min']} MiB/min over the run, "
            f"{mem['slope_after_warmup_mib_per_min']} MiB/min after the first "
            f"{mem['warmup_s']:.0f} s.{_inside_text(fig.get('memory_inside'))} CPU "
            f"of the process: {cpu['cpu_s']} s in "
            f"{cpu['wall_s']} s = {cpu['share_of_one_core_pct']} % of one core, "
            f"{cpu['per_source_write_us']} µs per source write (everything Home "
            f"Assistant does for it: state machine, recorder, the {run['entries']} monitors, the "
            "bench's own plants).",
            "",
            "| target (issue 10) | verdict |",
            "|---|---|",
            f"| p99 source write → stop call < {TARGET_P99_MS:.0f} ms | "
            f"{_verdict(targets['p99_under_50_ms'])} |",
            f"| every stop made due was called | {_verdict(targets['no_stop_missed'])} |",
            f"| no loop lag over {TARGET_LAG_MS:.0f} ms | "
            f"{_verdict(targets['loop_lag_max_at_most_100_ms'])} |",
            f"| memory flat (slope after warm-up within ±{FLAT_MIB_PER_MIN} MiB/min) | "
            f"{_verdict(targets['memory_flat'])} |",
            "",
            *result.get("notes", []),
            "",
            f"Reproduce: `{run['command']}` (about {run['duration_s'] / 60 + 2:.0f} min; "
            "`--duration 60` for a short run). It writes `bench/results/load.json` "
            "(every figure, every recorded time, the process samples, the command, "
            "the machine, the commit) and this section.",
            END,
        ]
    )


def _slow_line(slow: Mapping[str, Any], stops: Mapping[str, int]) -> str:
    """Return the sentences on the slow stops and the long oversleeps."""
    line = (
        f"Stops slower than {SLOW_STOP_MS:.0f} ms: {stops['over_10_ms']}, of which "
        f"{stops['during_an_oversleep']} overlap an oversleep of the probe over 20 ms. "
        f"Oversleeps over 20 ms: {slow['over_20_ms']}; over {TARGET_LAG_MS:.0f} ms: "
        f"{slow['over_100_ms']}"
    )
    if not slow["over_100_ms"]:
        return line + "."
    return line + (
        f", the worst {', '.join(str(p['lag_ms']) for p in slow['worst'])} ms. "
        f"During those the loop's thread ran {slow['loop_cpu_share_pct']} % of the "
        f"time and the whole process {slow['process_cpu_share_pct']} % (a loop kept "
        "busy by its own work shows about 100 %; the rest of the time it was ready "
        "but waited for a core or for the GIL)."
    )


def _inside_text(inside: Mapping[str, Any] | None) -> str:
    """Return the sentence on SQLite's heap and Python's blocks (nothing if not sampled)."""
    if inside is None:
        return ""
    parts = []
    if (sqlite := inside["sqlite_mib"]) is not None:
        parts.append(
            f"SQLite's heap (page caches, `sqlite3_memory_used`) {sqlite['start']} → "
            f"{sqlite['end']} MiB ({sqlite['slope_after_warmup_per_min']} MiB/min "
            "after warm-up)"
        )
    if (blocks := inside["python_kblocks"]) is not None:
        parts.append(
            f"Python's allocated blocks {blocks['start']} → {blocks['end']} thousand "
            f"({blocks['slope_after_warmup_per_min']} thousand/min after warm-up)"
        )
    malloc = [inside.get(k) for k in ("malloc_in_use_mib", "malloc_free_mib")]
    if malloc[0] is not None and malloc[1] is not None:
        parts.append(
            f"malloc's heap in use {malloc[0]['start']} → {malloc[0]['end']} MiB "
            f"({malloc[0]['slope_after_warmup_per_min']} MiB/min after warm-up), "
            f"held free {malloc[1]['start']} → {malloc[1]['end']} MiB"
        )
    return " Inside: " + "; ".join(parts) + "." if parts else ""


def _gc_lines(collected: Mapping[str, Any] | None) -> list[str]:
    """Return the paragraph on Python's full garbage collections (none if not watched)."""
    if collected is None:
        return []
    full, gaps = collected["full_ms"], collected["full_interval_s"]
    counts, total = collected["collections"], collected["total_ms"]
    timing = (
        ""
        if full["n"] == 0
        else f", {_ms(full['p50'])} ms each (p50; max {_ms(full['max'])} ms), "
        + ("" if gaps["n"] == 0 else f"every {gaps['p50']:.0f} s (p50), ")
        + f"run by the thread {_counts(collected['full_by_thread'])}"
    )
    return [
        f"Python's garbage collector (thresholds {collected['threshold']}): "
        f"{counts[0]} young, {counts[1]} middle ({total[0] + total[1]:.0f} ms in "
        f"all) and {counts[2]} full collections{timing}; "
        f"{collected['objects_at_start'] or 0:,} objects tracked at the start. A "
        "full collection walks them all; it "
        "holds the GIL, whichever thread runs it. Oversleeps over "
        f"{TARGET_LAG_MS:.0f} ms during a full collection: "
        f"{collected['over_100_ms_during_a_full_collection']} of "
        f"{collected['over_100_ms']}.",
        "",
    ]


def _recorder_line(recorder: Mapping[str, Any]) -> str:
    """Return the sentence on the state changes and the recorder's queue."""
    rates = recorder["state_changes_per_s"]
    line = (
        f"State changes per second: {_counts(rates)} (total {sum(rates.values()):.1f})."
    )
    if recorder["backlog_last"] is None:
        return line
    return line + (
        f" The recorder's queue (events waiting to be written, every 10 s): "
        f"{recorder['backlog_first']} at the start, {recorder['backlog_last']} at the "
        f"end, at most {recorder['backlog_max']}."
    )


def _counts(counts: Mapping[str, float]) -> str:
    """Return counts as `name` n, ... (none when empty)."""
    if not counts:
        return "none"
    return ", ".join(f"`{k}` {v}" for k, v in sorted(counts.items()))
