"""Tests of the plant: determinism, energy balance, midnight resets, cutoff and reserve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sim.battery import BatteryConfig
from sim.clock import local_midnight
from sim.inverter import InverterConfig
from sim.meters import MeterConfig
from sim.plant import Plant
from sim.pv import PvConfig
from sim.scenarios import SCENARIO_NAMES, scenario_day

from .common import LONDON, energy_balance_error, local, quiet_config, run_for


def _forced_morning(seed: int) -> Plant:
    """Return a cloudy plant at 09:00 that has been force-discharging for two hours."""
    config = quiet_config(seed=seed, pv=PvConfig(peak_kw=4.5, cloudiness=0.6))
    plant = Plant(config, local(2025, 6, 10, 9))
    plant.command_power_kw(2.5)
    plant.command_enable(True)
    run_for(plant, 7200.0, step_s=3.0)
    return plant


def test_same_seed_same_day() -> None:
    """Two plants with one seed and one command sequence end identical."""
    assert _forced_morning(7).truth() == _forced_morning(7).truth()
    assert _forced_morning(7).published() == _forced_morning(7).published()


def test_other_seed_other_day() -> None:
    """Another seed gives other clouds, so other PV."""
    assert (
        _forced_morning(7).truth().pv_today_kwh
        != _forced_morning(8).truth().pv_today_kwh
    )


@pytest.mark.parametrize("name", SCENARIO_NAMES, ids=SCENARIO_NAMES)
def test_energy_balance(name: str) -> None:
    """PV + discharge - charge - load equals export - import to 1e-6 kWh, forced or not."""
    day = scenario_day(name, 0, 11)
    plant = Plant(day.config, day.start + timedelta(hours=9))
    run_for(plant, 1800.0, step_s=60.0)
    plant.command_enable(True)
    run_for(plant, 3600.0, step_s=7.0)
    assert energy_balance_error(plant) < 1e-6
    assert plant.truth().export_today_kwh > 0.0


@pytest.mark.parametrize(
    ("year", "month", "day", "hours"),
    [(2025, 6, 10, 24.0), (2025, 3, 30, 23.0), (2025, 10, 26, 25.0)],
    ids=["summer", "dst_spring", "dst_autumn"],
)
def test_counters_reset_at_local_midnight(
    year: int, month: int, day: int, hours: float
) -> None:
    """Counters cover exactly the local day (23/24/25 h) and restart at local midnight."""
    config = quiet_config(meters=MeterConfig(update_interval_s=300.0))
    plant = Plant(config, local(year, month, day))
    run_for(plant, hours * 3600.0 + 30.0, step_s=700.0)
    totals = plant.truth().previous_day
    assert totals is not None
    assert totals.hours == hours
    assert totals.end == local_midnight(totals.day + timedelta(days=1), LONDON)
    assert totals.pv_kwh > 10.0
    assert plant.truth().pv_today_kwh == 0.0
    assert plant.truth().load_today_kwh == pytest.approx(0.5 * 30 / 3600)


def test_published_counter_resets_on_first_poll_after_midnight() -> None:
    """The published export counter drops to 0 at the first poll of the new day."""
    plant = Plant(quiet_config(), local(2025, 6, 10, 23, 59))
    plant.command_enable(True)
    run_for(plant, 59.0)
    before = plant.published().export_today
    run_for(plant, 1.0)
    after = plant.published().export_today
    assert before.value == 0.03
    assert after.value == 0.0
    assert after.last_reported == datetime(2025, 6, 10, 23, tzinfo=UTC)


def test_cutoff_soc_stops_discharge() -> None:
    """Forced discharge holds the battery at the cutoff SOC, then delivers nothing."""
    config = quiet_config(battery=BatteryConfig(initial_soc=30.0))
    plant = Plant(config, local(2025, 6, 10, 22))
    plant.command_cutoff_soc(25.0)
    plant.command_power_kw(5.0)
    plant.command_enable(True)
    run_for(plant, 3600.0, step_s=7.0)
    truth = plant.truth()
    assert truth.soc_pct == pytest.approx(25.0, abs=1e-9)
    assert truth.forcing
    assert truth.battery_kw == 0.0
    assert truth.grid_kw == pytest.approx(-0.5)


def test_self_consumption_stops_at_reserve() -> None:
    """Without forcing, the battery covers the night load down to its reserve only."""
    config = quiet_config(
        battery=BatteryConfig(initial_soc=12.0),
        inverter=InverterConfig(reserve_soc=10.0),
    )
    plant = Plant(config, local(2025, 6, 10, 20))
    run_for(plant, 3 * 3600.0, step_s=60.0)
    assert plant.truth().soc_pct == pytest.approx(10.0)
    assert plant.truth().import_today_kwh > 0.0


def test_forced_discharge_exports_surplus() -> None:
    """Forced discharge at night sends power minus load to the grid."""
    plant = Plant(quiet_config(), local(2025, 6, 10, 23))
    plant.command_power_kw(3.0)
    plant.command_enable(True)
    run_for(plant, 600.0)
    truth = plant.truth()
    assert truth.battery_kw == pytest.approx(3.0)
    assert truth.grid_kw == pytest.approx(2.5)
    assert truth.export_today_kwh == pytest.approx(2.5 * 600 / 3600)


def test_naive_start_refused() -> None:
    """A naive start moment is refused: the plant needs to know its local midnight."""
    with pytest.raises(ValueError, match="timezone-aware"):
        Plant(quiet_config(), datetime(2025, 6, 10))  # noqa: DTZ001


def test_step_must_be_positive() -> None:
    """A zero step is refused."""
    with pytest.raises(ValueError, match="positive"):
        Plant(quiet_config(), local(2025, 6, 10)).step(0.0)
