"""Smoke test of the benchmark harness: one allowance-bound day, a short span inside Home Assistant."""

from __future__ import annotations

from datetime import time
import json
from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from bench.config import HassSpan
from bench.day import async_run_scenario_day
from bench.ours import async_run_ours
from bench.records import CONTROLLERS, ORACLE, OURS, PEERS
from bench.report import RunInfo, build_results, tables
from bench.scoring import DEFINITIONS
from custom_components.export_monitor.const import CONF_CONTROLS, CONF_PROFILE, DOMAIN
from sim.adversarial import any_scenario_day

# 20 simulated minutes in Home Assistant around the window's start (16:00).
SPAN: Final = HassSpan(start=time(15, 50), end=time(16, 10))
# Built at import, before time is frozen: the plant then computes with real datetimes.
DAY: Final = any_scenario_day("bound_nominal", 0, 2026)
SHARE_TOLERANCE: Final = 0.05
DAY_METRICS: Final = frozenset(
    {
        "over_export_kwh",
        "max_over_export_kwh",
        "legal_kwh",
        "binding",
        "captured_kwh",
        "share",
        "writes",
        "flash_writes",
        "reaction_s",
        "update_cpu",
    }
)


@pytest.fixture
async def document(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> dict[str, Any]:
    """Run one allowance-bound day through every controller and return the results."""
    outcome = await async_run_scenario_day(hass, freezer, DAY, SPAN)
    info = RunInfo(
        command="scripts/bench --smoke",
        argv=["--smoke"],
        timestamp="2026-01-01T00:00:00+00:00",
        base_seed=2026,
        days_per_scenario=1,
        scenarios=["bound_nominal"],
        span=SPAN,
        runtime_s=0.0,
    )
    return build_results([outcome], info)


async def test_bench_smoke(document: dict[str, Any]) -> None:
    """Ours stays within the allowance at every moment; every peer ran; metrics add up."""
    day = document["days"][0]
    ours, oracle = day[OURS], day[ORACLE]
    assert (ours["over_export_kwh"], ours["max_over_export_kwh"]) == (0.0, 0.0)
    assert ours["forced_discharge_kwh"] > 0.3
    assert ours["writes"] >= 3
    assert ours["update_cpu"]["count"] > 0
    assert all(day[peer]["writes"] >= 2 for peer in PEERS)
    assert all(set(day[c]) >= DAY_METRICS for c in CONTROLLERS)
    assert set(DEFINITIONS) <= set(document["definitions"])
    assert day["reference"]["binding"] == "allowance"
    assert day["reference"]["legal_kwh"] > 1.0
    assert oracle["share"] == 1.0
    assert oracle["max_over_export_kwh"] < 1e-6
    assert all(0.0 <= day[c]["share"] <= 1.0 + SHARE_TOLERANCE for c in CONTROLLERS)
    assert all(
        day[c]["captured_kwh"] <= day[c]["extra_kwh"] + 1e-9 for c in CONTROLLERS
    )
    assert day[OURS]["captured_kwh"] > 0.0
    assert document["seeds"] == {"bound_nominal-0": day["seed"]}
    assert document["summary"][OURS]["days_over_allowance"] == 0
    assert json.loads(json.dumps(document)) == document
    assert "| over-export at day end, total (kWh) | 0.000 |" in tables(document)


# An inverter variant without a time backstop, driven through its vendor's profile.
FOX_DAY: Final = any_scenario_day("fox_watchdog_ha_dies", 0, 2026)


async def test_bench_drives_a_vendor_profile(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A Fox-like variant runs through the fox_ess profile and its vendor's entities."""
    run = await async_run_ours(hass, freezer, FOX_DAY, SPAN)
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    assert entry.options[CONF_PROFILE] == "fox_ess"
    assert entry.options[CONF_CONTROLS]["cutoff"] == "number.foxess_min_soc_on_grid"
    assert run.result.max_over_export_kwh == 0.0
    assert run.window.forced_discharge_kwh > 0.3
    assert run.result.commands_written >= 3
    cutoff = hass.states.get("number.foxess_min_soc_on_grid")
    assert cutoff is not None
    assert float(cutoff.state) > 20.0  # the SOC floor, above the minimum SOC
