"""scripts/bench: run the scenario-days through every controller, then score and draw them."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime, time
from pathlib import Path
import shlex
import shutil
import subprocess
import sys
import time as clock
from typing import Final

import pytest

from sim.adversarial import ADVERSARIAL_NAMES, ALL_NAMES, any_scenario_day
from sim.scenarios import SCENARIO_NAMES, ScenarioDay

from .config import DEFAULT_DAYS, DEFAULT_SEED, HassSpan
from .plots import plot_day, plot_name
from .plugin import BenchPlugin, day_ids, load_raw
from .records import CONTROLLERS, DayOutcome
from .report import RunInfo, build_results, code_version, tables, write_json
from .scoring import day_id, worst_day

ROOT: Final = Path(__file__).resolve().parent.parent
BENCH_MODULE: Final = ROOT / "bench" / "bench_days.py"
DEFAULT_OUT: Final = ROOT / "bench" / "out"
DEFAULT_SPAN: Final = HassSpan()
DAY_TIMEOUT_S: Final = 600
# Named sets of scenarios: the original 11 and the adversarial set of issue 10.
SETS: Final = {"original": SCENARIO_NAMES, "adversarial": ADVERSARIAL_NAMES}


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
    """Parse a comma-separated list of scenario or set names (argparse type)."""
    names: list[str] = []
    for name in (part.strip() for part in text.split(",")):
        names += SETS.get(name, (name,) if name else ())
    unknown = sorted(set(names) - set(ALL_NAMES))
    if unknown or not names:
        known = ", ".join([*SETS, *ALL_NAMES])
        raise argparse.ArgumentTypeError(f"unknown scenarios {unknown}; known: {known}")
    return list(dict.fromkeys(names))


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
        "Home Assistant on simulated time) and through its peers (the earlier tool as "
        "published, the same design with the correct rule, an oracle); print and save "
        "the scores.",
    )
    p.add_argument("--days", type=positive, default=DEFAULT_DAYS, help="days per scenario (default %(default)s)")  # fmt: skip
    p.add_argument("--scenarios", type=scenario_list, default=list(ADVERSARIAL_NAMES), help="comma-separated scenario names, or a set: original, adversarial (default)")  # fmt: skip
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="base seed (default %(default)s)")  # fmt: skip
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default bench/out)")  # fmt: skip
    p.add_argument("--workers", type=positive, default=1, help="worker processes (default 1)")  # fmt: skip
    p.add_argument("--hass-start", type=clock_time, default=DEFAULT_SPAN.start, help="local time Home Assistant starts (default 15:30)")  # fmt: skip
    p.add_argument("--hass-end", type=end_time, default=DEFAULT_SPAN.end, help="local time it stops, or 'midnight' (default 19:01)")  # fmt: skip
    p.add_argument("--describe-meter", action="store_true", help="give the monitor the export meter's true interval and resolution (default: left empty, as a user who does not know them)")  # fmt: skip
    p.add_argument("-k", dest="keyword", default=None, help="pytest -k expression over day ids (debugging)")  # fmt: skip
    p.add_argument("--merge", type=Path, default=None, help="build the results from the saved shards in this folder, without running (after an interrupted run)")  # fmt: skip
    p.add_argument("--shard", default=None, help=argparse.SUPPRESS)
    p.add_argument("--raw", type=Path, default=None, help=argparse.SUPPRESS)
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
        # A day takes 5-40 s; the suite's 30 s hang guard is for unit tests.
        f"--timeout={DAY_TIMEOUT_S}",
    ]
    return args if keyword is None else [*args, "-k", keyword]


def draw(outcomes: Sequence[DayOutcome], out: Path) -> list[Path]:
    """Draw each controller's worst day, and ours' worst day of every scenario."""
    chosen: dict[str, DayOutcome] = {}
    for controller in CONTROLLERS:
        worst = worst_day(outcomes, controller)
        if worst is not None:
            chosen[plot_name(worst, controller)] = worst
    for name in dict.fromkeys(o.day.name for o in outcomes):
        worst = worst_day([o for o in outcomes if o.day.name == name])
        if worst is not None:
            chosen.setdefault(plot_name(worst), worst)
    paths = []
    for file_name, outcome in chosen.items():
        plot_day(outcome, out / file_name)
        paths.append(out / file_name)
    return paths


def run(
    days: list[ScenarioDay],
    span: HassSpan,
    keyword: str | None,
    raw: Path | None = None,
) -> BenchPlugin:
    """Run the days inside one pytest session; return the plugin holding the outcomes."""
    plugin = BenchPlugin(days, span, raw)
    pytest.main(pytest_args(keyword), plugins=[plugin])
    return plugin


def run_sharded(
    argv: Sequence[str], workers: int, folder: Path
) -> tuple[list[DayOutcome], list[str]]:
    """Run the days in worker processes, each a share saved in folder; return all of them."""
    folder.mkdir(parents=True, exist_ok=True)
    raws = [folder / f"shard{i}.pickle" for i in range(workers)]
    # Our own module and arguments, no shell: nothing here comes from outside.
    children = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "bench", *argv, "--shard", f"{i}/{workers}", "--raw", str(raw)],
            cwd=ROOT,
        )
        for i, raw in enumerate(raws)
    ]  # fmt: skip
    for child in children:
        child.wait()
    return merge(folder)


def merge(folder: Path) -> tuple[list[DayOutcome], list[str]]:
    """Return the outcomes and failures saved by the workers in folder."""
    outcomes: dict[str, DayOutcome] = {}
    failed: list[str] = []
    for raw in sorted(folder.glob("shard*.pickle")):
        shard_outcomes, shard_failed = load_raw(raw)
        for outcome in shard_outcomes:
            outcomes.setdefault(day_id(outcome), outcome)  # a day run twice counts once
        failed += shard_failed
    return list(outcomes.values()), [f for f in failed if f not in outcomes]


def _shard(days: list[ScenarioDay], shard: str | None) -> list[ScenarioDay]:
    """Return this worker's share of the days (every n-th, from its index)."""
    if shard is None:
        return days
    index, _, count = shard.partition("/")
    return days[int(index) :: int(count)]


