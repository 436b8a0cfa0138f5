"""Tests of reading the stores: missing, valid, of another shape, of a newer version."""

from __future__ import annotations

from datetime import date
import logging
from pathlib import Path
from typing import Any, Final
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers.storage import STORAGE_DIR, Store
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor.breach import breach_store_key
from custom_components.export_monitor.controller import session_store_key
from custom_components.export_monitor.coordinator import counter_store_key
from custom_components.export_monitor.floor import floor_store_key
from custom_components.export_monitor.history import history_store_key, today_store_key
from custom_components.export_monitor.inverter import flash_store_key
from custom_components.export_monitor.logic.breach import BreachRecord, breach_to_data
from tests.conftest import async_setup_missing_a_source
from tests.discharge import ENTRY_ID, async_setup_entry

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+00:00")

OVER: Final = "sensor.export_monitor_over_export_today"
STATUS: Final = "sensor.export_monitor_discharge_status"
# Every store an entry reads at set-up, by what it keeps.
STORES: Final = {
    "session": session_store_key(ENTRY_ID),
    "counters": counter_store_key(ENTRY_ID),
    "history": history_store_key(ENTRY_ID),
    "history_today": today_store_key(ENTRY_ID),
    "breach": breach_store_key(ENTRY_ID),
    "floor": floor_store_key(ENTRY_ID),
    "flash": flash_store_key(ENTRY_ID),
}
# Home Assistant's own file reading, kept before the hass_storage fixture replaces it.
REAL_LOAD: Final = Store._async_load  # noqa: SLF001
NEWER: Final = "stored by a newer version"
OTHER_SHAPE: Final = "stored in a form this version cannot read"


def stored(key: str, data: Any, version: int = 1) -> dict[str, Any]:
    """Return the Store file holding `data` under `key`."""
    return {"version": version, "minor_version": 1, "key": key, "data": data}


def store_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the warnings about stores set aside."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "Ignoring" in record.getMessage()
    ]


async def test_missing_stores_start_afresh(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With nothing stored the entry sets up with nothing known and says nothing of it."""
    await async_setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    assert (hass.states.get(OVER).state, hass.states.get(STATUS).state) == (
        "0.0",
        "idle",
    )
    assert store_warnings(caplog) == []


async def test_a_valid_store_is_read(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    inverter: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A store of this version is read back: today's breach shows again."""
    record = BreachRecord(day=date(2026, 6, 15), over_kwh=0.3, max_over_kwh=0.3)
    key = STORES["breach"]
    hass_storage[key] = stored(key, {"record": breach_to_data(record)})
    await async_setup_entry(hass, config_entry)
    assert hass.states.get(OVER).state == "0.3"
    assert store_warnings(caplog) == []


@pytest.mark.parametrize("key", list(STORES.values()), ids=list(STORES))
@pytest.mark.parametrize(
    ("data", "version", "said"),
    [(["garbage"], 1, OTHER_SHAPE), ("garbage", 1, OTHER_SHAPE), ({}, 2, NEWER)],
    ids=["a_list", "a_string", "newer_version"],
)
async def test_an_unreadable_store_is_set_aside(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    inverter: None,
    caplog: pytest.LogCaptureFixture,
    key: str,
    data: Any,
    version: int,
    said: str,
) -> None:
    """A store this version cannot read is logged once and counts as nothing stored."""
    hass_storage[key] = stored(key, data, version)
    await async_setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get(STATUS).state == "idle"
    assert len(warnings := store_warnings(caplog)) == 1
    assert said in warnings[0]


@pytest.mark.parametrize(
    ("data", "version"),
    [("garbage", 1), ({"session": None}, 2)],
    ids=["other_shape", "newer_version"],
)
async def test_an_unreadable_session_is_stopped_while_setup_waits(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    service_calls: list[Event],
    data: Any,
    version: int,
) -> None:
    """A session store that cannot be read may have said a discharge runs: it is stopped."""
    key = STORES["session"]
    hass_storage[key] = stored(key, data, version)
    await async_setup_missing_a_source(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert [call.data["service"] for call in service_calls] == ["turn_off"]
    assert hass_storage[key]["data"] == {"session": None}


@pytest.mark.parametrize(
    "content",
    ['{"data": {}}', "[]", "null", '"text"', None],
    ids=["no_version", "a_list", "null", "a_string", "not_a_file"],
)
async def test_a_store_file_not_in_the_stores_form_is_set_aside(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    content: str | None,
) -> None:
    """A file Home Assistant's Store cannot read is logged; the entry still sets up."""
    hass.config.config_dir = str(tmp_path)
    path = tmp_path / STORAGE_DIR / STORES["floor"]
    path.parent.mkdir()
    if content is None:
        path.mkdir()  # opening it fails: an I/O error
    else:
        path.write_text(content)
    with patch.object(Store, "_async_load", REAL_LOAD):
        await async_setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    assert len(warnings := store_warnings(caplog)) == 1
    assert "a SOC floor that could not be read" in warnings[0]
