"""Start a real Home Assistant with N monitors at 1 Hz, make stops due, measure (scripts/bench-load)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import platform
import shutil
import subprocess
import sys
import time
from typing import Any, Final

from bench.load.stats import analyse, render, replace_section
from dev.develop import (
    LIMITS as DEV_LIMITS,
    SEEDED_STORES,
    Api,
    DevelopError,
    Paths,
    core_running,
    create_entry,
    log_in,
    start,
    stop,
    wait_for,
)

ROOT: Final = Path(__file__).resolve().parents[2]
COMPONENTS: Final = {
    "export_monitor": ROOT / "custom_components" / "export_monitor",
    "bench_load": ROOT / "bench" / "load" / "component",
}
NOTES: Final = ROOT / "bench" / "load" / "NOTES.md"
START_TIMEOUT: Final = 300.0
SAMPLE_S: Final = 10.0
# After the bench's own duration: time to write its record before giving up.
FINISH_GRACE_S: Final = 120.0
# The development instance's limits step, with a whole-day window, no automatic
# starts (the bench starts each discharge) and a 10 kWh battery.
LIMITS: Final[dict[str, Any]] = DEV_LIMITS | {
    "battery_capacity_kwh": 10.0,
    "export_window_start": "00:00:00",
    "export_window_end": "23:59:59",
    "auto_discharge": False,
}
CONFIGURATION: Final = """\
# Written by scripts/bench-load on every run: a throwaway instance, 127.0.0.1 only.
homeassistant:
  name: Export Monitor load bench
  time_zone: Europe/London
  unit_system: metric
  currency: GBP
  country: GB
  language: en
  latitude: 51.5074
  longitude: -0.1278
  elevation: 11
  auth_providers:
    - type: homeassistant
  packages: !include_dir_named packages

frontend:
api:
config:

logger:
  default: warning
"""
# What most installations have (default_config): every state change is written to
# the database. --no-recorder leaves them out, to tell their share of the load.
RECORDING: Final = "history:\nlogbook:\nrecorder:\n"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Return the command line options."""
    parser = argparse.ArgumentParser(
        prog="scripts/bench-load",
        description=(
            "Wall-clock latency and load: a real Home Assistant on 127.0.0.1 with "
            "N export_monitor entries whose sources update once a second."
        ),
    )
    parser.add_argument("--entries", type=int, default=10)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=8127)
    parser.add_argument("--dir", type=Path, default=ROOT / ".bench-load")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "load.json"
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=ROOT / "bench" / "RESULTS.md",
        help="the file whose load section is rewritten ('-' for none)",
    )
    parser.add_argument(
        "--no-recorder",
        action="store_true",
        help="without recorder, history and logbook (a control run)",
    )
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="diagnostic: which files' allocations grow (slows the run: no figures)",
    )
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help=(
            "diagnostic: gc.freeze() as the measurement starts, so full collections "
            "leave the heap built at start-up alone"
        ),
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite the section from an existing --out, running nothing",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.entries <= 50:  # noqa: PLR2004
        parser.error("--entries must be within 1..50")
    if args.duration < 10:  # noqa: PLR2004
        parser.error("--duration must be at least 10 s")
    return args


def unit_ids(index: int) -> dict[str, str]:
    """Return the entity ids of one unit's sources and helper controls."""
    p = f"bl{index + 1:02d}"
    return {
        "soc": f"sensor.{p}_soc",
        "pv": f"sensor.{p}_pv_today",
        "export": f"sensor.{p}_export_today",
        "grid": f"sensor.{p}_grid_power",
        "battery": f"sensor.{p}_battery_power",
        "enable": f"input_boolean.{p}_discharge",
        "power": f"input_number.{p}_power",
        "cutoff": f"input_number.{p}_cutoff",
        "duration": f"input_number.{p}_duration",
    }


