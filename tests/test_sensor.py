"""Tests of the sensors: each figure and health word for good and bad sources."""

from __future__ import annotations

from datetime import timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.export_monitor.const import HEARTBEAT_INTERVAL
from tests.conftest import BATTERY, EXPORT, GRID, PV, SOC, set_sources

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")


@pytest.fixture(autouse=True)
def enable_all_sensors(entity_registry_enabled_by_default: None) -> None:
    """Read the sensors that are off by default too (set up before the entry)."""


UNAVAILABLE = STATE_UNAVAILABLE
SENSOR_KEYS = (
    "system_health",
    "error_state",
    "data_staleness",
    "circuit_breaker_status",
    "export_allowance",
    "export_headroom",
    "exported_today",
    "discharge_status",
    "calculated_duration",
    "compliant_days",
)
# Defaults: SOC 80 %, PV 12 kWh, exported 3 kWh, margin 0.5, min SOC 20 %, 3 kW, 10 kWh.
HEALTHY: dict[str, str] = {
    "system_health": "healthy",
    "error_state": "none",
    "data_staleness": "0.0",
    "circuit_breaker_status": "closed",
    "export_allowance": "11.5",
    "export_headroom": "8.5",
    "exported_today": "3.0",
    "discharge_status": "idle",
    "calculated_duration": "120.0",
    "compliant_days": "0",
}
UNITS = {SOC: "%", PV: "kWh", EXPORT: "kWh", GRID: "W", BATTERY: "W"}


def entity_id(key: str) -> str:
    """Return the default entity id of one of our sensors."""
    return f"sensor.export_monitor_{key}"


def set_source(
    hass: HomeAssistant, source: str, state: str, unit: str | None = None
) -> None:
    """Write one source sensor's state with a unit (its usual unit by default)."""
    hass.states.async_set(source, state, {"unit_of_measurement": unit or UNITS[source]})


def apply(hass: HomeAssistant, changes: dict[str, tuple[str, str | None]]) -> None:
    """Write several source states at once."""
    for source, (state, unit) in changes.items():
        set_source(hass, source, state, unit)


def sensor_states(hass: HomeAssistant) -> dict[str, str]:
    """Return the state of every sensor of the monitor, by key."""
    return {key: hass.states.get(entity_id(key)).state for key in SENSOR_KEYS}


def attributes(hass: HomeAssistant, key: str, *names: str) -> dict[str, Any]:
    """Return the named attributes of one of our sensors."""
    state = hass.states.get(entity_id(key))
    return {name: state.attributes.get(name) for name in names}


def soc_fault(**changes: str) -> dict[str, str]:
    """Return the sensor states while the SOC source is unusable."""
    return {
        **HEALTHY,
        "system_health": "error",
        "error_state": "soc_read_failed",
        "discharge_status": "blocked",
        "calculated_duration": UNAVAILABLE,
        **changes,
    }


def pv_fault(**changes: str) -> dict[str, str]:
    """Return the sensor states while the PV source is unusable."""
    return {
        **HEALTHY,
        "system_health": "error",
        "error_state": "pv_read_failed",
        "export_allowance": UNAVAILABLE,
        "export_headroom": UNAVAILABLE,
        "discharge_status": "blocked",
        "calculated_duration": UNAVAILABLE,
        **changes,
    }


def export_fault(**changes: str) -> dict[str, str]:
    """Return the sensor states while the export source is unusable."""
    return {
        **HEALTHY,
        "system_health": "error",
        "error_state": "export_read_failed",
        "export_headroom": UNAVAILABLE,
        "exported_today": UNAVAILABLE,
        "discharge_status": "blocked",
        "calculated_duration": UNAVAILABLE,
        **changes,
    }


NO_DATA = {
    **HEALTHY,
    "system_health": "error",
    "error_state": "no_data",
    "export_allowance": UNAVAILABLE,
    "export_headroom": UNAVAILABLE,
    "exported_today": UNAVAILABLE,
    "discharge_status": "blocked",
    "calculated_duration": UNAVAILABLE,
}

