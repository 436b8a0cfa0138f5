"""Tests of the published sensors: poll interval, jitter, faults, units and signs."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest

from sim.meters import (
    ENERGY_SENSORS,
    EXPORT_TODAY,
    UNAVAILABLE,
    Episode,
    EpisodeKind,
    MeterConfig,
    as_kw,
    as_kwh,
    floor_to,
)
from sim.plant import Plant

from .common import local, quiet_config, report_times, run_for

NIGHT = local(2025, 6, 10, 22)
NOON = local(2025, 6, 10, 12)


def _forcing(meters: MeterConfig) -> Plant:
    """Return a night-time plant force-discharging 3 kW from the start."""
    plant = Plant(quiet_config(meters=meters), NIGHT)
    plant.command_power_kw(3.0)
    plant.command_enable(True)
    return plant


def _episode(kind: EpisodeKind, sensors: frozenset[str] = frozenset()) -> MeterConfig:
    """Return 10 s meters with one episode from 60 s to 120 s after NIGHT."""
    episode = Episode(
        start=NIGHT + timedelta(seconds=60),
        end=NIGHT + timedelta(seconds=120),
        kind=kind,
        sensors=sensors,
    )
    return MeterConfig(update_interval_s=10.0, episodes=(episode,))


@pytest.mark.parametrize(
    "interval", [5.0, 10.0, 60.0, 300.0], ids=["5s", "10s", "60s", "300s"]
)
def test_publish_only_on_interval(interval: float) -> None:
    """Sensors are written at 0, 1x and 2x the interval and never in between."""
    plant = _forcing(MeterConfig(update_interval_s=interval))
    assert report_times(plant, "export_today", 2 * interval + 1) == [
        0.0,
        interval,
        2 * interval,
    ]


def test_jitter_keeps_gaps_within_bounds() -> None:
    """With 20 % jitter, gaps vary but stay within 8..12 s for a 10 s interval."""
    plant = _forcing(MeterConfig(update_interval_s=10.0, jitter=0.2))
    times = report_times(plant, "soc", 600.0)
    gaps = [later - earlier for earlier, later in pairwise(times)]
    assert min(gaps) >= 8.0
    assert max(gaps) <= 12.0
    assert len(set(gaps)) > 3


def test_published_lags_and_floors_truth() -> None:
    """Published export is the true export at the last poll, floored to 0.01 kWh."""
    plant = _forcing(MeterConfig(update_interval_s=60.0))
    run_for(plant, 119.0)
    truth_at_poll = 2.5 * 60 / 3600
    assert plant.published().export_today.value == floor_to(truth_at_poll, 0.01)
    assert plant.truth().export_today_kwh == pytest.approx(2.5 * 119 / 3600)


def test_last_reported_moves_while_last_changed_stays() -> None:
    """A counter that re-reports the same value keeps last_changed, moves last_reported."""
    plant = Plant(quiet_config(), NIGHT)
    run_for(plant, 100.0)
    pv = plant.published().pv_today
    assert pv.last_changed == NIGHT
    assert pv.last_reported == NIGHT + timedelta(seconds=100)


def test_stale_episode_freezes_value_and_timestamp() -> None:
    """During a stale episode nothing is written; afterwards writes resume."""
    plant = _forcing(_episode("stale"))
    run_for(plant, 100.0)
    frozen = plant.published().export_today
    run_for(plant, 30.0)
    resumed = plant.published().export_today
    assert frozen.last_reported == NIGHT + timedelta(seconds=50)
    assert resumed.last_reported == NIGHT + timedelta(seconds=130)
    assert resumed.value is not None
    assert frozen.value is not None
    assert resumed.value > frozen.value


def test_unavailable_episode() -> None:
    """During an unavailable period the state is 'unavailable' with no value."""
    plant = _forcing(_episode("unavailable"))
    run_for(plant, 100.0)
    gone = plant.published().export_today
    run_for(plant, 30.0)
    assert gone.state == UNAVAILABLE
    assert gone.value is None
    assert not gone.available
    assert gone.last_reported == NIGHT + timedelta(seconds=60)
    assert plant.published().export_today.available


def test_zero_glitch_hits_counters_only() -> None:
    """A zero glitch shows daily counters as 0 while SOC and power read normally."""
    plant = _forcing(_episode("zero"))
    run_for(plant, 100.0)
    published = plant.published()
    assert published.export_today.value == 0.0
    assert published.import_today.value == 0.0
    assert published.battery_power.value == 3000.0
    assert published.soc.value == pytest.approx(79.1, abs=0.1)


def test_episode_limited_to_listed_sensors() -> None:
    """An episode on the export counter leaves the other sensors publishing."""
    plant = _forcing(_episode("unavailable", frozenset({EXPORT_TODAY})))
    run_for(plant, 100.0)
    published = plant.published()
    assert not published.export_today.available
    assert published.soc.available
    assert published.soc.last_reported == NIGHT + timedelta(seconds=100)


@pytest.mark.parametrize(
    ("export_negative", "discharge_positive", "grid_w", "battery_w"),
    [(True, True, -2500.0, 3000.0), (False, False, 2500.0, -3000.0)],
    ids=["export_negative", "export_positive"],
)
def test_sign_conventions(
    export_negative: bool, discharge_positive: bool, grid_w: float, battery_w: float
) -> None:
    """Grid and battery power follow the configured sign conventions."""
    meters = MeterConfig(
        grid_export_negative=export_negative,
        battery_discharge_positive=discharge_positive,
    )
    plant = _forcing(meters)
    run_for(plant, 10.0)
    published = plant.published()
    assert published.grid_power.value == grid_w
    assert published.battery_power.value == battery_w
    assert published.grid_export_negative is export_negative


def test_units_wh_and_kw() -> None:
    """Counters in Wh and power in kW convert back to kWh and kW."""
    plant = _forcing(
        MeterConfig(energy_unit="Wh", power_unit="kW", energy_resolution_kwh=0.001)
    )
    run_for(plant, 360.0)
    published = plant.published()
    assert published.export_today.unit == "Wh"
    assert published.export_today.value == 250.0
    assert as_kwh(published.export_today) == 0.25
    assert as_kw(published.battery_power) == 3.0


def test_forecast_is_true_total_times_factor() -> None:
    """The published forecast is the day's true PV total times the seeded factor."""
    plant = Plant(quiet_config(forecast_error=(1.4, 1.4)), NOON)
    truth = plant.truth()
    assert truth.forecast_today_kwh == pytest.approx(1.4 * truth.pv_day_total_kwh)
    assert plant.published().forecast_today.value == round(truth.forecast_today_kwh, 2)


@pytest.mark.parametrize("interval", [4.0, 301.0], ids=["too_fast", "too_slow"])
def test_interval_validated(interval: float) -> None:
    """Intervals outside 5..300 s are refused."""
    with pytest.raises(ValueError, match="update_interval_s"):
        MeterConfig(update_interval_s=interval)


def test_energy_sensor_set() -> None:
    """The daily counters are PV, export and import."""
    assert {"pv_today", "export_today", "import_today"} == ENERGY_SENSORS