def options(ids: Mapping[str, str]) -> dict[str, Any]:
    """Return the config-flow answers of one entry."""
    return LIMITS | {
        "soc_entity": ids["soc"],
        "pv_energy_today_entity": ids["pv"],
        "export_energy_today_entity": ids["export"],
        "grid_power_entity": ids["grid"],
        "grid_power_export_negative": True,
        "battery_power_entity": ids["battery"],
        "battery_power_discharge_positive": True,
        "discharge_switch_entity": ids["enable"],
        "discharge_power_entity": ids["power"],
        "cutoff_soc_entity": ids["cutoff"],
        "discharge_duration_entity": ids["duration"],
        # The profile step and its controls step (the generic shape, by role).
        "profile": "generic",
        "enable": ids["enable"],
        "power": ids["power"],
        "cutoff": ids["cutoff"],
        "timer": ids["duration"],
    }


def helpers(units: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """Return the YAML-shaped helper entities of every unit (its inverter)."""
    numbers = {
        "power": {"min": 0, "max": 5, "step": 0.1, "unit_of_measurement": "kW"},
        "cutoff": {"min": 0, "max": 100, "step": 1, "unit_of_measurement": "%"},
        "duration": {"min": 0, "max": 1440, "step": 1, "unit_of_measurement": "min"},
    }
    return {
        "input_boolean": {
            u["enable"].partition(".")[2]: {"name": u["enable"]} for u in units
        },
        "input_number": {
            u[key].partition(".")[2]: {"name": u[key], "mode": "box", **spec}
            for u in units
            for key, spec in numbers.items()
        },
    }


def write_config(paths: Paths, args: argparse.Namespace, output: Path) -> None:
    """Write a fresh config folder: configuration, the bench package, links, stores."""
    shutil.rmtree(paths.config, ignore_errors=True)
    paths.config.mkdir(parents=True)
    recording = "" if args.no_recorder else RECORDING
    (paths.config / "configuration.yaml").write_text(CONFIGURATION + recording)
    units = [unit_ids(i) for i in range(args.entries)]
    package = {
        "http": {"server_host": "127.0.0.1", "server_port": args.port},
        "bench_load": {
            "units": units,
            "duration_s": args.duration,
            "output": str(output),
            "seed": args.seed,
            "trace_memory": args.trace_memory,
            "gc_freeze": args.gc_freeze,
        },
        **helpers(units),
    }
    (paths.config / "packages").mkdir()
    # JSON is YAML too.
    (paths.config / "packages" / "bench.yaml").write_text(json.dumps(package))
    (paths.config / "custom_components").mkdir()
    for name, target in COMPONENTS.items():
        (paths.config / "custom_components" / name).symlink_to(target, True)
    (paths.config / ".storage").mkdir()
    for key, version, data in SEEDED_STORES:
        store = {"version": version, "minor_version": 1, "key": key, "data": data}
        (paths.config / ".storage" / key).write_text(json.dumps(store))


def process_sample(pid: int, began: float) -> dict[str, float]:
    """Return the process's RSS (MiB) and CPU seconds, the time and the load average."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    # utime and stime: fields 14 and 15 of stat(5), 12 and 13 after the name.
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    # RssAnon: the heap (Python objects, SQLite's page cache); RssFile: mapped files.
    kib = {
        fields[0].rstrip(":"): int(fields[1])
        for fields in map(
            str.split, Path(f"/proc/{pid}/status").read_text().splitlines()
        )
        if fields and fields[0] in ("VmRSS:", "RssAnon:", "RssFile:")
    }
    return {
        "t": round(time.monotonic() - began, 2),
        "rss_mib": round(kib["VmRSS"] / 1024.0, 2),
        "rss_anon_mib": round(kib["RssAnon"] / 1024.0, 2),
        "rss_file_mib": round(kib["RssFile"] / 1024.0, 2),
        "cpu_s": round(cpu, 2),
        "load1": os.getloadavg()[0],
    }


def machine(home_assistant: str) -> dict[str, Any]:
    """Return what the run ran on."""
    model = next(
        (
            line.partition(":")[2].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(pages / 2**30, 1),
        "system": platform.platform(),
        "python": platform.python_version(),
        "home_assistant": home_assistant,
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }


def commit() -> str:
    """Return the checked-out commit, marked when the tree has changes."""
    head = _git("rev-parse", "--short=12", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return f"{head}{'+changes' if dirty else ''}"


def _git(*args: str) -> str:
    """Return what a git command prints about the repository."""
    return subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), *args],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def bring_up(api: Api, process: subprocess.Popen[bytes], entries: int) -> str:
    """Onboard, wait for startup, create every entry; return Home Assistant's version."""
    deadline = time.monotonic() + START_TIMEOUT
    wait_for("the HTTP API", api.answers, process, deadline)
    log_in(api)
    wait_for("Home Assistant to start", lambda: core_running(api), process, deadline)
    for index in range(entries):
        create_entry(api, options(unit_ids(index)))
    wait_for("every entry to load", lambda: loaded(api, entries), process, deadline)
    return str(api.call("GET", "/api/config")["version"])


def loaded(api: Api, entries: int) -> bool:
    """Return whether every export_monitor entry is loaded."""
    listing = api.call("GET", "/api/config/config_entries/entry?domain=export_monitor")
    states = [entry["state"] for entry in listing]
    return len(states) == entries and all(s == "loaded" for s in states)


def measure(
    process: subprocess.Popen[bytes], record: Path, duration: float
) -> list[dict[str, float]]:
    """Sample the process every 10 s until the bench has written its record."""
    began = time.monotonic()
    samples = [process_sample(process.pid, began)]
    deadline = began + duration + FINISH_GRACE_S
    while not record.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise DevelopError("the bench wrote no record; see hass.out and the log")
        time.sleep(
            min(SAMPLE_S, max(0.1, began + len(samples) * SAMPLE_S - time.monotonic()))
        )
        if time.monotonic() >= began + len(samples) * SAMPLE_S:
            samples.append(process_sample(process.pid, began))
        print(f"bench-load: {samples[-1]}", flush=True)
    samples.append(process_sample(process.pid, began))
    return samples


def log_errors(log: Path) -> list[str]:
    """Return the ERROR lines of Home Assistant's log (there should be none)."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return [line for line in lines if " ERROR " in line]


def run(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    """Run Home Assistant with the bench; return the full result."""
    paths = Paths(args.dir.resolve())
    record = paths.base / "record.json"
    record.unlink(missing_ok=True)
    write_config(paths, args, record)
    api = Api(args.port)
    if api.answers():
        raise DevelopError(f"something else answers on {api.base}: use --port")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    # The code that runs: taken now, not after the run (the tree may change meanwhile).
    checked_out = commit()
    process = start(paths)
    try:
        version = bring_up(api, process, args.entries)
        about = machine(version)
        api.call("POST", "/api/services/bench_load/start", {})
        samples = measure(process, record, args.duration)
    finally:
        stop(process.pid, paths)
    about["load_after"] = [round(x, 2) for x in os.getloadavg()]
    recorded = json.loads(record.read_text())
    recorded["log_errors"] = log_errors(paths.log)
    return {
        "run": {
            "command": " ".join(["scripts/bench-load", *argv]),
            "entries": args.entries,
            "duration_s": args.duration,
            "seed": args.seed,
            "recorder": not args.no_recorder,
            "gc_freeze": args.gc_freeze,
            "commit": checked_out,
            "started_utc": started,
        },
        "machine": about,
        "figures": analyse(recorded, samples),
        "process_samples": samples,
        "record": recorded,
    }


def publish(result: dict[str, Any], args: argparse.Namespace) -> None:
    """Write load.json and the RESULTS.md section; print the section."""
    if NOTES.exists():
        result["notes"] = NOTES.read_text().strip().splitlines()
    # The record first: a section that fails to render can be rendered again.
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    section = render(result)
    if str(args.results) != "-":
        text = args.results.read_text() if args.results.exists() else ""
        args.results.write_text(replace_section(text, section))
    print(section)


def main(argv: list[str]) -> int:
    """Run the bench (or re-render its section) and publish the figures."""
    args = parse_args(argv)
    try:
        if args.render_only:
            result = json.loads(args.out.read_text())
            # The figures again from the record: the analysis may have grown since.
            result["figures"] = analyse(result["record"], result["process_samples"])
        else:
            result = run(args, argv)
    except DevelopError as err:
        print(f"bench-load: error: {err}", file=sys.stderr)
        return 1
    publish(result, args)
    return 0