def _worker_argv(argv: Sequence[str]) -> list[str]:
    """Return the arguments for a worker: the same, without --workers."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            out.append(arg)
    return out


def main(argv: Sequence[str]) -> int:
    """Run the benchmark; return 0 when every day ran."""
    args = parser().parse_args(list(argv))
    # Index-major: every worker, and an interrupted run, covers every scenario.
    all_days = [any_scenario_day(name, i, args.seed) for i in range(args.days) for name in args.scenarios]  # fmt: skip
    shown = [any_scenario_day(name, i, args.seed) for name in args.scenarios for i in range(args.days)]  # fmt: skip
    span = HassSpan(
        start=args.hass_start, end=args.hass_end, describe_meter=args.describe_meter
    )
    if args.raw is not None:
        run(_shard(all_days, args.shard), span, args.keyword, args.raw)
        return 0
    started = datetime.now(UTC)
    code = code_version()
    begin = clock.perf_counter()
    raw_folder = args.out / "raw"
    if args.merge is not None:
        outcomes, failed = merge(args.merge)
    elif args.workers > 1:
        outcomes, failed = run_sharded(_worker_argv(argv), args.workers, raw_folder)
    else:
        plugin = run(all_days, span, args.keyword)
        outcomes = plugin.outcomes
        failed = [node.partition("[")[2].rstrip("]") for node in plugin.failed]
    order = {name: i for i, name in enumerate(day_ids(shown))}
    outcomes.sort(key=lambda outcome: order.get(day_id(outcome), len(order)))
    info = RunInfo(
        command=shlex.join(["scripts/bench", *argv]),
        argv=list(argv),
        timestamp=started.isoformat(timespec="seconds"),
        base_seed=args.seed,
        days_per_scenario=args.days,
        scenarios=list(args.scenarios),
        span=span,
        runtime_s=round(clock.perf_counter() - begin, 1),
        workers=args.workers,
        failed=list(dict.fromkeys(failed)),
        code=code,
    )
    document = build_results(outcomes, info)
    out: Path = args.out
    write_json(document, out / "results.json")
    (out / "tables.md").write_text(tables(document) + "\n", encoding="utf-8")
    pictures = draw(outcomes, out)
    if args.merge is None and not info.failed and raw_folder.exists():
        shutil.rmtree(raw_folder)  # the shards are in results.json now
    print(tables(document))
    print(f"\nwrote {out / 'results.json'}, {out / 'tables.md'}", *pictures, sep="\n  ")
    print(f"runtime {info.runtime_s} s; days run {len(outcomes)}/{len(all_days)}")
    return 0 if not info.failed and len(outcomes) == len(all_days) else 1
