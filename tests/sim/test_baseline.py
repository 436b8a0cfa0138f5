"""Tests of the baseline controller: its published algorithm and the flaw it carries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from sim.baseline import BaselineConfig, BaselineController, baseline_allowance_kwh
from sim.battery import BatteryConfig
from sim.commands import SetCutoff, SetDuration, SetEnable, SetPower
from sim.load import LoadConfig
from sim.meters import MeterConfig
from sim.plant import Plant, Published
from sim.pv import PvConfig
from sim.runner import IdleController, run_day

from .common import local, quiet_config, run_for

EVENING = local(2025, 6, 10, 16, 30)


def _published_at(start_hour: int, **changes: Any) -> Published:
    """Return what a quiet plant publishes after running from start_hour for an hour."""
    plant = Plant(quiet_config(**changes), local(2025, 6, 10, start_hour))
    run_for(plant, 3600.0, step_s=60.0)
    return plant.published()


def test_allowance_adds_margin_and_takes_forecast() -> None:
    """The earlier tool's allowance is max(PV, forecast) + margin - exported."""
    published = _published_at(12, forecast_error=(1.4, 1.4))
    pv = published.pv_today.value
    forecast = published.forecast_today.value
    exported = published.export_today.value
    assert pv is not None
    assert forecast is not None
    assert exported is not None
    assert forecast > pv
    assert baseline_allowance_kwh(published, 0.5) == pytest.approx(
        forecast + 0.5 - exported
    )


def test_starts_inside_window_with_fixed_duration() -> None:
    """Inside its window it writes power, cutoff, duration (allowance / power) and enable."""
    published = _published_at(15)
    allowance = baseline_allowance_kwh(published, 0.5)
    assert allowance is not None
    commands = BaselineController().decide(published, EVENING)
    assert commands == [
        SetPower(3.0),
        SetCutoff(20.0),
        SetDuration(allowance / 3.0 * 60.0),
        SetEnable(True),
    ]


@pytest.mark.parametrize(
    ("config", "now"),
    [
        (BaselineConfig(), local(2025, 6, 10, 12)),
        (BaselineConfig(min_soc=100.0), EVENING),
        (BaselineConfig(safety_margin_kwh=-100.0), EVENING),
    ],
    ids=["outside_window", "soc_at_min", "no_allowance"],
)
def test_does_not_start(config: BaselineConfig, now: datetime) -> None:
    """It stays idle outside its window, at minimum SOC, or with no allowance."""
    controller = BaselineController(config)
    assert controller.decide(_published_at(15), now) == []
    assert not controller.running


def test_stops_by_time_only() -> None:
    """Once started it ignores the meter and stops exactly when its duration is up."""
    published = _published_at(15)
    controller = BaselineController()
    minutes = controller.decide(published, EVENING)[2]
    assert isinstance(minutes, SetDuration)
    end = EVENING + timedelta(minutes=minutes.minutes)
    assert controller.decide(published, end - timedelta(seconds=1)) == []
    assert controller.decide(published, end) == [SetEnable(False)]
    assert controller.decide(published, end + timedelta(seconds=1)) == []


def _overcast_plant() -> Plant:
    """Return an overcast day whose forecast is 40 % high, battery nearly full."""
    config = quiet_config(
        seed=5,
        pv=PvConfig(peak_kw=1.5, sunrise_h=6.0, sunset_h=20.0, cloudiness=0.85),
        load=LoadConfig(base_kw=0.2, morning_kw=0.0, evening_kw=0.0, spikes_per_day=0),
        battery=BatteryConfig(initial_soc=95.0),
        meters=MeterConfig(update_interval_s=60.0),
        forecast_error=(1.4, 1.4),
    )
    return Plant(config, local(2025, 6, 10))


def test_baseline_over_exports_when_forecast_is_high() -> None:
    """On a cloudy day with a high forecast the baseline breaches; idling does not."""
    plant = _overcast_plant()
    baseline = run_day(plant, BaselineController(), 10.0)
    idle = run_day(_overcast_plant(), IdleController(), 10.0)
    assert plant.truth().previous_day is not None
    assert baseline.over_export_kwh > 3.0
    assert baseline.max_over_export_kwh >= baseline.over_export_kwh
    assert idle.over_export_kwh == 0.0
    assert baseline.totals.pv_kwh < 0.8 * _overcast_plant().truth().forecast_today_kwh
