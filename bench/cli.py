"""scripts/bench: run the scenario-days through both controllers, then score and draw them."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime, time
from pathlib import Path
import shlex
import time as clock
from typing import Final

import pytest

from sim.scenarios import SCENARIO_NAMES, ScenarioDay, scenario_day

from .config import DEFAULT_DAYS, DEFAULT_SEED, HassSpan
from .plots import plot_day
from .plugin import BenchPlugin, day_ids
from .records import CONTROLLERS, DayOutcome
from .report import RunInfo, build_results, code_version, tables, write_json
from .scoring import day_id

ROOT: Final = Path(__file__).resolve().parent.parent
BENCH_MODULE: Final = ROOT / "bench" / "bench_days.py"
DEFAULT_OUT: Final = ROOT / "bench" / "out"
DEFAULT_SPAN: Final = HassSpan()
DAY_TIMEOUT_S: Final = 600


def clock_time(text: str) -> time:
    """Parse HH:MM (argparse type)."""
    try:
        return time.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a clock time: {text}") from err


def end_time(text: str) -> time | None:
    """Parse HH:MM or 'midnight' (argparse type)."""
    return None if text == "midnight" else clock_time(text)


def scenario_list(text: str) -> list[str]:
    """Parse a comma-separated list of scenario names (argparse type)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SCENARIO_NAMES))
    if unknown or not names:
        known = ", ".join(SCENARIO_NAMES)
        raise argparse.ArgumentTypeError(f"unknown scenarios {unknown}; known: {known}")
    return names


def positive(text: str) -> int:
    """Parse a positive integer (argparse type)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Run seeded scenario-days through the integration (inside a real "
        "Home Assistant on simulated time) and through the baseline; print and save "
        "the scores.",
    )
    p.add_argument(
        "--days",
        type=positive,
        default=DEFAULT_DAYS,
        help="days per scenario (default %(default)s)",
    )
    p.add_argument(
        "--scenarios",
        type=scenario_list,
        default=list(SCENARIO_NAMES),
        help="comma-separated scenario names (default: all)",
    )
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="base seed (default %(default)s)"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output folder (default bench/out)",
    )
    p.add_argument(
        "--hass-start",
        type=clock_time,
        default=DEFAULT_SPAN.start,
        help="local time Home Assistant starts (default 15:30)",
    )
    p.add_argument(
        "--hass-end",
        type=end_time,
        default=DEFAULT_SPAN.end,
        help="local time it stops, or 'midnight' (default)",
    )
    p.add_argument(
        "--plot-day",
        action="append",
        default=None,
        help="day to draw, e.g. nominal-0; repeatable (default: the first nominal "
        "day and the baseline's worst breach)",
    )
    p.add_argument(
        "-k",
        dest="keyword",
        default=None,
        help="pytest -k expression over day ids (debugging)",
    )
    return p


def pytest_args(keyword: str | None) -> list[str]:
    """Return pytest's arguments for the bench module (never the normal tests)."""
    args = [
        str(BENCH_MODULE),
        f"--rootdir={ROOT}",
        "-c",
        str(ROOT / "pyproject.toml"),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:sugar",
        "-q",
        # A day takes 10-40 s; the suite's 30 s hang guard is for unit tests.
        f"--timeout={DAY_TIMEOUT_S}",
    ]
    return args if keyword is None else [*args, "-k", keyword]


def plot_choices(
    outcomes: Sequence[DayOutcome], wanted: Sequence[str] | None
) -> list[DayOutcome]:
    """Return the days to draw: as asked, else the first nominal and the worst breach."""
    by_id = {day_id(outcome): outcome for outcome in outcomes}
    if wanted:
        return [by_id[name] for name in wanted if name in by_id]
    nominal = [o for o in outcomes if o.day.name == "nominal"]
    chosen = list(nominal or outcomes)[:1]
    breaches = [o for o in outcomes if o.baseline.result.over_export_kwh > 0.0]
    worst = max(breaches, key=lambda o: o.baseline.result.over_export_kwh, default=None)
    return chosen if worst is None or worst in chosen else [*chosen, worst]


def draw(outcomes: Sequence[DayOutcome], out: Path) -> list[Path]:
    """Draw one PNG per controller of each chosen day; return the paths."""
    paths = []
    for outcome in outcomes:
        for controller in CONTROLLERS:
            path = out / f"day_{day_id(outcome)}_{controller}.png"
            plot_day(
                outcome.of(controller),
                outcome.reference,
                day_id(outcome),
                outcome.day.config.timezone,
                path,
            )
            paths.append(path)
    return paths


def run(days: list[ScenarioDay], span: HassSpan, keyword: str | None) -> BenchPlugin:
    """Run the days inside one pytest session; return the plugin holding the outcomes."""
    plugin = BenchPlugin(days, span)
    pytest.main(pytest_args(keyword), plugins=[plugin])
    order = {name: i for i, name in enumerate(day_ids(days))}
    plugin.outcomes.sort(key=lambda outcome: order[day_id(outcome)])
    return plugin


def main(argv: Sequence[str]) -> int:
    """Run the benchmark; return 0 when every day ran."""
    args = parser().parse_args(list(argv))
    days = [scenario_day(name, i, args.seed) for name in args.scenarios for i in range(args.days)]  # fmt: skip
    span = HassSpan(start=args.hass_start, end=args.hass_end)
    started = datetime.now(UTC)
    code = code_version()
    begin = clock.perf_counter()
    plugin = run(days, span, args.keyword)
    info = RunInfo(
        command=shlex.join(["scripts/bench", *argv]),
        argv=list(argv),
        timestamp=started.isoformat(timespec="seconds"),
        base_seed=args.seed,
        days_per_scenario=args.days,
        scenarios=list(args.scenarios),
        span=span,
        runtime_s=round(clock.perf_counter() - begin, 1),
        failed=list(
            dict.fromkeys(node.partition("[")[2].rstrip("]") for node in plugin.failed)
        ),
        code=code,
    )
    document = build_results(plugin.outcomes, info)
    out: Path = args.out
    write_json(document, out / "results.json")
    (out / "tables.md").write_text(tables(document) + "\n", encoding="utf-8")
    pictures = draw(plot_choices(plugin.outcomes, args.plot_day), out)
    print(tables(document))
    print(f"\nwrote {out / 'results.json'}, {out / 'tables.md'}", *pictures, sep="\n  ")
    print(f"runtime {info.runtime_s} s; days run {len(plugin.outcomes)}/{len(days)}")
    return 0 if not info.failed and len(plugin.outcomes) == len(days) else 1
