"""Home Assistant keeps long-term statistics of the compliance sensors (a real recorder)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.components.recorder.statistics import (
    async_list_statistic_ids,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from tests.discharge import async_jump, async_setup_entry, local

# What a statistics graph of the daily record needs: the day's export against its
# allowance, and how many days closed within it.
KEPT = {
    "sensor.export_monitor_exported_today": "kWh",
    "sensor.export_monitor_export_allowance": "kWh",
    "sensor.export_monitor_compliant_days": None,
}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Any, enable_custom_integrations: None
) -> None:
    """Start the recorder before Home Assistant, then load custom integrations."""


async def test_the_compliance_sensors_keep_statistics(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    inverter: None,
) -> None:
    """The recorder lists and compiles statistics for export, allowance and compliant days."""
    start = local("2026-06-15T10:00:00")
    freezer.move_to(start)
    await async_setup_entry(hass, config_entry)
    await async_jump(hass, freezer, start + timedelta(minutes=5, seconds=1))
    await async_wait_recording_done(hass)
    listed = {
        item["statistic_id"]: item["statistics_unit_of_measurement"]
        for item in await async_list_statistic_ids(hass)
    }
    assert {key: listed.get(key, "missing") for key in KEPT} == KEPT

    do_adhoc_statistics(hass, start=dt_util.as_utc(start))
    await async_wait_recording_done(hass)
    stats = await hass.async_add_executor_job(
        statistics_during_period,
        hass,
        dt_util.as_utc(start),
        None,
        set(KEPT),
        "5minute",
        None,
        {"state", "sum"},
    )
    states = {key: [row["state"] for row in rows] for key, rows in stats.items()}
    assert states == {
        "sensor.export_monitor_exported_today": [3.0],
        "sensor.export_monitor_export_allowance": [11.5],
        "sensor.export_monitor_compliant_days": [0.0],
    }


async def test_data_age_is_not_written_to_the_database(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    inverter: None,
) -> None:
    """System health's data age (new with every source update) stays out of the recorder."""
    start = local("2026-06-15T10:00:00")
    freezer.move_to(start)
    await async_setup_entry(hass, config_entry)
    await async_jump(hass, freezer, start + timedelta(minutes=1))
    await async_wait_recording_done(hass)
    entity_id = "sensor.export_monitor_system_health"
    assert "data_age_seconds" in hass.states.get(entity_id).attributes
    recorded = await hass.async_add_executor_job(
        get_significant_states,
        hass,
        dt_util.as_utc(start) - timedelta(minutes=1),
        None,
        [entity_id],
        None,
        True,
        False,
    )
    assert recorded[entity_id]
    for state in recorded[entity_id]:
        assert "data_age_seconds" not in state.attributes
        assert state.attributes["error_state"] == "none"
