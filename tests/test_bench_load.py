"""The load bench's measurement (bench/load): figures from a recorded sample, its section, its config."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import cast

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_validation as cv
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
import voluptuous_serialize

from bench.load.component import source_attributes
from bench.load.run import helpers, options, process_sample, unit_ids, write_config
from bench.load.stats import (
    END,
    START,
    analyse,
    percentile,
    render,
    replace_section,
    slope_per_min,
    spread,
)
from custom_components.export_monitor.const import DOMAIN
from custom_components.export_monitor.profiles.options import controls
from dev.develop import Paths, not_offered, required_unknown

ROOT = Path(__file__).resolve().parent.parent
# The generic shape's control roles and the bench's helper of each.
ROLES = {"enable": "enable", "power": "power", "cutoff": "cutoff", "timer": "duration"}


# How far the RSS fields of one /proc read may disagree (MiB).
RSS_READ_SLACK_MIB = 4.0


def _cycle(kind: str, write: float, off: float | None, reason: str) -> dict:
    """Return one recorded cycle (times in seconds)."""
    return {
        "kind": kind,
        "write_ts": write,
        "first_call_ts": off,
        "first_call": None if off is None else "input_boolean.turn_off",
        "turn_off_ts": off,
        "reason": reason,
    }


# Two units: three stops 1, 2 and 40 ms after their write, and one never called.
RECORD = {
    "began": 0.0,
    "ended": 600.0,
    "state_changes": {"sources": 30000, "monitors": 6000},
    # SQLite's heap fills to 16 MiB by 120 s, then stays; Python's blocks flat;
    # malloc's free space grows 1 MiB a minute (its own ups and downs).
    "memory_inside": [
        {"t": t, "sqlite_mib": s, "python_blocks": 900000}
        | {"malloc_in_use_mib": 50.0, "malloc_free_mib": 5.0 + t / 60.0}
        for t, s in ((0.0, 2.0), (120.0, 16.0), (600.0, 16.0))
    ],
    "monitor_changes": {"sensor.export_monitor_system_health": 3000},
    # Full collections at 0.9 s (during the slow probe's sleep, 0.75-1.0) and 66 s.
    "gc": {
        "threshold": [2000, 10, 10],
        "counts": [500, 50, 2],
        "total_ms": [100.0, 50.0, 400.0],
        "full": [
            {"ts": 0.9, "ms": 200.0, "cpu_ms": 199.0, "thread": "Recorder"},
            {"ts": 66.0, "ms": 200.0, "cpu_ms": 199.0, "thread": "MainThread"},
        ],
        "objects_at_start": 1000000,
    },
    "recorder_backlog": [[0.0, 5], [10.0, 900], [20.0, 40]],
    "lag_ms": [0.5, 1.0, 2.0, 150.0],
    "slow_probes": [
        {"ts": 1.0, "lag_ms": 150.0, "loop_cpu_ms": 25.0, "process_cpu_ms": 125.0}
    ],
    "units": [
        {
            "writes": 600,
            "refusals": {"start_blocked_soc_at_min": 1},
            "cycles": [
                _cycle("soc_below_min", 100.0, 100.001, "soc_at_min"),
                _cycle("soc_unavailable", 200.0, 200.002, "data_unsafe"),
            ],
        },
        {
            "writes": 600,
            "refusals": {},
            "cycles": [
                _cycle("soc_below_min", 300.0, 300.040, "soc_at_min"),
                _cycle("soc_unavailable", 400.0, None, "None"),
            ],
        },
    ],
}
# RSS rising 1 MiB a minute until the warm-up ends, flat after; 6 s of CPU in 600 s.
SAMPLES = [
    {"t": t, "rss_mib": 100.0 + min(t, 120.0) / 60.0, "cpu_s": 10.0 + t / 100.0}
    for t in range(0, 610, 10)
]
RESULT = {
    "run": {
        "command": "scripts/bench-load",
        "entries": 2,
        "duration_s": 600.0,
        "seed": 1,
        "commit": "abc",
        "started_utc": "2026-11-30T11:00:00+00:00",
    },
    "machine": {
        "cpus": 2,
        "cpu_model": "cpu",
        "memory_gib": 24,
        "python": "3.13.0",
        "home_assistant": "2026.2.3",
        "load_before": [1, 1, 1],
        "load_after": [2, 2, 2],
    },
    "figures": analyse(RECORD, SAMPLES),
}


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([5.0], 50, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([float(v) for v in range(1, 101)], 99, 99.0),
        ([float(v) for v in range(1, 101)], 100, 100.0),
        ([3.0, 1.0, 2.0], 0, 1.0),
    ],
    ids=["one", "median-of-four", "p99-of-100", "p100", "p0"],
)
def test_percentile_is_the_nearest_rank(values, share, expected) -> None:
    """The percentile is a value of the sample: the nearest rank, no interpolation."""
    assert percentile(values, share) == expected


def test_spread_of_nothing_is_empty() -> None:
    """An empty sample has a count of 0 and no figures."""
    assert spread([]) == {"n": 0, "p50": None, "p99": None, "max": None, "mean": None}


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([(0.0, 1.0), (60.0, 3.0), (120.0, 5.0)], 2.0),
        ([(0.0, 7.0), (600.0, 7.0)], 0.0),
        ([(0.0, 1.0)], None),
        ([(5.0, 1.0), (5.0, 2.0)], None),
    ],
    ids=["rising", "flat", "one-point", "one-time"],
)
def test_slope_is_per_minute(points, expected) -> None:
    """The least-squares slope is per minute; one point or one instant has none."""
    assert slope_per_min(points) == expected


def test_figures_from_a_recorded_sample() -> None:
    """Latency, misses, loop lag, memory and CPU come out of a record as defined."""
    fig = RESULT["figures"]
    stops = fig["stops"]
    latency = stops["write_to_turn_off_ms"]
    assert (latency["n"], latency["p50"], latency["max"]) == (3, 2.0, 40.0)
    assert stops["by_kind_ms"]["soc_unavailable"]["n"] == 1
    assert (stops["cycles"], stops["stopped"], stops["missed"]) == (4, 3, 1)
    assert stops["reasons"] == {"soc_at_min": 2, "data_unsafe": 1, "None": 1}
    assert stops["refusals"] == {"start_blocked_soc_at_min": 1}
    assert fig["loop_lag_ms"]["max"] == 150.0
    assert fig["recorder"] == {
        "state_changes_per_s": {"monitors": 10.0, "sources": 50.0},
        "monitor_changes_per_s": {"sensor.export_monitor_system_health": 5.0},
        "backlog_first": 5,
        "backlog_last": 40,
        "backlog_max": 900,
    }
    assert fig["slow_probes"]["over_100_ms"] == 1
    # 25 of 250 ms on the loop's thread, 125 in the process.
    assert fig["slow_probes"]["loop_cpu_share_pct"] == 10.0
    assert fig["slow_probes"]["process_cpu_share_pct"] == 50.0
    assert fig["memory_inside"] == {
        "sqlite_mib": {"start": 2.0, "end": 16.0, "slope_after_warmup_per_min": 0.0},
        "python_kblocks": {
            "start": 900.0,
            "end": 900.0,
            "slope_after_warmup_per_min": 0.0,
        },
        "malloc_in_use_mib": {
            "start": 50.0,
            "end": 50.0,
            "slope_after_warmup_per_min": 0.0,
        },
        "malloc_free_mib": {
            "start": 5.0,
            "end": 15.0,
            "slope_after_warmup_per_min": 1.0,
        },
    }
    collections = fig["gc"]
    assert collections["full_by_thread"] == {"Recorder": 1, "MainThread": 1}
    assert collections["full_interval_s"]["max"] == 65.1
    assert collections["full_ms"]["max"] == 200.0
    assert collections["over_100_ms_during_a_full_collection"] == 1
    # The 40 ms stop (300.000-300.040) is the only slow one; no oversleep then.
    assert fig["slow_stops"] == {"over_10_ms": 1, "during_an_oversleep": 0}
    memory = fig["memory"]
    assert (memory["start_mib"], memory["end_mib"], memory["growth_mib"]) == (
        100.0,
        102.0,
        2.0,
    )
    assert memory["slope_after_warmup_mib_per_min"] == 0.0
    assert fig["cpu"]["share_of_one_core_pct"] == 1.0
    assert fig["cpu"]["per_source_write_us"] == 5000.0
    assert fig["targets"] == {
        "p99_under_50_ms": True,
        "no_stop_missed": False,
        "loop_lag_max_at_most_100_ms": False,
        "memory_flat": True,
    }


def test_section_replaces_only_its_own_part() -> None:
    """The section goes between the markers; the text around them stays as it was."""
    section = render(RESULT)
    assert section.startswith(START)
    assert section.endswith(END)
    assert "| p99 source write → stop call < 50 ms | **met** |" in section
    assert "| every stop made due was called | **missed** |" in section
    assert (
        "SQLite's heap (page caches, `sqlite3_memory_used`) 2.0 → 16.0 MiB" in section
    )
    assert "Oversleeps over 100 ms during a full collection: 1 of 1." in section
    assert "held free 5.0 → 15.0 MiB" in section
    text = f"# Results\n\nbefore\n\n{START}\nold\n{END}\n\nafter\n"
    replaced = replace_section(text, section)
    assert replaced == f"# Results\n\nbefore\n\n{section}\n\nafter\n"
    assert replace_section(replaced, section) == replaced


def test_section_is_appended_without_markers() -> None:
    """A file without the markers gets the section at its end, the rest untouched."""
    assert replace_section("# Results\n\ntext\n", "S") == "# Results\n\ntext\n\nS\n"


def test_config_is_a_fresh_instance_of_ten_monitors(tmp_path: Path) -> None:
    """The config folder links both integrations and declares every unit's helpers."""
    paths = Paths(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "left-over").write_text("from an earlier run")
    args = argparse.Namespace(
        entries=10,
        duration=600.0,
        seed=1,
        port=8127,
        trace_memory=False,
        gc_freeze=False,
        no_recorder=False,
    )
    write_config(paths, args, tmp_path / "record.json")
    config = paths.config
    assert not (config / "left-over").exists()
    assert (config / "custom_components" / "bench_load" / "manifest.json").exists()
    assert (config / "custom_components" / "export_monitor" / "manifest.json").exists()
    package = json.loads((config / "packages" / "bench.yaml").read_text())
    assert package["http"] == {"server_host": "127.0.0.1", "server_port": 8127}
    assert len(package["bench_load"]["units"]) == 10
    assert len(package["input_boolean"]) == 10
    assert len(package["input_number"]) == 30
    last = unit_ids(9)
    assert last["enable"] == "input_boolean.bl10_discharge"
    assert options(last)["discharge_switch_entity"] == last["enable"]
    assert options(last)["auto_discharge"] is False


