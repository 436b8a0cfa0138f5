"""Constants of the Energy Export Monitor integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "export_monitor"
LOGGER: Final = logging.getLogger(__package__)
DEFAULT_TITLE: Final = "Export Monitor"

# Source entities (entry.options).
CONF_SOC_ENTITY: Final = "soc_entity"
CONF_PV_ENERGY_TODAY_ENTITY: Final = "pv_energy_today_entity"
CONF_EXPORT_ENERGY_TODAY_ENTITY: Final = "export_energy_today_entity"
CONF_GRID_POWER_ENTITY: Final = "grid_power_entity"
CONF_GRID_POWER_EXPORT_NEGATIVE: Final = "grid_power_export_negative"
CONF_BATTERY_POWER_ENTITY: Final = "battery_power_entity"
CONF_BATTERY_POWER_DISCHARGE_POSITIVE: Final = "battery_power_discharge_positive"
CONF_FORECAST_TODAY_ENTITY: Final = "forecast_today_entity"

# Actuator entities (entry.options).
CONF_DISCHARGE_SWITCH_ENTITY: Final = "discharge_switch_entity"
CONF_DISCHARGE_POWER_ENTITY: Final = "discharge_power_entity"
CONF_CUTOFF_SOC_ENTITY: Final = "cutoff_soc_entity"
CONF_DISCHARGE_DURATION_ENTITY: Final = "discharge_duration_entity"

# Inverter profile (entry.options, minor version 2): the profile's key, and its
# controls as {role: entity id} (a device id for the "device" role).
CONF_PROFILE: Final = "profile"
CONF_CONTROLS: Final = "controls"

# Tunables (entry.options).
CONF_SAFETY_MARGIN_KWH: Final = "safety_margin_kwh"
CONF_MIN_SOC: Final = "min_soc"
CONF_DISCHARGE_POWER_KW: Final = "discharge_power_kw"
CONF_DAILY_EXPORT_CAP_KWH: Final = "daily_export_cap_kwh"
CONF_FORECAST_CREDIT: Final = "forecast_credit"
CONF_FORECAST_CONFIDENCE: Final = "forecast_confidence"
CONF_BATTERY_CAPACITY_KWH: Final = "battery_capacity_kwh"
CONF_STALE_AFTER_SECONDS: Final = "stale_after_seconds"
CONF_EXPORT_WINDOW_START: Final = "export_window_start"
CONF_EXPORT_WINDOW_END: Final = "export_window_end"
CONF_AUTO_DISCHARGE: Final = "auto_discharge"
CONF_RESUME_WHEN_SAFE: Final = "resume_when_safe"
CONF_PV_PEAK_POWER_KW: Final = "pv_peak_power_kw"
CONF_INVERTER_MAX_POWER_KW: Final = "inverter_max_power_kw"
CONF_EXPORT_METER_INTERVAL_SECONDS: Final = "export_meter_interval_seconds"
CONF_EXPORT_METER_RESOLUTION_KWH: Final = "export_meter_resolution_kwh"
CONF_EXPORT_METER_DELAY_SECONDS: Final = "export_meter_delay_seconds"

DEFAULT_GRID_POWER_EXPORT_NEGATIVE: Final = True
DEFAULT_BATTERY_POWER_DISCHARGE_POSITIVE: Final = True
DEFAULT_SAFETY_MARGIN_KWH: Final = 0.5
DEFAULT_MIN_SOC: Final = 20.0
DEFAULT_DISCHARGE_POWER_KW: Final = 3.0
DEFAULT_FORECAST_CREDIT: Final = False
DEFAULT_FORECAST_CONFIDENCE: Final = 0.8
DEFAULT_BATTERY_CAPACITY_KWH: Final = 10.0
DEFAULT_STALE_AFTER_SECONDS: Final = 30
DEFAULT_EXPORT_WINDOW_START: Final = "00:00:00"
DEFAULT_EXPORT_WINDOW_END: Final = "23:59:59"
DEFAULT_AUTO_DISCHARGE: Final = False
DEFAULT_RESUME_WHEN_SAFE: Final = False
DEFAULT_PV_PEAK_POWER_KW: Final = 15.0
DEFAULT_INVERTER_MAX_POWER_KW: Final = 10.0
DEFAULT_EXPORT_METER_DELAY_SECONDS: Final = 0

MIN_STALE_AFTER_SECONDS: Final = 5

# Fixed intervals: never user options.
HEARTBEAT_INTERVAL: Final = timedelta(seconds=10)
SUPERVISION_INTERVAL: Final = timedelta(seconds=5)
ACTUATOR_TIMEOUT_SECONDS: Final = 5.0

# Services.
SERVICE_START_DISCHARGE: Final = "start_discharge"
SERVICE_STOP_DISCHARGE: Final = "stop_discharge"
SERVICE_CALCULATE_DISCHARGE: Final = "calculate_discharge"
SERVICE_GET_HISTORY: Final = "get_history"

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_POWER_KW: Final = "power_kw"
ATTR_DURATION_MINUTES: Final = "duration_minutes"
ATTR_TARGET_EXPORT_KWH: Final = "target_export_kwh"
ATTR_DAYS: Final = "days"
DEFAULT_HISTORY_DAYS: Final = 30

# Events.
EVENT_DISCHARGE_STARTED: Final = f"{DOMAIN}_discharge_started"
EVENT_DISCHARGE_STOPPED: Final = f"{DOMAIN}_discharge_stopped"
EVENT_ALLOWANCE_EXCEEDED: Final = f"{DOMAIN}_allowance_exceeded"
