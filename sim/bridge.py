"""Map a plant to Home Assistant entity states and back: pure, no Home Assistant imports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from .commands import Command, SetCutoff, SetDuration, SetEnable, SetPower
from .meters import (
    BATTERY_POWER,
    EXPORT_TODAY,
    FORECAST_TODAY,
    GRID_POWER,
    IMPORT_TODAY,
    PV_TODAY,
    SOC,
    SensorState,
)
from .plant import Published

SENSOR_ENTITIES: Final[dict[str, str]] = {
    SOC: "sensor.sim_battery_soc",
    PV_TODAY: "sensor.sim_pv_energy_today",
    EXPORT_TODAY: "sensor.sim_export_energy_today",
    IMPORT_TODAY: "sensor.sim_import_energy_today",
    GRID_POWER: "sensor.sim_grid_power",
    BATTERY_POWER: "sensor.sim_battery_power",
    FORECAST_TODAY: "sensor.sim_pv_forecast_today",
}
DEVICE_CLASSES: Final[dict[str, str]] = {
    SOC: "battery",
    PV_TODAY: "energy",
    EXPORT_TODAY: "energy",
    IMPORT_TODAY: "energy",
    GRID_POWER: "power",
    BATTERY_POWER: "power",
    FORECAST_TODAY: "energy",
}
FRIENDLY_NAMES: Final[dict[str, str]] = {
    SOC: "Sim battery SOC",
    PV_TODAY: "Sim PV energy today",
    EXPORT_TODAY: "Sim export energy today",
    IMPORT_TODAY: "Sim import energy today",
    GRID_POWER: "Sim grid power",
    BATTERY_POWER: "Sim battery power",
    FORECAST_TODAY: "Sim PV forecast today",
}
ENABLE_ENTITY: Final = "input_boolean.sim_force_discharge"
POWER_ENTITY: Final = "input_number.sim_discharge_power"
CUTOFF_ENTITY: Final = "input_number.sim_discharge_cutoff_soc"
DURATION_ENTITY: Final = "input_number.sim_discharge_duration"
CONTROL_ENTITIES: Final = (ENABLE_ENTITY, POWER_ENTITY, CUTOFF_ENTITY, DURATION_ENTITY)


@dataclass(frozen=True, slots=True, kw_only=True)
class EntityState:
    """One sensor state to write into Home Assistant."""

    entity_id: str
    state: str
    attributes: dict[str, Any]
    reported_at: datetime


def sensor_state(key: str, sensor: SensorState) -> EntityState:
    """Return the Home Assistant state of one published sensor."""
    attributes: dict[str, Any] = {
        "unit_of_measurement": sensor.unit,
        "device_class": DEVICE_CLASSES[key],
        "friendly_name": FRIENDLY_NAMES[key],
    }
    if key in (PV_TODAY, EXPORT_TODAY, IMPORT_TODAY):
        attributes["state_class"] = "total_increasing"
    elif key != FORECAST_TODAY:
        attributes["state_class"] = "measurement"
    return EntityState(
        entity_id=SENSOR_ENTITIES[key],
        state=sensor.state,
        attributes=attributes,
        reported_at=sensor.last_reported,
    )


def published_sensors(published: Published) -> dict[str, SensorState]:
    """Return the published sensors by key."""
    return {
        SOC: published.soc,
        PV_TODAY: published.pv_today,
        EXPORT_TODAY: published.export_today,
        IMPORT_TODAY: published.import_today,
        GRID_POWER: published.grid_power,
        BATTERY_POWER: published.battery_power,
        FORECAST_TODAY: published.forecast_today,
    }


def sensor_states(published: Published) -> list[EntityState]:
    """Return every published sensor as a Home Assistant state."""
    return [
        sensor_state(key, sensor)
        for key, sensor in published_sensors(published).items()
    ]


def reported_since(
    published: Published, previous: dict[str, datetime]
) -> list[EntityState]:
    """Return the sensor states reported after the times in `previous`."""
    return [
        state
        for state in sensor_states(published)
        if previous.get(state.entity_id) != state.reported_at
    ]


def command_for(entity_id: str, state: str) -> Command | None:
    """Return the inverter command a control entity's new state stands for."""
    if entity_id == ENABLE_ENTITY:
        return SetEnable(state == "on") if state in ("on", "off") else None
    try:
        value = float(state)
    except ValueError:
        return None
    if entity_id == POWER_ENTITY:
        return SetPower(value)
    if entity_id == CUTOFF_ENTITY:
        return SetCutoff(value)
    if entity_id == DURATION_ENTITY:
        return SetDuration(value)
    return None


def helper_config(max_power_kw: float = 5.0) -> dict[str, Any]:
    """Return the YAML-shaped config of the helper entities that act as the inverter."""
    return {
        "input_boolean": {"sim_force_discharge": {"name": "Sim force discharge"}},
        "input_number": {
            "sim_discharge_power": {
                "name": "Sim discharge power",
                "min": 0,
                "max": max_power_kw,
                "step": 0.1,
                "unit_of_measurement": "kW",
                "mode": "box",
            },
            "sim_discharge_cutoff_soc": {
                "name": "Sim discharge cutoff SOC",
                "min": 0,
                "max": 100,
                "step": 1,
                "unit_of_measurement": "%",
                "mode": "box",
            },
            "sim_discharge_duration": {
                "name": "Sim discharge duration",
                "min": 0,
                "max": 1440,
                "step": 1,
                "unit_of_measurement": "min",
                "mode": "box",
            },
        },
    }


def monitor_options(published: Published) -> dict[str, Any]:
    """Return export_monitor options that point at the simulated entities."""
    return {
        "soc_entity": SENSOR_ENTITIES[SOC],
        "pv_energy_today_entity": SENSOR_ENTITIES[PV_TODAY],
        "export_energy_today_entity": SENSOR_ENTITIES[EXPORT_TODAY],
        "grid_power_entity": SENSOR_ENTITIES[GRID_POWER],
        "grid_power_export_negative": published.grid_export_negative,
        "battery_power_entity": SENSOR_ENTITIES[BATTERY_POWER],
        "battery_power_discharge_positive": published.battery_discharge_positive,
        "forecast_today_entity": SENSOR_ENTITIES[FORECAST_TODAY],
        "discharge_switch_entity": ENABLE_ENTITY,
        "discharge_power_entity": POWER_ENTITY,
        "cutoff_soc_entity": CUTOFF_ENTITY,
        "discharge_duration_entity": DURATION_ENTITY,
    }
