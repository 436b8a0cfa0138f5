"""Tests of the named scenario-days: the set, determinism, and what each one varies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Final

import pytest

from sim.clock import day_length_s
from sim.plant import PlantConfig
from sim.scenarios import SCENARIO_NAMES, last_sunday, scenario_day, scenario_days

from .common import LONDON, run_for

EXPECTED_NAMES: Final = (
    "nominal",
    "cloudy",
    "fast_meters",
    "slow_meters",
    "laggy_inverter",
    "ignored_commands",
    "hung_inverter",
    "sensor_dropouts",
    "counter_glitch",
    "dst_spring",
    "dst_autumn",
)

type Probe = Callable[[PlantConfig], object]

VARIES: Final[dict[str, tuple[str, Probe, object]]] = {
    "nominal_clear_10s": (
        "nominal",
        lambda c: (c.pv.cloudiness, c.meters.update_interval_s, c.meters.jitter),
        (0.0, 10.0, 0.0),
    ),
    "cloudy_forecast_error": (
        "cloudy",
        lambda c: (0.4 <= c.pv.cloudiness <= 0.85, c.forecast_error),
        (True, (0.6, 1.4)),
    ),
    "fast_meters_5s": ("fast_meters", lambda c: c.meters.update_interval_s, 5.0),
    "slow_meters_60_or_300s": (
        "slow_meters",
        lambda c: c.meters.update_interval_s in {60.0, 300.0},
        True,
    ),
    "laggy_inverter_2_30s": (
        "laggy_inverter",
        lambda c: c.inverter.latency_s,
        (2.0, 30.0),
    ),
    "ignored_commands_10pct": (
        "ignored_commands",
        lambda c: c.inverter.ignore_probability,
        0.1,
    ),
    "hung_inverter_has_time": (
        "hung_inverter",
        lambda c: c.inverter.ignore_after is not None,
        True,
    ),
    "sensor_dropouts_kinds": (
        "sensor_dropouts",
        lambda c: {e.kind for e in c.meters.episodes},
        {"stale", "unavailable"},
    ),
    "counter_glitch_kind": (
        "counter_glitch",
        lambda c: {e.kind for e in c.meters.episodes},
        {"zero"},
    ),
}


def test_scenario_names() -> None:
    """The benchmark's scenario families, in order."""
    assert SCENARIO_NAMES == EXPECTED_NAMES


def test_scenario_days_count_and_order() -> None:
    """N days per scenario, grouped by scenario."""
    days = scenario_days(2, 5)
    assert [(d.name, d.index) for d in days[:4]] == [
        ("nominal", 0),
        ("nominal", 1),
        ("cloudy", 0),
        ("cloudy", 1),
    ]
    assert len(days) == 2 * len(EXPECTED_NAMES)


def test_scenario_days_deterministic() -> None:
    """One base seed, one benchmark set; another base seed, another set."""
    assert scenario_days(1, 5) == scenario_days(1, 5)
    assert scenario_days(1, 5) != scenario_days(1, 6)


@pytest.mark.parametrize(
    ("name", "probe", "expected"), list(VARIES.values()), ids=list(VARIES)
)
def test_scenario_varies(name: str, probe: Probe, expected: object) -> None:
    """Each scenario changes what its name says."""
    assert probe(scenario_day(name, 0, 7).config) == expected


def test_slow_meters_mix_60_and_300() -> None:
    """Across days the slow meters are sometimes 60 s, sometimes 300 s."""
    intervals = {
        scenario_day("slow_meters", i, 7).config.meters.update_interval_s
        for i in range(12)
    }
    assert intervals == {60.0, 300.0}


@pytest.mark.parametrize(
    ("name", "hours", "month"),
    [("dst_spring", 23, 3), ("dst_autumn", 25, 10)],
    ids=["dst_spring", "dst_autumn"],
)
@pytest.mark.parametrize("index", [0, 1, 2], ids=["year0", "year1", "year2"])
def test_dst_scenarios_on_clock_change_days(
    name: str, hours: int, month: int, index: int
) -> None:
    """DST scenarios fall on the last Sunday of March or October, 23 h or 25 h long."""
    day = scenario_day(name, index, 7)
    assert day.day == last_sunday(2025 + index, month)
    assert day_length_s(day.day, LONDON) == hours * 3600


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2025, 3, date(2025, 3, 30)),
        (2025, 10, date(2025, 10, 26)),
        (2026, 3, date(2026, 3, 29)),
        (2026, 12, date(2026, 12, 27)),
    ],
    ids=["2025_march", "2025_october", "2026_march", "2026_december"],
)
def test_last_sunday(year: int, month: int, expected: date) -> None:
    """The last Sunday of a month."""
    assert last_sunday(year, month) == expected


def test_realistic_ranges() -> None:
    """Every scenario-day has a 10 kWh / 5 kW battery, 0.9-5 kW PV peak and 0.2-3 kW load."""
    configs = [d.config for d in scenario_days(3, 9)]
    assert {(c.battery.capacity_kwh, c.battery.max_discharge_kw) for c in configs} == {
        (10.0, 5.0)
    }
    assert min(c.pv.peak_kw for c in configs) >= 0.9
    assert max(c.pv.peak_kw for c in configs) <= 5.0
    assert min(c.load.base_kw for c in configs) >= 0.2
    assert max(c.load.max_kw for c in configs) == 3.0


@pytest.mark.parametrize("index", [0, 1, 2, 3], ids=["day0", "day1", "day2", "day3"])
def test_morning_soc_after_overnight_charge(index: int) -> None:
    """The overnight grid charge leaves the battery around 80-96 % at 07:00."""
    day = scenario_day("nominal", index, 7)
    plant = day.plant()
    run_for(
        plant, (day.start.replace(hour=7) - day.start).total_seconds(), step_s=300.0
    )
    assert 78.0 <= plant.truth().soc_pct <= 97.0
    assert plant.now == day.start + timedelta(hours=7)
