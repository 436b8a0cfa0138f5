"""Tests of typed settings built from the config entry's options."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from custom_components.export_monitor.logic.allowance import ExportLimits
from custom_components.export_monitor.logic.settings import (
    MonitorSettings,
    settings_from_options,
)

# The defaults written in CONTRACT.md, spelled out rather than imported.
CONTRACT_DEFAULTS = MonitorSettings(
    limits=ExportLimits(
        safety_margin_kwh=0.5,
        daily_export_cap_kwh=None,
        forecast_credit=False,
        forecast_confidence=0.8,
    ),
    min_soc=20.0,
    discharge_power_kw=3.0,
    battery_capacity_kwh=10.0,
    stale_after_seconds=30.0,
    window_start=time(0, 0, 0),
    window_end=time(23, 59, 59),
    auto_discharge=False,
    grid_power_export_negative=True,
    battery_power_discharge_positive=True,
    resume_when_safe=False,
)


def test_defaults_follow_the_contract() -> None:
    """Options holding only source entities get every default from CONTRACT.md."""
    options = {
        "soc_entity": "sensor.soc",
        "pv_energy_today_entity": "sensor.pv_today",
        "export_energy_today_entity": "sensor.export_today",
    }
    assert settings_from_options(options) == CONTRACT_DEFAULTS


def test_values_are_read_and_typed() -> None:
    """Every tunable is read from its contract key and converted to its type."""
    options: dict[str, Any] = {
        "safety_margin_kwh": 1,
        "min_soc": "25",
        "discharge_power_kw": 4.5,
        "daily_export_cap_kwh": "12.5",
        "forecast_credit": True,
        "forecast_confidence": 0.6,
        "battery_capacity_kwh": 13.5,
        "stale_after_seconds": 60,
        "export_window_start": "22:00:00",
        "export_window_end": "06:30",
        "auto_discharge": True,
        "grid_power_export_negative": False,
        "battery_power_discharge_positive": False,
        "resume_when_safe": True,
    }
    assert settings_from_options(options) == MonitorSettings(
        limits=ExportLimits(
            safety_margin_kwh=1.0,
            daily_export_cap_kwh=12.5,
            forecast_credit=True,
            forecast_confidence=0.6,
        ),
        min_soc=25.0,
        discharge_power_kw=4.5,
        battery_capacity_kwh=13.5,
        stale_after_seconds=60.0,
        window_start=time(22, 0),
        window_end=time(6, 30),
        auto_discharge=True,
        grid_power_export_negative=False,
        battery_power_discharge_positive=False,
        resume_when_safe=True,
    )


def test_cap_left_empty_means_no_cap() -> None:
    """A cap stored as None is no cap."""
    settings = settings_from_options({"daily_export_cap_kwh": None})
    assert settings.limits.daily_export_cap_kwh is None


MALFORMED: dict[str, object] = {
    "empty": "",
    "words": "evening",
    "hour_25": "25:00:00",
    "minute_60": "12:60",
    "none": None,
    "number": 800,
    "with_offset": "08:00:00+02:00",
}


@pytest.mark.parametrize("value", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_window_times_fall_back(value: object) -> None:
    """A malformed window start or end falls back to the whole day."""
    settings = settings_from_options(
        {"export_window_start": value, "export_window_end": value}
    )
    assert (settings.window_start, settings.window_end) == (time(0), time(23, 59, 59))


def test_window_time_objects_are_accepted() -> None:
    """A window stored as a time object (not text) is read as that time."""
    settings = settings_from_options(
        {"export_window_start": time(9, 15), "export_window_end": time(16, 45, 30)}
    )
    assert (settings.window_start, settings.window_end) == (
        time(9, 15),
        time(16, 45, 30),
    )