def test_process_sample_reads_rss_and_cpu() -> None:
    """A process sample has a positive RSS and a CPU time (this test's own process)."""
    sample = process_sample(os.getpid(), 0.0)
    assert sample["rss_mib"] > 0
    assert sample["rss_anon_mib"] > 0
    assert sample["rss_file_mib"] > 0
    # Each figure is rounded to 0.01 MiB on its own and the kernel reads each counter
    # apart, so the parts may exceed the total a little (the full suite failed the old
    # 0.01 MiB bound), never by a unit mistake's factor of 1024.
    assert (
        sample["rss_anon_mib"] + sample["rss_file_mib"]
        <= sample["rss_mib"] + RSS_READ_SLACK_MIB
    )
    assert sample["cpu_s"] >= 0


@pytest.mark.parametrize(
    ("probe_end", "during"),
    [(300.1, 1), (300.5, 0)],
    ids=["stall-overlaps-the-stop", "stall-after-the-stop"],
)
def test_a_slow_stop_is_matched_to_a_loop_stall(probe_end, during) -> None:
    """A stop over 10 ms counts as stalled when a long oversleep overlaps it."""
    probe = {"ts": probe_end, "lag_ms": 150.0, "loop_cpu_ms": 1, "process_cpu_ms": 2}
    record = RECORD | {"slow_probes": [probe]}
    figures = analyse(record, SAMPLES)["slow_stops"]
    assert figures == {"over_10_ms": 1, "during_an_oversleep": during}