# id: (source changes {entity_id: (state, unit)}, sensor states, start blockers)
SCENARIOS: dict[
    str, tuple[dict[str, tuple[str, str | None]], dict[str, str], list[str]]
] = {
    "healthy": ({}, HEALTHY, []),
    "soc_unavailable": ({SOC: ("unavailable", "%")}, soc_fault(), ["soc_read_failed"]),
    "soc_unknown": ({SOC: ("unknown", "%")}, soc_fault(), ["soc_read_failed"]),
    "soc_not_numeric": ({SOC: ("eighty", "%")}, soc_fault(), ["soc_read_failed"]),
    "soc_nan": ({SOC: ("nan", "%")}, soc_fault(), ["soc_read_failed"]),
    "soc_120_percent": ({SOC: ("120", "%")}, soc_fault(), ["soc_read_failed"]),
    "soc_wrong_unit": ({SOC: ("80", "kWh")}, soc_fault(), ["soc_read_failed"]),
    "pv_unavailable": ({PV: ("unavailable", "kWh")}, pv_fault(), ["pv_read_failed"]),
    "pv_nan": ({PV: ("NaN", "kWh")}, pv_fault(), ["pv_read_failed"]),
    "pv_infinite": ({PV: ("inf", "kWh")}, pv_fault(), ["pv_read_failed"]),
    "pv_5000_kwh": ({PV: ("5000", "kWh")}, pv_fault(), ["pv_read_failed"]),
    "export_unknown": (
        {EXPORT: ("unknown", "kWh")},
        export_fault(),
        ["export_read_failed"],
    ),
    "export_not_numeric": (
        {EXPORT: ("three", "kWh")},
        export_fault(),
        ["export_read_failed"],
    ),
    "export_5000_kwh": (
        {EXPORT: ("5000", "kWh")},
        export_fault(),
        ["export_read_failed"],
    ),
    "all_required_unavailable": (
        {
            SOC: ("unavailable", "%"),
            PV: ("unavailable", "kWh"),
            EXPORT: ("unknown", "kWh"),
        },
        NO_DATA,
        ["no_data"],
    ),
    "grid_unavailable": ({GRID: ("unavailable", "W")}, HEALTHY, []),
    "grid_60_kw": ({GRID: ("60", "kW")}, HEALTHY, []),
    "grid_not_numeric": ({GRID: ("idle", "W")}, HEALTHY, []),
    "battery_wrong_unit": ({BATTERY: ("1500", "kWh")}, HEALTHY, []),
    "soc_at_min": (
        {SOC: ("15", "%")},
        {**HEALTHY, "discharge_status": "blocked", "calculated_duration": "0.0"},
        ["soc_at_min"],
    ),
    "no_headroom": (
        {EXPORT: ("11.5", "kWh")},
        {
            **HEALTHY,
            "export_headroom": "0.0",
            "exported_today": "11.5",
            "discharge_status": "blocked",
            "calculated_duration": "0.0",
        },
        ["no_headroom"],
    ),
    "export_in_wh": ({EXPORT: ("3000", "Wh")}, HEALTHY, []),
    "pv_in_mwh": ({PV: ("0.012", "MWh")}, HEALTHY, []),
    "pv_in_wh_export_in_mwh": (
        {PV: ("12000", "Wh"), EXPORT: ("0.003", "MWh")},
        HEALTHY,
        [],
    ),
    "grid_and_battery_in_kw": (
        {GRID: ("-2.5", "kW"), BATTERY: ("2.6", "kW")},
        HEALTHY,
        [],
    ),
}


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    ("changes", "expected", "blockers"),
    list(SCENARIOS.values()),
    ids=list(SCENARIOS),
)
async def test_sensor_states(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    changes: dict[str, tuple[str, str | None]],
    expected: dict[str, str],
    blockers: list[str],
) -> None:
    """Each source condition shows in the figures, the health words and the blockers."""
    # An hour on, every source re-reported: large counter rises are physically possible.
    freezer.tick(timedelta(hours=1))
    set_sources(hass)
    apply(hass, changes)
    await hass.async_block_till_done()

    assert sensor_states(hass) == expected
    assert attributes(hass, "discharge_status", "blockers") == {"blockers": blockers}


# id: (source changes, system health attributes)
HEALTH_ATTRIBUTES: dict[
    str, tuple[dict[str, tuple[str, str | None]], dict[str, Any]]
] = {
    "healthy": (
        {},
        {
            "error_state": "none",
            "data_age_seconds": 0.0,
            "circuit_breaker_failures": 0,
            "discharge_active": False,
        },
    ),
    "pv_unavailable": (
        {PV: ("unavailable", "kWh")},
        {
            "error_state": "pv_read_failed",
            "data_age_seconds": 0.0,
            "circuit_breaker_failures": 0,
            "discharge_active": False,
        },
    ),
}


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    ("changes", "expected"),
    list(HEALTH_ATTRIBUTES.values()),
    ids=list(HEALTH_ATTRIBUTES),
)
async def test_health_attributes(
    hass: HomeAssistant,
    changes: dict[str, tuple[str, str | None]],
    expected: dict[str, Any],
) -> None:
    """The system health sensor explains itself in its attributes."""
    apply(hass, changes)
    await hass.async_block_till_done()

    assert attributes(hass, "system_health", *expected) == expected
    assert attributes(hass, "data_staleness", "is_stale", "threshold_seconds") == {
        "is_stale": False,
        "threshold_seconds": 30,
    }
    assert attributes(
        hass,
        "circuit_breaker_status",
        "failure_count",
        "last_failure_time",
        "can_attempt",
    ) == {"failure_count": 0, "last_failure_time": None, "can_attempt": True}


