"""Tests of the config, options and reconfigure flows."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Mapping
import json
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_IGNORE, SOURCE_USER, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.selector import DeviceSelector
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.export_monitor import profiles
from custom_components.export_monitor.config_schema import (
    LIMITS_SCHEMA,
    SOURCES_SCHEMA,
    controls_schema,
    profile_schema,
)
from custom_components.export_monitor.const import (
    CONF_AUTO_DISCHARGE,
    CONF_BATTERY_CAPACITY_KWH,
    CONF_BATTERY_POWER_DISCHARGE_POSITIVE,
    CONF_BATTERY_POWER_ENTITY,
    CONF_CONTROLS,
    CONF_DAILY_EXPORT_CAP_KWH,
    CONF_DISCHARGE_POWER_KW,
    CONF_EXPORT_ENERGY_TODAY_ENTITY,
    CONF_EXPORT_METER_DELAY_SECONDS,
    CONF_EXPORT_METER_INTERVAL_SECONDS,
    CONF_EXPORT_METER_RESOLUTION_KWH,
    CONF_EXPORT_WINDOW_END,
    CONF_EXPORT_WINDOW_START,
    CONF_FORECAST_CONFIDENCE,
    CONF_FORECAST_CREDIT,
    CONF_FORECAST_TODAY_ENTITY,
    CONF_GRID_POWER_ENTITY,
    CONF_GRID_POWER_EXPORT_NEGATIVE,
    CONF_INVERTER_MAX_POWER_KW,
    CONF_MIN_SOC,
    CONF_PROFILE,
    CONF_PV_ENERGY_TODAY_ENTITY,
    CONF_PV_PEAK_POWER_KW,
    CONF_RESUME_WHEN_SAFE,
    CONF_SAFETY_MARGIN_KWH,
    CONF_SOC_ENTITY,
    CONF_STALE_AFTER_SECONDS,
    DEFAULT_AUTO_DISCHARGE,
    DEFAULT_BATTERY_CAPACITY_KWH,
    DEFAULT_BATTERY_POWER_DISCHARGE_POSITIVE,
    DEFAULT_DISCHARGE_POWER_KW,
    DEFAULT_EXPORT_METER_DELAY_SECONDS,
    DEFAULT_EXPORT_WINDOW_END,
    DEFAULT_EXPORT_WINDOW_START,
    DEFAULT_FORECAST_CONFIDENCE,
    DEFAULT_FORECAST_CREDIT,
    DEFAULT_GRID_POWER_EXPORT_NEGATIVE,
    DEFAULT_MIN_SOC,
    DEFAULT_PV_PEAK_POWER_KW,
    DEFAULT_RESUME_WHEN_SAFE,
    DEFAULT_SAFETY_MARGIN_KWH,
    DEFAULT_STALE_AFTER_SECONDS,
    DEFAULT_TITLE,
    DOMAIN,
)
from custom_components.export_monitor.profiles import DEFAULT_PROFILE, PROFILES
from custom_components.export_monitor.profiles.base import (
    NUMBER_DOMAINS,
    SENSOR_DOMAINS,
    Control,
    InverterProfile,
    Role,
)
from custom_components.export_monitor.profiles.suggest import is_required
from tests.profiles.sample import VENDOR_PROFILE

TRANSLATIONS = Path(__file__).parents[1] / (
    "custom_components/export_monitor/translations/en.json"
)

SOURCES: dict[str, Any] = {
    CONF_SOC_ENTITY: "sensor.battery_soc",
    CONF_PV_ENERGY_TODAY_ENTITY: "sensor.pv_energy_today",
    CONF_EXPORT_ENERGY_TODAY_ENTITY: "sensor.export_energy_today",
    CONF_GRID_POWER_ENTITY: "sensor.grid_power",
    CONF_GRID_POWER_EXPORT_NEGATIVE: True,
    CONF_BATTERY_POWER_ENTITY: "sensor.battery_power",
    CONF_BATTERY_POWER_DISCHARGE_POSITIVE: False,
    CONF_FORECAST_TODAY_ENTITY: "sensor.solar_forecast_today",
}
REQUIRED_SOURCES: dict[str, Any] = {
    CONF_SOC_ENTITY: "sensor.battery_soc",
    CONF_PV_ENERGY_TODAY_ENTITY: "sensor.pv_energy_today",
    CONF_EXPORT_ENERGY_TODAY_ENTITY: "sensor.export_energy_today",
}
ENABLE = Role.ENABLE.value
POWER = Role.POWER.value
CUTOFF = Role.CUTOFF.value
TIMER = Role.TIMER.value
DEVICE = Role.DEVICE.value
GENERIC: dict[str, Any] = {CONF_PROFILE: DEFAULT_PROFILE}


def _generic(controls: Mapping[str, str]) -> dict[str, Any]:
    """Return the options that store the generic profile with these controls."""
    return {CONF_PROFILE: DEFAULT_PROFILE, CONF_CONTROLS: dict(controls)}


CONTROLS: dict[str, Any] = {
    ENABLE: "input_boolean.force_discharge",
    POWER: "input_number.discharge_power",
    CUTOFF: "number.cutoff_soc",
    TIMER: "input_number.discharge_duration",
}
REQUIRED_CONTROLS: dict[str, Any] = {
    ENABLE: "switch.inverter_force_discharge",
    POWER: "number.discharge_power_watts",
    CUTOFF: "input_number.cutoff_soc",
}
LIMITS: dict[str, Any] = {
    CONF_SAFETY_MARGIN_KWH: 0.75,
    CONF_DAILY_EXPORT_CAP_KWH: 15.0,
    CONF_MIN_SOC: 25.0,
    CONF_DISCHARGE_POWER_KW: 4.5,
    CONF_BATTERY_CAPACITY_KWH: 13.5,
    CONF_FORECAST_CREDIT: True,
    CONF_FORECAST_CONFIDENCE: 0.7,
    CONF_EXPORT_WINDOW_START: "16:00:00",
    CONF_EXPORT_WINDOW_END: "06:30:00",
    CONF_AUTO_DISCHARGE: True,
    CONF_RESUME_WHEN_SAFE: True,
    CONF_STALE_AFTER_SECONDS: 45,
    CONF_PV_PEAK_POWER_KW: 8.5,
    CONF_INVERTER_MAX_POWER_KW: 6.0,
    CONF_EXPORT_METER_INTERVAL_SECONDS: 60,
    CONF_EXPORT_METER_RESOLUTION_KWH: 0.01,
    CONF_EXPORT_METER_DELAY_SECONDS: 30,
}
DEFAULT_LIMITS: dict[str, Any] = {
    CONF_SAFETY_MARGIN_KWH: DEFAULT_SAFETY_MARGIN_KWH,
    CONF_MIN_SOC: DEFAULT_MIN_SOC,
    CONF_DISCHARGE_POWER_KW: DEFAULT_DISCHARGE_POWER_KW,
    CONF_BATTERY_CAPACITY_KWH: DEFAULT_BATTERY_CAPACITY_KWH,
    CONF_FORECAST_CREDIT: DEFAULT_FORECAST_CREDIT,
    CONF_FORECAST_CONFIDENCE: DEFAULT_FORECAST_CONFIDENCE,
    CONF_EXPORT_WINDOW_START: DEFAULT_EXPORT_WINDOW_START,
    CONF_EXPORT_WINDOW_END: DEFAULT_EXPORT_WINDOW_END,
    CONF_AUTO_DISCHARGE: DEFAULT_AUTO_DISCHARGE,
    CONF_RESUME_WHEN_SAFE: DEFAULT_RESUME_WHEN_SAFE,
    CONF_STALE_AFTER_SECONDS: DEFAULT_STALE_AFTER_SECONDS,
    CONF_PV_PEAK_POWER_KW: DEFAULT_PV_PEAK_POWER_KW,
    CONF_EXPORT_METER_DELAY_SECONDS: DEFAULT_EXPORT_METER_DELAY_SECONDS,
}
OPTIONS: dict[str, Any] = SOURCES | _generic(CONTROLS) | LIMITS

# Every option changed, for the options flow.
NEW_SOURCES: dict[str, Any] = {
    CONF_SOC_ENTITY: "sensor.other_soc",
    CONF_PV_ENERGY_TODAY_ENTITY: "sensor.other_pv_energy",
    CONF_EXPORT_ENERGY_TODAY_ENTITY: "sensor.other_export_energy",
    CONF_GRID_POWER_ENTITY: "sensor.other_grid_power",
    CONF_GRID_POWER_EXPORT_NEGATIVE: False,
    CONF_BATTERY_POWER_ENTITY: "sensor.other_battery_power",
    CONF_BATTERY_POWER_DISCHARGE_POSITIVE: True,
    CONF_FORECAST_TODAY_ENTITY: "sensor.other_forecast",
}
NEW_CONTROLS: dict[str, Any] = {
    ENABLE: "switch.inverter_force_discharge",
    POWER: "number.discharge_power_watts",
    CUTOFF: "input_number.cutoff_soc",
    TIMER: "number.discharge_duration",
}
NEW_LIMITS: dict[str, Any] = {
    CONF_SAFETY_MARGIN_KWH: 0.0,
    CONF_DAILY_EXPORT_CAP_KWH: 8.0,
    CONF_MIN_SOC: 10.0,
    CONF_DISCHARGE_POWER_KW: 2.0,
    CONF_BATTERY_CAPACITY_KWH: 9.5,
    CONF_FORECAST_CREDIT: False,
    CONF_FORECAST_CONFIDENCE: 0.5,
    CONF_EXPORT_WINDOW_START: "18:00:00",
    CONF_EXPORT_WINDOW_END: "22:15:00",
    CONF_AUTO_DISCHARGE: False,
    CONF_RESUME_WHEN_SAFE: False,
    CONF_STALE_AFTER_SECONDS: 120,
    CONF_PV_PEAK_POWER_KW: 4.0,
    CONF_INVERTER_MAX_POWER_KW: 3.0,
    CONF_EXPORT_METER_INTERVAL_SECONDS: 300,
    CONF_EXPORT_METER_RESOLUTION_KWH: 0.1,
    CONF_EXPORT_METER_DELAY_SECONDS: 120,
}

ERROR_KEYS = {
    "entity_not_found",
    "not_numeric",
    "invalid_unit",
    "same_entity",
    "invalid_time",
    "cap_below_margin",
    "min_soc_too_high",
    "invalid_duration_unit",
    "inverter_max_below_power",
    "invalid_cutoff_unit",
    "missing_option",
    "device_not_found",
}

# entity_id: (state, attributes)
SENSOR_STATES: dict[str, tuple[str, dict[str, Any]]] = {
    "sensor.battery_soc": (
        "80",
        {"unit_of_measurement": "%", "device_class": "battery"},
    ),
    "sensor.pv_energy_today": (
        "12.5",
        {"unit_of_measurement": "kWh", "device_class": "energy"},
    ),
    "sensor.export_energy_today": (
        "3200",
        {"unit_of_measurement": "Wh", "device_class": "energy"},
    ),
    "sensor.grid_power": (
        "-1.5",
        {"unit_of_measurement": "kW", "device_class": "power"},
    ),
    "sensor.battery_power": (
        "1500",
        {"unit_of_measurement": "W", "device_class": "power"},
    ),
    "sensor.solar_forecast_today": ("20.1", {"unit_of_measurement": "kWh"}),
    "sensor.other_soc": ("55", {"unit_of_measurement": "%", "device_class": "battery"}),
    "sensor.other_pv_energy": (
        "0.02",
        {"unit_of_measurement": "MWh", "device_class": "energy"},
    ),
    "sensor.other_export_energy": (
        "1.0",
        {"unit_of_measurement": "kWh", "device_class": "energy"},
    ),
    "sensor.other_grid_power": (
        "250",
        {"unit_of_measurement": "W", "device_class": "power"},
    ),
    "sensor.other_battery_power": (
        "0.001",
        {"unit_of_measurement": "MW", "device_class": "power"},
    ),
    "sensor.other_forecast": (
        "18000",
        {"unit_of_measurement": "Wh", "device_class": "energy"},
    ),
    "sensor.soc_unknown": (
        "unknown",
        {"unit_of_measurement": "%", "device_class": "battery"},
    ),
    "sensor.soc_nan": ("nan", {"unit_of_measurement": "%", "device_class": "battery"}),
    "sensor.soc_no_unit": ("0.8", {"device_class": "battery"}),
    "sensor.pv_power": ("2000", {"unit_of_measurement": "W", "device_class": "power"}),
    "sensor.export_text": (
        "lots",
        {"unit_of_measurement": "kWh", "device_class": "energy"},
    ),
    "sensor.grid_energy": (
        "5",
        {"unit_of_measurement": "kWh", "device_class": "energy"},
    ),
    "sensor.forecast_percent": ("70", {"unit_of_measurement": "%"}),
    "switch.inverter_force_discharge": ("unavailable", {}),
    "number.cutoff_soc": ("10", {"unit_of_measurement": "%"}),
    "number.discharge_power_watts": ("3000", {"unit_of_measurement": "W"}),
    "number.discharge_power_no_unit": ("3.0", {}),
    "number.discharge_power_percent": ("100", {"unit_of_measurement": "%"}),
    "number.discharge_power_unavailable": (
        "unavailable",
        {"unit_of_measurement": "kW"},
    ),
    "number.cutoff_soc_unavailable": ("unavailable", {"unit_of_measurement": "%"}),
    "number.discharge_duration": ("60", {"unit_of_measurement": "min"}),
    "number.discharge_duration_text": ("forever", {"unit_of_measurement": "min"}),
    "number.discharge_duration_days": ("1", {"unit_of_measurement": "d"}),
    "number.discharge_duration_no_unit": ("60", {}),
    "number.discharge_duration_seconds": ("600", {"unit_of_measurement": "s"}),
}
HELPERS: dict[str, dict[str, Any]] = {
    "input_boolean": {"force_discharge": {"name": "Force discharge"}},
    "input_number": {
        "discharge_power": {
            "min": 0,
            "max": 10,
            "step": 0.1,
            "initial": 3,
            "unit_of_measurement": "kW",
        },
        "cutoff_soc": {"min": 0, "max": 100, "initial": 15, "unit_of_measurement": "%"},
        "discharge_duration": {
            "min": 1,
            "max": 1440,
            "initial": 60,
            "unit_of_measurement": "min",
        },
    },
}


@pytest.fixture(autouse=True)
def offer_every_profile() -> Generator[None]:
    """Offer every profile in the setup: the flow must work for any profile once offered."""
    with patch.object(profiles, "OFFERED", frozenset(PROFILES) | {VENDOR_PROFILE.key}):
        yield


@pytest.fixture(autouse=True)
def mock_setup_entry() -> Generator[AsyncMock]:
    """Stand in for the integration's setup, so only the flows run."""
    with patch(
        "custom_components.export_monitor.async_setup_entry", return_value=True
    ) as mock:
        yield mock


