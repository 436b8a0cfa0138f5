"""Tests of the PV, load, battery and clock models."""

from __future__ import annotations

from datetime import date, time
import math
import random

import pytest

from sim.battery import Battery, BatteryConfig
from sim.clock import day_length_s, in_window
from sim.load import LoadConfig, LoadModel
from sim.pv import PvConfig, PvModel, clear_sky_kw, cloud_knots

from .common import LONDON, local

CLEAR = PvConfig(peak_kw=4.0, sunrise_h=6.0, sunset_h=20.0)
CLOUDY = PvConfig(peak_kw=4.0, sunrise_h=6.0, sunset_h=20.0, cloudiness=0.7)
JUNE = date(2025, 6, 10)


@pytest.mark.parametrize(
    ("hour", "expected_kw"),
    [(3.0, 0.0), (6.0, 0.0), (13.0, 4.0), (20.0, 0.0), (23.5, 0.0)],
    ids=["night", "sunrise", "solar_noon", "sunset", "late_evening"],
)
def test_clear_sky_bell(hour: float, expected_kw: float) -> None:
    """The clear-sky bell is zero outside daylight and peaks midway at peak_kw."""
    assert clear_sky_kw(CLEAR, hour) == pytest.approx(expected_kw)


def test_pv_same_seed_same_curve() -> None:
    """Two models with one seed give the same cloudy curve."""
    first = PvModel(CLOUDY, 42, LONDON)
    second = PvModel(CLOUDY, 42, LONDON)
    assert first.cloud_factors(JUNE) == second.cloud_factors(JUNE)
    assert first.power_kw(local(2025, 6, 10, 12, 7)) == second.power_kw(
        local(2025, 6, 10, 12, 7)
    )


def test_pv_other_seed_other_clouds() -> None:
    """Another seed gives another cloud pattern."""
    assert PvModel(CLOUDY, 1, LONDON).cloud_factors(JUNE) != PvModel(
        CLOUDY, 2, LONDON
    ).cloud_factors(JUNE)


def test_clouds_cut_the_day_total() -> None:
    """A cloudy day yields clearly less than the clear-sky day."""
    clear = PvModel(CLEAR, 3, LONDON).day_total_kwh(JUNE)
    cloudy = PvModel(CLOUDY, 3, LONDON).day_total_kwh(JUNE)
    assert cloudy < 0.85 * clear


@pytest.mark.parametrize(
    ("cloudiness", "low", "high"),
    [(0.0, 1.0, 1.0), (0.5, 0.1, 1.0), (1.0, 0.1, 0.7)],
    ids=["clear", "broken", "overcast"],
)
def test_cloud_factors_bounded(cloudiness: float, low: float, high: float) -> None:
    """Cloud factors stay within (0, 1]; overcast never reaches clear."""
    knots = cloud_knots(PvConfig(cloudiness=cloudiness), random.Random(9))
    assert low <= min(knots)
    assert max(knots) <= high


@pytest.mark.parametrize("bad", [-0.1, 1.1], ids=["negative", "above_one"])
def test_cloudiness_validated(bad: float) -> None:
    """Cloudiness outside 0..1 is refused."""
    with pytest.raises(ValueError, match="cloudiness"):
        PvConfig(cloudiness=bad)


def test_load_within_limits_and_deterministic() -> None:
    """Load stays within base..max every minute of a day and repeats for a seed."""
    config = LoadConfig(base_kw=0.3, spikes_per_day=30, max_kw=3.0)
    first, second = LoadModel(config, 5, LONDON), LoadModel(config, 5, LONDON)
    curve = [first.power_at(JUNE, m / 60, m * 60.0) for m in range(24 * 60)]
    assert min(curve) >= 0.3
    assert max(curve) == pytest.approx(3.0)
    assert curve == [second.power_at(JUNE, m / 60, m * 60.0) for m in range(24 * 60)]


def test_load_bumps_at_their_hours() -> None:
    """Without spikes, the evening bump raises the load above the base."""
    model = LoadModel(
        LoadConfig(base_kw=0.3, evening_kw=1.0, spikes_per_day=0), 0, LONDON
    )
    assert model.power_kw(local(2025, 6, 10, 18, 30)) == pytest.approx(
        0.3 + 1.0, abs=0.01
    )
    assert model.power_kw(local(2025, 6, 10, 3)) == pytest.approx(0.3, abs=0.001)


def test_battery_discharge_loses_sqrt_efficiency() -> None:
    """One AC kWh out takes 1/sqrt(eff) kWh from the cells."""
    battery = Battery.from_config(
        BatteryConfig(initial_soc=50.0, round_trip_efficiency=0.81)
    )
    assert battery.apply(1.0, 3600.0) == pytest.approx(1.0)
    assert battery.stored_kwh == pytest.approx(5.0 - 1.0 / 0.9)


def test_battery_charge_loses_sqrt_efficiency() -> None:
    """One AC kWh in stores sqrt(eff) kWh."""
    battery = Battery.from_config(
        BatteryConfig(initial_soc=50.0, round_trip_efficiency=0.81)
    )
    assert battery.apply(-1.0, 3600.0) == pytest.approx(-1.0)
    assert battery.stored_kwh == pytest.approx(5.0 + 0.9)


@pytest.mark.parametrize(
    ("request_kw", "floor", "ceiling", "soc_after"),
    [
        (5.0, 40.0, 100.0, 40.0),
        (-5.0, 0.0, 60.0, 60.0),
        (50.0, 0.0, 100.0, 50.0 - 5.0 / 3 / 10 * 100),
    ],
    ids=["stops_at_floor", "stops_at_ceiling", "power_capped_at_max"],
)
def test_battery_limits(
    request_kw: float, floor: float, ceiling: float, soc_after: float
) -> None:
    """The battery never passes its floor or ceiling and never exceeds its power limits."""
    battery = Battery.from_config(
        BatteryConfig(initial_soc=50.0, round_trip_efficiency=1.0)
    )
    battery.apply(request_kw, 1200.0, floor, ceiling)
    assert battery.soc_pct == pytest.approx(soc_after)


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2025, 6, 10), 24), (date(2025, 3, 30), 23), (date(2025, 10, 26), 25)],
    ids=["summer", "dst_spring", "dst_autumn"],
)
def test_local_day_length(day: date, hours: int) -> None:
    """Local days last 24 h, 23 h when clocks go forward, 25 h when they go back."""
    assert day_length_s(day, LONDON) == hours * 3600


@pytest.mark.parametrize(
    ("clock", "start", "end", "inside"),
    [
        (time(12), time(10), time(14), True),
        (time(14), time(10), time(14), False),
        (time(1), time(22), time(6), True),
        (time(12), time(22), time(6), False),
    ],
    ids=["inside", "end_excluded", "across_midnight", "outside_across_midnight"],
)
def test_in_window(clock: time, start: time, end: time, inside: bool) -> None:
    """Windows are half-open and may cross midnight."""
    assert in_window(clock, start, end) is inside


def test_one_way_efficiency_is_sqrt() -> None:
    """Each side of the round trip costs the square root of its efficiency."""
    assert BatteryConfig(round_trip_efficiency=0.9).one_way_efficiency == pytest.approx(
        math.sqrt(0.9)
    )
