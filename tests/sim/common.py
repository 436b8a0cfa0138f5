"""Shared builders and stepping helpers for the simulator tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sim.battery import BatteryConfig
from sim.inverter import InverterConfig
from sim.load import LoadConfig
from sim.meters import MeterConfig
from sim.plant import Plant, PlantConfig
from sim.pv import PvConfig

LONDON: Final = ZoneInfo("Europe/London")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return an aware London wall-clock moment."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def quiet_config(**changes: Any) -> PlantConfig:
    """Return a predictable plant: clear sky, flat 0.5 kW load, no spikes, prompt inverter."""
    config = PlantConfig(
        seed=1,
        pv=PvConfig(peak_kw=4.0, sunrise_h=6.0, sunset_h=20.0, cloudiness=0.0),
        load=LoadConfig(base_kw=0.5, morning_kw=0.0, evening_kw=0.0, spikes_per_day=0),
        battery=BatteryConfig(initial_soc=80.0),
        inverter=InverterConfig(latency_s=(0.0, 0.0)),
        meters=MeterConfig(update_interval_s=10.0),
    )
    return replace(config, **changes)


def run_for(plant: Plant, seconds: float, step_s: float = 1.0) -> None:
    """Step the plant for the given simulated seconds."""
    end = plant.elapsed_s + seconds
    while plant.elapsed_s < end - 1e-9:
        plant.step(min(step_s, end - plant.elapsed_s))


def seconds_since_start(plant: Plant, moment: datetime) -> float:
    """Return simulation seconds of an aware moment."""
    return round((moment - plant.start_utc).total_seconds(), 6)


def report_times(plant: Plant, sensor: str, seconds: float) -> list[float]:
    """Step 1 s at a time; return the distinct publish times (s since start) of a sensor."""
    times = {
        seconds_since_start(plant, getattr(plant.published(), sensor).last_reported)
    }
    end = plant.elapsed_s + seconds
    while plant.elapsed_s < end - 1e-9:
        plant.step(1.0)
        state = getattr(plant.published(), sensor)
        times.add(seconds_since_start(plant, state.last_reported))
    return sorted(times)


def energy_balance_error(plant: Plant) -> float:
    """Return |PV + discharge - charge - load - (export - import)| for the running day (kWh)."""
    t = plant.truth()
    supply = (
        t.pv_today_kwh + t.discharge_today_kwh - t.charge_today_kwh - t.load_today_kwh
    )
    return abs(supply - (t.export_today_kwh - t.import_today_kwh))