@pytest.fixture(autouse=True)
def mock_unload_entry() -> Generator[AsyncMock]:
    """Stand in for the integration's unload, so reloads can be counted."""
    with patch(
        "custom_components.export_monitor.async_unload_entry", return_value=True
    ) as mock:
        yield mock


@pytest.fixture(autouse=True)
async def unload_entries_while_patched(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, mock_unload_entry: AsyncMock
) -> AsyncGenerator[None]:
    """Unload the entries while setup and unload are still patched."""
    yield
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components."""


@pytest.fixture(autouse=True)
async def source_entities(hass: HomeAssistant) -> None:
    """Create the sensors, numbers, switches and helpers the flows point at."""
    for entity_id, (state, attributes) in SENSOR_STATES.items():
        hass.states.async_set(entity_id, state, attributes)
    assert await async_setup_component(hass, "input_boolean", HELPERS)
    assert await async_setup_component(hass, "input_number", HELPERS)
    await hass.async_block_till_done()


@pytest.fixture
async def loaded_entry(hass: HomeAssistant) -> MockConfigEntry:
    """Add a fully configured, loaded entry."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=DEFAULT_TITLE,
        data={},
        options=OPTIONS,
        version=1,
        minor_version=2,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _suggested(result: ConfigFlowResult) -> dict[str, Any]:
    """Return the suggested values a form shows, keyed by field."""
    schema = result["data_schema"]
    assert schema is not None
    return {
        marker.schema: marker.description["suggested_value"]
        for marker in schema.schema
        if marker.description and "suggested_value" in marker.description
    }