@pytest.mark.usefixtures("unloaded_sources", "init_integration")
async def test_stale_sources(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Sources silent past the threshold: health says stale, figures that need them go.

    The sources' integration is not loaded: silence is staleness, not the quiet of a
    sensor that writes only on change (tests/test_change_only.py).
    """
    freezer.tick(timedelta(seconds=41))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    assert sensor_states(hass) == {
        **HEALTHY,
        "system_health": "stale_data",
        "error_state": "stale_data",
        "data_staleness": "41.0",
        "export_allowance": UNAVAILABLE,
        "export_headroom": UNAVAILABLE,
        "exported_today": UNAVAILABLE,
        "discharge_status": "blocked",
        "calculated_duration": UNAVAILABLE,
    }
    assert attributes(hass, "data_staleness", "is_stale", "threshold_seconds") == {
        "is_stale": True,
        "threshold_seconds": 30,
    }
    assert attributes(hass, "system_health", "error_state", "data_age_seconds") == {
        "error_state": "stale_data",
        "data_age_seconds": 41.0,
    }
    assert attributes(hass, "discharge_status", "blockers") == {
        "blockers": ["stale_data"]
    }


@pytest.mark.usefixtures("init_integration")
async def test_fresh_sources_not_stale(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Sources that keep reporting stay fresh however long the monitor runs."""
    freezer.tick(timedelta(seconds=25))
    set_source(hass, SOC, "79")
    set_source(hass, PV, "12.1")
    set_source(hass, EXPORT, "3.1")
    freezer.tick(timedelta(seconds=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    assert sensor_states(hass) == {
        **HEALTHY,
        "data_staleness": "16.0",
        "export_allowance": "11.6",
        "export_headroom": "8.5",
        "exported_today": "3.1",
        "calculated_duration": "118.0",
    }


async def test_sensors_snapshot(
    hass: HomeAssistant,
    inverter: None,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every sensor's registry entry and state match the snapshot."""
    config_entry.add_to_hass(hass)
    with patch("custom_components.export_monitor.PLATFORMS", [Platform.SENSOR]):
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()

    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)


TRANSLATIONS = Path(__file__).parents[1] / (
    "custom_components/export_monitor/translations/en.json"
)


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    "key",
    ["system_health", "error_state", "circuit_breaker_status", "discharge_status"],
)
async def test_enum_states_translated(hass: HomeAssistant, key: str) -> None:
    """Every state an enum sensor can take has a translated name."""
    translations = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))
    states = translations["entity"]["sensor"][key]["state"]

    assert sorted(attributes(hass, key, "options")["options"]) == sorted(states)


@pytest.mark.usefixtures("init_integration")
async def test_an_age_alone_is_written_with_the_heartbeat(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Source updates that move only the data age write no entity; the heartbeat does.

    Each source update used to write every entity: a state change of the health
    sensor (its data_age_seconds) and of the staleness sensor per update, and a
    write of every unchanged state. What changes is written at once.
    """
    ages = (entity_id("system_health"), entity_id("data_staleness"))
    allowance = entity_id("export_allowance")
    unchanged = (
        allowance,
        entity_id("compliant_days"),
        "number.export_monitor_min_soc",
        "switch.export_monitor_auto_discharge",
    )
    reported = {e: hass.states.get(e).last_reported for e in unchanged}
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)
    for _ in range(5):
        freezer.tick(timedelta(seconds=1))
        # A re-report of an unchanged value: the other sources age by a second.
        set_source(hass, GRID, "0")
        await hass.async_block_till_done()

    assert [e.data["entity_id"] for e in changes if e.data["entity_id"] in ages] == []
    # Nothing they show changed: not written again.
    assert {e: hass.states.get(e).last_reported for e in unchanged} == reported
    assert attributes(hass, "system_health", "data_age_seconds") == {
        "data_age_seconds": 0.0
    }

    set_source(hass, PV, "12.001")
    await hass.async_block_till_done()

    assert hass.states.get(allowance).state == "11.501"
    assert [e.data["entity_id"] for e in changes if e.data["entity_id"] in ages] == []

    async_fire_time_changed(hass, dt_util.utcnow() + HEARTBEAT_INTERVAL)
    await hass.async_block_till_done()

    # The oldest source (SOC, export, battery) was last written 5 s ago.
    assert hass.states.get(entity_id("data_staleness")).state == "5.0"
    assert attributes(hass, "system_health", "data_age_seconds") == {
        "data_age_seconds": 5.0
    }