def test_reference_run_figures_and_section_match_its_record() -> None:
    """The committed reference run: its figures come from its record, its section is in RESULTS.md."""
    result = json.loads((ROOT / "bench" / "results" / "load.json").read_text())
    assert analyse(result["record"], result["process_samples"]) == result["figures"]
    assert render(result) in (ROOT / "bench" / "RESULTS.md").read_text()
    assert result["run"]["entries"] == 10
    assert result["run"]["duration_s"] == 600.0
    assert result["figures"]["stops"]["stopped"] > 0


async def _async_entry_through_the_flow(
    hass: HomeAssistant, ids: dict[str, str]
) -> tuple[ConfigEntry, list[str]]:
    """Walk today's config flow with the bench's answers; return the entry and the steps."""
    answers = options(ids)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    steps = []
    while result["type"] is FlowResultType.FORM:
        steps.append(result["step_id"])
        assert not result["errors"], result["step_id"]
        fields = voluptuous_serialize.convert(
            result["data_schema"], custom_serializer=cv.custom_serializer
        )
        assert required_unknown(fields, answers) == [], result["step_id"]
        assert not_offered(fields, answers) == [], result["step_id"]
        names = {field["name"] for field in fields}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {k: v for k, v in answers.items() if k in names}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY, steps
    await hass.async_block_till_done()
    return result["result"], steps


