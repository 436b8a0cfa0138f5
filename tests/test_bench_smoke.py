"""Smoke test of the benchmark harness: one nominal day, a short span inside Home Assistant."""

from __future__ import annotations

from datetime import time
import json
from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from bench.config import HassSpan
from bench.day import async_run_scenario_day
from bench.records import BASELINE, CONTROLLERS, OURS
from bench.report import RunInfo, build_results, tables
from bench.scoring import DEFINITIONS
from sim.scenarios import scenario_day

# 20 simulated minutes in Home Assistant around the window's start (16:00).
SPAN: Final = HassSpan(start=time(15, 59), end=time(16, 19))
# Built at import, before time is frozen: the plant then computes with real datetimes.
DAY: Final = scenario_day("nominal", 0, 2026)
DAY_METRICS: Final = frozenset(
    {
        *DEFINITIONS,
        "exported_kwh",
        "pv_kwh",
        "allowance_kwh",
        "window_headroom_kwh",
        "battery_above_min_kwh",
        "window_export_kwh",
        "forced_discharge_kwh",
        "ignored_writes",
        "timer_stops",
        "stops",
        "stop_reasons",
        "end_soc",
        "rule_cpu",
        "simple_legal_kwh",
        "simple_share",
    }
)
CPU_FIGURES: Final = frozenset(
    {"evaluations", "mean_us", "median_us", "p99_us", "total_ms"}
)
SUMMARY_FIGURES: Final = frozenset(
    {
        "days",
        "total_over_export_kwh",
        "days_over_allowance",
        "worst_over_export",
        "worst_max_over_export",
        "share_mean",
        "share_min",
        "share_nominal_mean",
        "share_nominal_min",
        "simple_share_nominal_mean",
        "writes_total",
        "writes_per_day",
        "stops_total",
        "reaction_median_s",
        "reaction_p99_s",
        "cpu",
        "rule_cpu",
        "cpu_total_ms_per_day",
    }
)


@pytest.fixture
async def document(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> dict[str, Any]:
    """Run nominal-0 through both controllers and return the results document."""
    outcome = await async_run_scenario_day(hass, freezer, DAY, SPAN)
    info = RunInfo(
        command="scripts/bench --smoke",
        argv=["--smoke"],
        timestamp="2026-01-01T00:00:00+00:00",
        base_seed=2026,
        days_per_scenario=1,
        scenarios=["nominal"],
        span=SPAN,
        runtime_s=0.0,
    )
    return build_results([outcome], info)


async def test_bench_smoke(document: dict[str, Any]) -> None:
    """Ours discharges within the allowance; the baseline ran; every metric is there."""
    day = document["days"][0]
    ours, baseline = day[OURS], day[BASELINE]
    assert (ours["over_export_kwh"], ours["max_over_export_kwh"]) == (0.0, 0.0)
    assert ours["forced_discharge_kwh"] > 0.5
    assert ours["writes"] >= 3
    assert ours["cpu"]["evaluations"] > 0
    assert baseline["writes"] >= 4
    assert baseline["cpu"]["evaluations"] > 0
    assert {c: set(day[c]) for c in CONTROLLERS} == dict.fromkeys(
        CONTROLLERS, DAY_METRICS
    )
    assert {c: set(day[c]["cpu"]) for c in CONTROLLERS} == dict.fromkeys(
        CONTROLLERS, CPU_FIGURES
    )
    assert {c: set(document["summary"][c]) for c in CONTROLLERS} == dict.fromkeys(
        CONTROLLERS, SUMMARY_FIGURES
    )
    assert day["reference"]["legal_kwh"] > 5.0
    assert day["reference"]["oracle_max_over_export_kwh"] < 0.01
    assert document["ratios"]["cpu_mean_per_evaluation"] > 0
    assert document["seeds"] == {"nominal-0": day["seed"]}
    assert json.loads(json.dumps(document)) == document
    assert "| over-export, total (kWh) | 0.000 |" in tables(document)