async def _async_start(hass: HomeAssistant) -> ConfigFlowResult:
    """Start a user config flow."""
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )


async def _async_configure(
    hass: HomeAssistant, result: ConfigFlowResult, user_input: Mapping[str, Any]
) -> ConfigFlowResult:
    """Submit one step of a config flow."""
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(user_input)
    )


async def _async_options(
    hass: HomeAssistant, result: ConfigFlowResult, user_input: Mapping[str, Any]
) -> ConfigFlowResult:
    """Submit one step of an options flow."""
    return await hass.config_entries.options.async_configure(
        result["flow_id"], dict(user_input)
    )


async def test_user_flow_creates_entry(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    """Sources, controls and limits make an entry with everything in options."""
    result = await _async_start(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await _async_configure(hass, result, SOURCES)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "profile"
    assert result["errors"] == {}
    assert _suggested(result) == GENERIC

    result = await _async_configure(hass, result, GENERIC)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "controls"
    assert result["errors"] == {}

    result = await _async_configure(hass, result, CONTROLS)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "limits"
    assert result["errors"] == {}

    result = await _async_configure(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == DEFAULT_TITLE
    assert result["data"] == {}
    assert result["options"] == OPTIONS
    assert result["result"].version == 1
    assert result["result"].minor_version == 2
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


async def test_user_flow_defaults(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    """Only the required fields: optional ones stay out, tunables take defaults."""
    result = await _async_start(hass)
    result = await _async_configure(hass, result, REQUIRED_SOURCES)
    result = await _async_configure(hass, result, GENERIC)
    result = await _async_configure(hass, result, REQUIRED_CONTROLS)
    result = await _async_configure(hass, result, {})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (
        result["options"]
        == REQUIRED_SOURCES
        | {
            CONF_GRID_POWER_EXPORT_NEGATIVE: DEFAULT_GRID_POWER_EXPORT_NEGATIVE,
            CONF_BATTERY_POWER_DISCHARGE_POSITIVE: DEFAULT_BATTERY_POWER_DISCHARGE_POSITIVE,
        }
        | _generic(REQUIRED_CONTROLS)
        | DEFAULT_LIMITS
    )


@pytest.mark.parametrize(
    ("field", "entity_id", "error"),
    [
        (CONF_SOC_ENTITY, "sensor.missing", "entity_not_found"),
        (CONF_SOC_ENTITY, "sensor.soc_unknown", "not_numeric"),
        (CONF_SOC_ENTITY, "sensor.soc_nan", "not_numeric"),
        (CONF_SOC_ENTITY, "sensor.soc_no_unit", "invalid_unit"),
        (CONF_PV_ENERGY_TODAY_ENTITY, "sensor.pv_power", "invalid_unit"),
        (CONF_EXPORT_ENERGY_TODAY_ENTITY, "sensor.export_text", "not_numeric"),
        (CONF_EXPORT_ENERGY_TODAY_ENTITY, "sensor.pv_energy_today", "same_entity"),
        (CONF_GRID_POWER_ENTITY, "sensor.grid_energy", "invalid_unit"),
        (CONF_BATTERY_POWER_ENTITY, "sensor.missing", "entity_not_found"),
        (CONF_BATTERY_POWER_ENTITY, "sensor.grid_power", "same_entity"),
        (CONF_FORECAST_TODAY_ENTITY, "sensor.forecast_percent", "invalid_unit"),
    ],
    ids=[
        "soc_missing",
        "soc_unknown",
        "soc_nan",
        "soc_no_unit",
        "pv_is_power",
        "export_not_number",
        "export_same_as_pv",
        "grid_power_is_energy",
        "battery_power_missing",
        "battery_power_same_as_grid",
        "forecast_in_percent",
    ],
)
async def test_user_step_error_recovers(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    field: str,
    entity_id: str,
    error: str,
) -> None:
    """A bad source is flagged on its field; fixing it finishes the flow."""
    result = await _async_start(hass)
    result = await _async_configure(hass, result, SOURCES | {field: entity_id})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {field: error}
    assert _suggested(result)[field] == entity_id

    result = await _async_configure(hass, result, SOURCES)
    result = await _async_configure(hass, result, GENERIC)
    result = await _async_configure(hass, result, CONTROLS)
    result = await _async_configure(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == OPTIONS


@pytest.mark.parametrize(
    ("field", "entity_id", "error"),
    [
        (ENABLE, "switch.missing", "entity_not_found"),
        (POWER, "number.missing", "entity_not_found"),
        (
            POWER,
            "number.discharge_power_unavailable",
            "not_numeric",
        ),
        (POWER, "number.discharge_power_percent", "invalid_unit"),
        (CUTOFF, "number.cutoff_soc_unavailable", "not_numeric"),
        (TIMER, "input_number.missing", "entity_not_found"),
        (
            TIMER,
            "number.discharge_duration_text",
            "not_numeric",
        ),
        (
            TIMER,
            "number.discharge_duration_days",
            "invalid_duration_unit",
        ),
        (
            TIMER,
            "number.discharge_duration_no_unit",
            "invalid_duration_unit",
        ),
    ],
    ids=[
        "switch_missing",
        "power_missing",
        "power_unavailable",
        "power_in_percent",
        "cutoff_unavailable",
        "duration_missing",
        "duration_not_number",
        "duration_in_days",
        "duration_without_unit",
    ],
)
async def test_controls_step_error_recovers(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    field: str,
    entity_id: str,
    error: str,
) -> None:
    """A bad control is flagged on its field; fixing it finishes the flow."""
    result = await _async_start(hass)
    result = await _async_configure(hass, result, SOURCES)
    result = await _async_configure(hass, result, GENERIC)
    result = await _async_configure(hass, result, CONTROLS | {field: entity_id})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "controls"
    assert result["errors"] == {field: error}

    result = await _async_configure(hass, result, CONTROLS)
    result = await _async_configure(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == OPTIONS


@pytest.mark.parametrize(
    "entity_id",
    [
        "input_number.discharge_power",
        "number.discharge_power_watts",
        "number.discharge_power_no_unit",
    ],
    ids=["kilowatts", "watts", "no_unit_means_kilowatts"],
)
async def test_power_setpoint_units_accepted(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, entity_id: str
) -> None:
    """The power setpoint may be in W, kW or have no unit."""
    controls = CONTROLS | {POWER: entity_id}
    result = await _async_start(hass)
    result = await _async_configure(hass, result, SOURCES)
    result = await _async_configure(hass, result, GENERIC)
    result = await _async_configure(hass, result, controls)
    result = await _async_configure(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == SOURCES | _generic(controls) | LIMITS


@pytest.mark.parametrize(
    ("limits", "errors"),
    [
        ({CONF_MIN_SOC: 100.0}, {CONF_MIN_SOC: "min_soc_too_high"}),
        (
            {CONF_DAILY_EXPORT_CAP_KWH: 0.75},
            {CONF_DAILY_EXPORT_CAP_KWH: "cap_below_margin"},
        ),
        (
            {CONF_SAFETY_MARGIN_KWH: 20.0},
            {CONF_DAILY_EXPORT_CAP_KWH: "cap_below_margin"},
        ),
        (
            {CONF_EXPORT_WINDOW_START: "7:30"},
            {CONF_EXPORT_WINDOW_START: "invalid_time"},
        ),
        (
            {CONF_INVERTER_MAX_POWER_KW: 4.0},
            {CONF_INVERTER_MAX_POWER_KW: "inverter_max_below_power"},
        ),
        (
            {CONF_EXPORT_WINDOW_END: "7:45:00"},
            {CONF_EXPORT_WINDOW_END: "invalid_time"},
        ),
        (
            {
                CONF_MIN_SOC: 100.0,
                CONF_DAILY_EXPORT_CAP_KWH: 0.5,
                CONF_EXPORT_WINDOW_START: "7:30",
                CONF_EXPORT_WINDOW_END: "7:45",
            },
            {
                CONF_MIN_SOC: "min_soc_too_high",
                CONF_DAILY_EXPORT_CAP_KWH: "cap_below_margin",
                CONF_EXPORT_WINDOW_START: "invalid_time",
                CONF_EXPORT_WINDOW_END: "invalid_time",
            },
        ),
    ],
    ids=[
        "min_soc_full",
        "cap_equals_margin",
        "margin_above_cap",
        "start_not_iso",
        "inverter_below_power",
        "end_not_iso",
        "all_at_once",
    ],
)
async def test_limits_step_error_recovers(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    limits: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Limits the schema lets through are checked; fixing them finishes."""
    result = await _async_start(hass)
    result = await _async_configure(hass, result, SOURCES)
    result = await _async_configure(hass, result, GENERIC)
    result = await _async_configure(hass, result, CONTROLS)
    result = await _async_configure(hass, result, LIMITS | limits)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "limits"
    assert result["errors"] == errors

    result = await _async_configure(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == OPTIONS


@pytest.mark.parametrize(
    "limits",
    [
        {CONF_SAFETY_MARGIN_KWH: -0.1},
        {CONF_DAILY_EXPORT_CAP_KWH: 0},
        {CONF_MIN_SOC: -1},
        {CONF_MIN_SOC: 101},
        {CONF_DISCHARGE_POWER_KW: 0.05},
        {CONF_DISCHARGE_POWER_KW: 51},
        {CONF_BATTERY_CAPACITY_KWH: 0},
        {CONF_FORECAST_CONFIDENCE: 1.5},
        {CONF_FORECAST_CONFIDENCE: -0.1},
        {CONF_STALE_AFTER_SECONDS: 4},
        {CONF_EXPORT_WINDOW_START: "25:00:00"},
        {CONF_PV_PEAK_POWER_KW: 0},
        {CONF_EXPORT_METER_INTERVAL_SECONDS: 0},
        {CONF_EXPORT_METER_RESOLUTION_KWH: 0},
        {CONF_EXPORT_METER_DELAY_SECONDS: -1},
    ],
    ids=[
        "negative_margin",
        "zero_cap",
        "negative_min_soc",
        "min_soc_over_100",
        "power_too_low",
        "power_too_high",
        "no_capacity",
        "confidence_over_1",
        "confidence_negative",
        "stale_below_5s",
        "hour_25",
        "no_pv_peak",
        "meter_interval_zero",
        "meter_resolution_zero",
        "meter_delay_negative",
    ],
)
async def test_limits_schema_rejects_then_recovers(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, limits: dict[str, Any]
) -> None:
    """Out-of-range numbers are refused by the form; valid ones then finish."""
    result = await _async_start(hass)
    result = await _async_configure(hass, result, SOURCES)
    result = await _async_configure(hass, result, GENERIC)
    result = await _async_configure(hass, result, CONTROLS)
    with pytest.raises(InvalidData):
        await _async_configure(hass, result, LIMITS | limits)

    result = await _async_configure(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == OPTIONS


async def test_stale_after_is_stored_as_int(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    """The number box gives a float; the option is a whole number of seconds."""
    result = await _async_start(hass)
    result = await _async_configure(hass, result, SOURCES)
    result = await _async_configure(hass, result, GENERIC)
    result = await _async_configure(hass, result, CONTROLS)
    result = await _async_configure(
        hass, result, LIMITS | {CONF_STALE_AFTER_SECONDS: 45.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert type(result["options"][CONF_STALE_AFTER_SECONDS]) is int


async def test_duplicate_aborts(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    """Another entry with the same SOC and export sensors aborts the setup."""
    MockConfigEntry(domain=DOMAIN, options=OPTIONS).add_to_hass(hass)
    result = await _async_start(hass)
    result = await _async_configure(hass, result, REQUIRED_SOURCES)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_ignored_entry_does_not_block(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    """An ignored entry with the same sensors does not count as configured."""
    MockConfigEntry(domain=DOMAIN, options=OPTIONS, source=SOURCE_IGNORE).add_to_hass(
        hass
    )
    result = await _async_start(hass)
    result = await _async_configure(hass, result, SOURCES)
    result = await _async_configure(hass, result, GENERIC)
    result = await _async_configure(hass, result, CONTROLS)
    result = await _async_configure(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_second_monitor_with_other_export_meter(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    """Sharing only the SOC sensor with another entry is allowed."""
    MockConfigEntry(domain=DOMAIN, options=OPTIONS).add_to_hass(hass)
    sources = SOURCES | {CONF_EXPORT_ENERGY_TODAY_ENTITY: "sensor.other_export_energy"}
    result = await _async_start(hass)
    result = await _async_configure(hass, result, sources)
    result = await _async_configure(hass, result, GENERIC)
    result = await _async_configure(hass, result, CONTROLS)
    result = await _async_configure(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == OPTIONS | sources


async def test_options_flow_edits_every_option(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
    mock_unload_entry: AsyncMock,
) -> None:
    """Each step shows the current values; saving stores all and reloads."""
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert _suggested(result) == SOURCES

    result = await _async_options(hass, result, NEW_SOURCES)
    assert result["step_id"] == "profile"
    assert _suggested(result) == GENERIC

    result = await _async_options(hass, result, GENERIC)
    assert result["step_id"] == "controls"
    assert _suggested(result) == CONTROLS

    result = await _async_options(hass, result, NEW_CONTROLS)
    assert result["step_id"] == "limits"
    assert _suggested(result) == LIMITS

    result = await _async_options(hass, result, NEW_LIMITS)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    new_options = NEW_SOURCES | _generic(NEW_CONTROLS) | NEW_LIMITS
    assert result["data"] == new_options
    assert loaded_entry.options == new_options
    assert loaded_entry.data == {}
    assert len(mock_unload_entry.mock_calls) == 1
    assert len(mock_setup_entry.mock_calls) == 2


async def test_options_flow_clears_optional_fields(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Optional fields left empty are removed; everything else is kept."""
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    result = await _async_options(hass, result, REQUIRED_SOURCES)
    result = await _async_options(hass, result, GENERIC)
    result = await _async_options(hass, result, REQUIRED_CONTROLS)
    limits = LIMITS.copy()
    del limits[CONF_DAILY_EXPORT_CAP_KWH]
    result = await _async_options(hass, result, limits)
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (
        loaded_entry.options
        == REQUIRED_SOURCES
        | {
            CONF_GRID_POWER_EXPORT_NEGATIVE: DEFAULT_GRID_POWER_EXPORT_NEGATIVE,
            CONF_BATTERY_POWER_DISCHARGE_POSITIVE: DEFAULT_BATTERY_POWER_DISCHARGE_POSITIVE,
        }
        | _generic(REQUIRED_CONTROLS)
        | limits
    )


async def test_options_flow_keeps_unknown_options(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    """Options that no step shows are carried over unchanged."""
    entry = MockConfigEntry(
        domain=DOMAIN, options=OPTIONS | {"future_option": 7}, minor_version=2
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await _async_options(hass, result, SOURCES)
    result = await _async_options(hass, result, GENERIC)
    result = await _async_options(hass, result, CONTROLS)
    result = await _async_options(hass, result, NEW_LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == SOURCES | _generic(CONTROLS) | NEW_LIMITS | {
        "future_option": 7
    }


@pytest.mark.parametrize(
    ("field", "entity_id", "error"),
    [
        (CONF_SOC_ENTITY, "sensor.soc_unknown", "not_numeric"),
        (CONF_EXPORT_ENERGY_TODAY_ENTITY, "sensor.pv_energy_today", "same_entity"),
        (CONF_FORECAST_TODAY_ENTITY, "sensor.missing", "entity_not_found"),
    ],
    ids=["soc_unknown", "export_same_as_pv", "forecast_missing"],
)
async def test_options_sources_error_recovers(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    field: str,
    entity_id: str,
    error: str,
) -> None:
    """A bad source in the options is flagged on its field and can be fixed."""
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    result = await _async_options(hass, result, SOURCES | {field: entity_id})
    assert result["step_id"] == "init"
    assert result["errors"] == {field: error}

    result = await _async_options(hass, result, NEW_SOURCES)
    result = await _async_options(hass, result, GENERIC)
    result = await _async_options(hass, result, CONTROLS)
    result = await _async_options(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options == NEW_SOURCES | _generic(CONTROLS) | LIMITS


async def test_options_controls_error_recovers(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """A bad control in the options is flagged on its field and can be fixed."""
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    result = await _async_options(hass, result, SOURCES)
    result = await _async_options(hass, result, GENERIC)
    result = await _async_options(
        hass,
        result,
        CONTROLS | {POWER: "number.discharge_power_percent"},
    )
    assert result["step_id"] == "controls"
    assert result["errors"] == {POWER: "invalid_unit"}

    result = await _async_options(hass, result, NEW_CONTROLS)
    result = await _async_options(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options == SOURCES | _generic(NEW_CONTROLS) | LIMITS


@pytest.mark.parametrize(
    "entity_id",
    ["number.discharge_duration_days", "number.discharge_duration_no_unit"],
    ids=["days", "no_unit"],
)
async def test_options_refuse_a_duration_not_in_time_units(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, entity_id: str
) -> None:
    """The options refuse a duration entity that is not in s, min or h (#14)."""
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    result = await _async_options(hass, result, SOURCES)
    result = await _async_options(hass, result, GENERIC)
    result = await _async_options(hass, result, CONTROLS | {TIMER: entity_id})
    assert result["step_id"] == "controls"
    assert result["errors"] == {TIMER: "invalid_duration_unit"}

    seconds = {TIMER: "number.discharge_duration_seconds"}
    result = await _async_options(hass, result, CONTROLS | seconds)
    result = await _async_options(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options == SOURCES | _generic(CONTROLS | seconds) | LIMITS


async def test_options_limits_error_recovers(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Bad limits in the options are flagged on their fields and can be fixed."""
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    result = await _async_options(hass, result, SOURCES)
    result = await _async_options(hass, result, GENERIC)
    result = await _async_options(hass, result, CONTROLS)
    result = await _async_options(
        hass,
        result,
        NEW_LIMITS | {CONF_SAFETY_MARGIN_KWH: 9.0, CONF_EXPORT_WINDOW_END: "9:00"},
    )
    assert result["step_id"] == "limits"
    assert result["errors"] == {
        CONF_DAILY_EXPORT_CAP_KWH: "cap_below_margin",
        CONF_EXPORT_WINDOW_END: "invalid_time",
    }

    result = await _async_options(hass, result, NEW_LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options == SOURCES | _generic(CONTROLS) | NEW_LIMITS


async def test_options_duplicate_aborts(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Pointing the options at another monitor's sensors aborts, changing nothing."""
    MockConfigEntry(domain=DOMAIN, options=NEW_SOURCES).add_to_hass(hass)
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    result = await _async_options(hass, result, NEW_SOURCES)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert loaded_entry.options == OPTIONS


async def test_reconfigure_updates_and_reloads(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
    mock_unload_entry: AsyncMock,
) -> None:
    """Reconfigure changes sources and controls, keeps limits, and reloads."""
    result = await loaded_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert _suggested(result) == SOURCES

    result = await _async_configure(hass, result, NEW_SOURCES)
    assert result["step_id"] == "reconfigure_profile"
    assert _suggested(result) == GENERIC

    result = await _async_configure(hass, result, GENERIC)
    assert result["step_id"] == "reconfigure_controls"
    assert _suggested(result) == CONTROLS

    result = await _async_configure(hass, result, NEW_CONTROLS)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert loaded_entry.options == NEW_SOURCES | _generic(NEW_CONTROLS) | LIMITS
    assert loaded_entry.data == {}
    assert len(mock_unload_entry.mock_calls) == 1
    assert len(mock_setup_entry.mock_calls) == 2


async def test_reconfigure_keeping_own_sensors(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Reconfiguring with the entry's own SOC and export sensors is not a duplicate."""
    result = await loaded_entry.start_reconfigure_flow(hass)
    result = await _async_configure(hass, result, SOURCES)
    result = await _async_configure(hass, result, GENERIC)
    result = await _async_configure(hass, result, NEW_CONTROLS)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert loaded_entry.options == SOURCES | _generic(NEW_CONTROLS) | LIMITS


async def test_reconfigure_errors_recover(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Errors in either reconfigure step are flagged and can be fixed."""
    result = await loaded_entry.start_reconfigure_flow(hass)
    result = await _async_configure(
        hass, result, NEW_SOURCES | {CONF_SOC_ENTITY: "sensor.pv_energy_today"}
    )
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {CONF_SOC_ENTITY: "invalid_unit"}

    result = await _async_configure(hass, result, NEW_SOURCES)
    result = await _async_configure(hass, result, GENERIC)
    result = await _async_configure(
        hass, result, NEW_CONTROLS | {CUTOFF: "number.missing"}
    )
    assert result["step_id"] == "reconfigure_controls"
    assert result["errors"] == {CUTOFF: "entity_not_found"}

    result = await _async_configure(hass, result, NEW_CONTROLS)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert loaded_entry.options == NEW_SOURCES | _generic(NEW_CONTROLS) | LIMITS


async def test_reconfigure_duplicate_aborts(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Reconfiguring onto another monitor's sensors aborts, changing nothing."""
    MockConfigEntry(domain=DOMAIN, options=NEW_SOURCES).add_to_hass(hass)
    result = await loaded_entry.start_reconfigure_flow(hass)
    result = await _async_configure(hass, result, NEW_SOURCES)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert loaded_entry.options == OPTIONS


def _strings() -> dict[str, Any]:
    """Load the English translations."""
    strings: dict[str, Any] = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))
    return strings


def _fields(schema: vol.Schema) -> set[str]:
    """Return the field names of a form schema."""
    return {marker.schema for marker in schema.schema}


ROLE_FIELDS = {role.value for role in Role}


@pytest.mark.parametrize(
    ("section", "step_id", "fields"),
    [
        ("config", "user", _fields(SOURCES_SCHEMA)),
        ("config", "profile", _fields(profile_schema())),
        ("config", "controls", ROLE_FIELDS),
        ("config", "controls_floor", ROLE_FIELDS),
        ("config", "limits", _fields(LIMITS_SCHEMA)),
        ("config", "reconfigure", _fields(SOURCES_SCHEMA)),
        ("config", "reconfigure_profile", _fields(profile_schema())),
        ("config", "reconfigure_controls", ROLE_FIELDS),
        ("config", "reconfigure_controls_floor", ROLE_FIELDS),
        ("options", "init", _fields(SOURCES_SCHEMA)),
        ("options", "profile", _fields(profile_schema())),
        ("options", "controls", ROLE_FIELDS),
        ("options", "controls_floor", ROLE_FIELDS),
        ("options", "limits", _fields(LIMITS_SCHEMA)),
    ],
    ids=[
        "user",
        "profile",
        "controls",
        "controls_floor",
        "limits",
        "reconfigure",
        "reconfigure_profile",
        "reconfigure_controls",
        "reconfigure_controls_floor",
        "options_init",
        "options_profile",
        "options_controls",
        "options_controls_floor",
        "options_limits",
    ],
)
def test_every_field_is_translated(
    section: str, step_id: str, fields: set[str]
) -> None:
    """Each step has a title, a description, a label and a help text per field."""
    step = _strings()[section]["step"][step_id]
    assert step["title"]
    assert step["description"]
    assert set(step["data"]) == fields
    assert set(step["data_description"]) == fields


@pytest.mark.parametrize(
    ("section", "step_id"),
    [
        ("config", "controls"),
        ("config", "reconfigure_controls"),
        ("options", "controls"),
    ],
    ids=["config", "reconfigure", "options"],
)
def test_floor_form_says_why_the_cutoff_is_required(section: str, step_id: str) -> None:
    """The controls form of a profile needing the SOC floor explains it further."""
    steps = _strings()[section]["step"]
    plain = steps[step_id]["description"]
    floor = steps[f"{step_id}_floor"]["description"]
    assert floor != plain
    assert len(floor) > len(plain)


@pytest.mark.parametrize("key", PROFILES, ids=PROFILES.keys())
def test_every_profile_has_a_name(key: str) -> None:
    """The profile list shows a translated name for every profile."""
    assert _strings()["selector"]["profile"]["options"][key]


@pytest.mark.parametrize(
    ("section", "aborts"),
    [
        ("config", {"already_configured", "reconfigure_successful"}),
        ("options", {"already_configured"}),
    ],
    ids=["config", "options"],
)
def test_every_error_and_abort_is_translated(section: str, aborts: set[str]) -> None:
    """Each error and abort reason the flows use has a message."""
    strings = _strings()[section]
    assert set(strings["error"]) == ERROR_KEYS
    assert set(strings["abort"]) == aborts


# -- profiles: choose one, get its controls suggested from the registry -------------

VENDOR = {CONF_PROFILE: VENDOR_PROFILE.key}


def _domain(control: Control) -> str:
    """Return the domain a test entity of the control lives in."""
    return (control.domains or (SENSOR_DOMAINS[0],))[0]


def _state(control: Control) -> tuple[str, dict[str, Any]]:
    """Return a usable state and attributes for an entity serving the control."""
    domain = _domain(control)
    by_domain: dict[str, tuple[str, dict[str, Any]]] = {
        "select": ("00:00:00", {"options": ["00:00:00", *control.options]}),
        "input_select": ("00:00:00", {"options": ["00:00:00", *control.options]}),
        "switch": ("off", {}),
        "input_boolean": ("off", {}),
        "time": ("12:00:00", {}),
        "input_datetime": ("12:00:00", {}),
    }
    by_role: dict[Role, tuple[str, dict[str, Any]]] = {
        Role.POWER: ("3000", {"unit_of_measurement": "W"}),
        Role.TIMER: ("60", {"unit_of_measurement": "min"}),
        Role.REPEAT: ("600", {"unit_of_measurement": "s"}),
        Role.CUTOFF: ("10", {"unit_of_measurement": "%"}),
    }
    number = by_role.get(control.role, ("1", {}))
    return number if domain in NUMBER_DOMAINS else by_domain.get(domain, ("ok", {}))


def _vendor_device(hass: HomeAssistant, integration: str) -> dr.DeviceEntry:
    """Return the integration's one device, with a config entry of its own."""
    entry = MockConfigEntry(domain=integration)
    entry.add_to_hass(hass)
    return dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(integration, "inverter")}
    )


def _add_vendor_entity(
    hass: HomeAssistant, control: Control, device: dr.DeviceEntry
) -> str:
    """Add the integration's entity for a control, on its device; return its id."""
    entity = er.async_get(hass).async_get_or_create(
        _domain(control),
        str(control.integration),
        f"serial_{control.suffix}",
        suggested_object_id=f"inverter_{control.suffix}",
        device_id=device.id,
    )
    hass.states.async_set(entity.entity_id, *_state(control))
    return entity.entity_id


def _add_vendor_entities(
    hass: HomeAssistant, profile: InverterProfile
) -> dict[str, str]:
    """Add the integration's entities of the profile; return what the flow suggests."""
    integrations = {c.integration for c in profile.controls if c.integration}
    devices = {name: _vendor_device(hass, name) for name in sorted(integrations)}
    found = {
        c.role.value: _add_vendor_entity(hass, c, devices[str(c.integration)])
        for c in profile.controls
        if c.integration and c.suffix and c.role is not Role.DEVICE
    }
    # The device role: its integration's device, found by suffix or by the entities.
    device = profile.control(Role.DEVICE)
    return found | (
        {DEVICE: devices[str(device.integration)].id}
        if device is not None and device.integration
        else {}
    )


def _add_manual_entities(
    hass: HomeAssistant, profile: InverterProfile
) -> dict[str, str]:
    """Add an entity for each required entity control the registry cannot suggest."""
    manual = {
        c.role.value: f"{_domain(c)}.manual_{c.role}"
        for c in profile.controls
        if not (c.integration and c.suffix)
        and c.role is not Role.DEVICE
        and is_required(profile, c)
    }
    for control in profile.controls:
        entity_id = manual.get(control.role.value)
        hass.states.async_set(entity_id or "sensor.unused", *_state(control))
    return manual


@pytest.fixture
def vendor_profile() -> Generator[InverterProfile]:
    """Register a vendor profile besides the real ones."""
    with patch.dict(PROFILES, {VENDOR_PROFILE.key: VENDOR_PROFILE}):
        yield VENDOR_PROFILE


async def _async_vendor_controls_form(hass: HomeAssistant) -> ConfigFlowResult:
    """Run a user flow up to the vendor profile's controls form."""
    result = await _async_start(hass)
    result = await _async_configure(hass, result, SOURCES)
    return await _async_configure(hass, result, VENDOR)


def test_profile_step_offers_every_profile() -> None:
    """The profile form lists every profile, with translated names."""
    selector = profile_schema().schema[CONF_PROFILE]
    assert selector.config["options"] == list(PROFILES)
    assert selector.config["translation_key"] == CONF_PROFILE


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES.keys())
async def test_every_profile_sets_up_from_its_integration(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, profile: InverterProfile
) -> None:
    """Each profile's controls are suggested from its integration and stored by role."""
    suggested = _add_vendor_entities(hass, profile)
    manual = _add_manual_entities(hass, profile)
    result = await _async_start(hass)
    result = await _async_configure(hass, result, SOURCES)
    result = await _async_configure(hass, result, {CONF_PROFILE: profile.key})
    step_id = "controls_floor" if profile.needs_soc_floor else "controls"
    assert result["step_id"] == step_id
    assert _suggested(result) == suggested

    result = await _async_configure(hass, result, suggested | manual)
    assert (result["step_id"], result["errors"]) == ("limits", {})
    result = await _async_configure(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"][CONF_PROFILE] == profile.key
    assert result["options"][CONF_CONTROLS] == suggested | manual


async def test_vendor_profile_suggested_and_floor_required(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, vendor_profile: InverterProfile
) -> None:
    """The registry's integration picks the profile; with no backstop the cutoff is required."""
    controls = _add_vendor_entities(hass, vendor_profile)
    result = await _async_start(hass)
    result = await _async_configure(hass, result, SOURCES)
    assert result["step_id"] == "profile"
    assert _suggested(result) == VENDOR

    result = await _async_configure(hass, result, VENDOR)
    assert result["step_id"] == "controls_floor"
    assert _suggested(result) == controls
    without_cutoff = {k: v for k, v in controls.items() if k != CUTOFF}
    with pytest.raises(InvalidData):
        await _async_configure(hass, result, without_cutoff)

    result = await _async_configure(hass, result, controls)
    result = await _async_configure(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == SOURCES | VENDOR | {CONF_CONTROLS: controls} | LIMITS


@pytest.mark.parametrize(
    ("role", "value", "state", "error", "missing"),
    [
        (
            Role.MODE,
            "select.old_firmware_mode",
            ("Self Use", {"options": ["Self Use", "Feed-in First"]}),
            "missing_option",
            "Force Discharge",
        ),
        (Role.DEVICE, "no_such_device", None, "device_not_found", ""),
        (
            Role.CUTOFF,
            "number.cutoff_in_kwh",
            ("2", {"unit_of_measurement": "kWh"}),
            "invalid_cutoff_unit",
            "",
        ),
        (Role.STATUS, "sensor.missing_status", None, "entity_not_found", ""),
        (
            Role.REPEAT,
            "number.repeat_in_days",
            ("1", {"unit_of_measurement": "d"}),
            "invalid_duration_unit",
            "",
        ),
    ],
    ids=[
        "select_lacks_option",
        "device_missing",
        "cutoff_in_kwh",
        "status_missing",
        "repeat_in_days",
    ],
)
async def test_vendor_controls_error_recovers(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    vendor_profile: InverterProfile,
    role: Role,
    value: str,
    state: tuple[str, dict[str, Any]] | None,
    error: str,
    missing: str,
) -> None:
    """A control that cannot serve its role is flagged with a translated error and fixed."""
    controls = _add_vendor_entities(hass, vendor_profile)
    if state is not None:
        hass.states.async_set(value, *state)
    result = await _async_vendor_controls_form(hass)
    result = await _async_configure(hass, result, controls | {role: value})
    assert result["step_id"] == "controls_floor"
    assert result["errors"] == {role: error}
    assert result["description_placeholders"] == {"missing": missing}
    assert _suggested(result)[role] == value

    result = await _async_configure(hass, result, controls)
    result = await _async_configure(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_control_of_a_wrong_domain_is_refused(
    hass: HomeAssistant, vendor_profile: InverterProfile
) -> None:
    """The form refuses an entity outside the control's domains."""
    controls = _add_vendor_entities(hass, vendor_profile)
    result = await _async_vendor_controls_form(hass)
    with pytest.raises(InvalidData):
        await _async_configure(hass, result, controls | {POWER: "sensor.battery_soc"})


async def test_options_change_profile_keeps_every_other_option(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, vendor_profile: InverterProfile
) -> None:
    """Changing the profile asks for its controls; bad input loses nothing."""
    controls = _add_vendor_entities(hass, vendor_profile)
    hass.states.async_set("number.cutoff_in_kwh", "2", {"unit_of_measurement": "kWh"})
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    result = await _async_options(hass, result, SOURCES)
    assert _suggested(result) == GENERIC
    result = await _async_options(hass, result, VENDOR)
    assert result["step_id"] == "controls_floor"
    assert _suggested(result) == controls

    result = await _async_options(
        hass, result, controls | {CUTOFF: "number.cutoff_in_kwh"}
    )
    assert result["errors"] == {CUTOFF: "invalid_cutoff_unit"}
    result = await _async_options(hass, result, controls)
    assert result["step_id"] == "limits"
    assert _suggested(result) == LIMITS
    result = await _async_options(hass, result, LIMITS)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options == SOURCES | VENDOR | {CONF_CONTROLS: controls} | LIMITS


async def test_reconfigure_changes_profile(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, vendor_profile: InverterProfile
) -> None:
    """Reconfigure can change the profile; the limits are kept."""
    controls = _add_vendor_entities(hass, vendor_profile)
    result = await loaded_entry.start_reconfigure_flow(hass)
    result = await _async_configure(hass, result, SOURCES)
    result = await _async_configure(hass, result, VENDOR)
    assert result["step_id"] == "reconfigure_controls_floor"
    assert _suggested(result) == controls

    result = await _async_configure(hass, result, controls)
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert loaded_entry.options == SOURCES | VENDOR | {CONF_CONTROLS: controls} | LIMITS


async def test_options_back_to_generic_keeps_fitting_entities(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, vendor_profile: InverterProfile
) -> None:
    """From a vendor profile back to generic, a role's old entity is suggested."""
    controls = _add_vendor_entities(hass, vendor_profile)
    entry = MockConfigEntry(
        domain=DOMAIN,
        options=SOURCES | VENDOR | {CONF_CONTROLS: controls} | LIMITS,
        minor_version=2,
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await _async_options(hass, result, SOURCES)
    assert _suggested(result) == VENDOR
    result = await _async_options(hass, result, GENERIC)
    assert result["step_id"] == "controls"
    assert _suggested(result) == {POWER: controls[POWER], CUTOFF: controls[CUTOFF]}


async def test_retired_profile_falls_back_to_the_default(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    """An entry naming a profile that no longer exists is offered the default."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        options=OPTIONS | {CONF_PROFILE: "retired"},
        minor_version=2,
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await _async_options(hass, result, SOURCES)
    assert _suggested(result) == GENERIC
    result = await _async_options(hass, result, GENERIC)
    assert _suggested(result) == CONTROLS
    result = await _async_options(hass, result, CONTROLS)
    result = await _async_options(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == OPTIONS


def test_device_control_without_integration_selects_any_device() -> None:
    """A device control that names no integration offers every device."""
    profile = InverterProfile(
        key="any_device",
        controls=(Control(role=Role.DEVICE, domains=()),),
        start=(),
        stop_ladder=(),
    )
    selector = controls_schema(profile).schema[vol.Required(DEVICE)]
    assert isinstance(selector, DeviceSelector)
    assert "integration" not in selector.config


async def test_options_flow_moves_flat_controls_to_roles(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    """Controls still under version 1.1's flat keys are shown by role and stored so."""
    flat = {
        "discharge_switch_entity": CONTROLS[ENABLE],
        "discharge_power_entity": CONTROLS[POWER],
        "cutoff_soc_entity": CONTROLS[CUTOFF],
        "discharge_duration_entity": CONTROLS[TIMER],
    }
    entry = MockConfigEntry(domain=DOMAIN, options=SOURCES | flat | LIMITS)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await _async_options(hass, result, SOURCES)
    assert _suggested(result) == GENERIC
    result = await _async_options(hass, result, GENERIC)
    assert _suggested(result) == CONTROLS

    result = await _async_options(hass, result, NEW_CONTROLS)
    result = await _async_options(hass, result, LIMITS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == OPTIONS | {CONF_CONTROLS: NEW_CONTROLS}