async def test_bench_options_answer_every_step_of_the_real_config_flow(
    hass: HomeAssistant,
) -> None:
    """Each entry the bench makes goes through today's config flow to a loaded entry.

    The bench answers each form as scripts/bench-load does over the HTTP API (the
    step's serialized fields): a step asking for a field the bench does not answer,
    or offering none of its answers, breaks every load run at set-up.
    """
    ids = unit_ids(0)
    for domain, config in helpers([ids]).items():
        assert await async_setup_component(hass, domain, {domain: config})
    units = {"soc": "%", "pv": "kWh", "export": "kWh", "grid": "W", "battery": "W"}
    for key, unit in units.items():
        hass.states.async_set(ids[key], "50", {"unit_of_measurement": unit})
    entry, _steps = await _async_entry_through_the_flow(hass, ids)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.options["soc_entity"] == ids["soc"]
    assert entry.options["profile"] == "generic"
    by_role = {role.value: entity for role, entity in controls(entry.options).items()}
    assert by_role == {r: ids[o] for r, o in ROLES.items()}
    assert entry.options["auto_discharge"] is False


def test_section_of_a_run_with_one_full_collection() -> None:
    """One full collection has no interval: the section says what there is."""
    watched = RECORD["gc"] | {"full": RECORD["gc"]["full"][:1]}
    figures = analyse(RECORD | {"gc": watched}, SAMPLES)
    section = render(RESULT | {"figures": figures})
    assert (
        "200.0 ms each (p50; max 200.0 ms), run by the thread `Recorder` 1" in section
    )


@pytest.mark.parametrize(
    ("day_start", "blocked"),
    [(True, False), (False, True)],
    ids=["counters_say_reset_today", "counters_without_last_reset"],
)
async def test_the_bench_sources_can_start_in_the_small_hours(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, day_start: bool, blocked: bool
) -> None:
    """The bench's counters (20 and 5 kWh) are today's at 00:05 when they say so.

    Without `last_reset` the monitor rightly refuses every start until the counters
    drop (counter_not_reset): a load run started after midnight made no cycle at all.
    """
    await hass.config.async_set_time_zone("Europe/London")
    freezer.move_to("2026-12-01T00:05:00+00:00")
    ids = unit_ids(0)
    for domain, config in helpers([ids]).items():
        assert await async_setup_component(hass, domain, {domain: config})
    values = {"soc": "50", "pv": "20.0", "export": "5.0", "grid": "0", "battery": "0"}
    units = {"soc": ("%", "battery"), "pv": ("kWh", "energy")}
    units |= {"export": ("kWh", "energy"), "grid": ("W", "power")}
    units |= {"battery": ("W", "power")}
    for key, (unit_of, cls) in units.items():
        attributes = source_attributes(unit_of, cls, dt_util.start_of_local_day())
        if not day_start:
            attributes.pop("last_reset", None)
        hass.states.async_set(ids[key], values[key], attributes)
    entry, _steps = await _async_entry_through_the_flow(hass, ids)
    assert entry.state is ConfigEntryState.LOADED
    response = await hass.services.async_call(
        DOMAIN,
        "calculate_discharge",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    blockers = cast("list[str]", response["blockers"])
    assert ("counter_not_reset" in blockers) is blocked, blockers
