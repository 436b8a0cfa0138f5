"""Tests of the coordinator: push on state events, heartbeat, breaker, daily counters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.export_monitor.const import DOMAIN, LOGGER
from tests.conftest import (
    ENERGY_ATTRS,
    EXPORT,
    GRID,
    POWER_ATTRS,
    PV,
    SOC,
    SOC_ATTRS,
    set_sources,
)

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")


@pytest.fixture(autouse=True)
def enable_all_sensors(entity_registry_enabled_by_default: None) -> None:
    """Read the sensors that are off by default too (set up before the entry)."""


HEALTH = "sensor.export_monitor_system_health"
ERROR = "sensor.export_monitor_error_state"
STALENESS = "sensor.export_monitor_data_staleness"
BREAKER = "sensor.export_monitor_circuit_breaker_status"
ALLOWANCE = "sensor.export_monitor_export_allowance"
EXPORTED = "sensor.export_monitor_exported_today"


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state string."""
    return hass.states.get(entity_id).state


def attributes(hass: HomeAssistant, entity_id: str, *names: str) -> dict[str, Any]:
    """Return the named attributes of an entity."""
    state = hass.states.get(entity_id)
    return {name: state.attributes.get(name) for name in names}


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return what the integration logged at info level or above."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER.name and record.levelno >= logging.INFO
    ]


async def async_advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move the clock on and run the timers that fall due."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def async_heartbeats(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, count: int
) -> None:
    """Let `count` 10 s heartbeats pass, one at a time."""
    for _ in range(count):
        await async_advance(hass, freezer, 10)


@pytest.mark.usefixtures("init_integration")
async def test_source_change_pushes_at_once(hass: HomeAssistant) -> None:
    """A source's new state shows in the sensors without waiting for a heartbeat."""
    # A rise the panels can make in no time (a larger one is held as implausible).
    hass.states.async_set(PV, "12.05", ENERGY_ATTRS)
    await hass.async_block_till_done()

    assert state_of(hass, ALLOWANCE) == "11.55"


def rewrite_same_values(hass: HomeAssistant) -> None:
    """Re-report every source with its unchanged value (a state report)."""
    set_sources(hass)


def stay_silent(hass: HomeAssistant) -> None:
    """Leave the sources alone."""


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    ("meter", "staleness", "is_stale", "health"),
    [
        (rewrite_same_values, "10.0", False, "healthy"),
        # While idle a valid value that is not re-written is quiet, not stale: many
        # sensors write only on change (logic/freshness.py, tests/test_change_only.py).
        (stay_silent, "35.0", False, "healthy"),
    ],
    ids=["same_value_reported", "silent_is_quiet"],
)
async def test_state_report_keeps_data_fresh(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    meter: Callable[[HomeAssistant], None],
    staleness: str,
    is_stale: bool,
    health: str,
) -> None:
    """A meter re-reporting an unchanged value is fresh though last_changed is old."""
    set_up_at = dt_util.utcnow()
    await async_advance(hass, freezer, 25)
    meter(hass)
    await async_advance(hass, freezer, 10)

    assert hass.states.get(SOC).last_changed == set_up_at
    assert (state_of(hass, STALENESS), state_of(hass, HEALTH)) == (staleness, health)
    assert attributes(hass, STALENESS, "is_stale") == {"is_stale": is_stale}


@pytest.mark.usefixtures("init_integration")
async def test_breaker_opens_after_five_failed_reads(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Five heartbeats without a usable SOC open the breaker; good data close it."""
    hass.states.async_set(SOC, STATE_UNAVAILABLE, SOC_ATTRS)
    await async_heartbeats(hass, freezer, 4)

    assert state_of(hass, BREAKER) == "closed"
    assert attributes(hass, BREAKER, "failure_count") == {"failure_count": 4}

    await async_heartbeats(hass, freezer, 1)

    fifth_failure = dt_util.parse_datetime("2026-06-15T19:00:50+00:00")
    assert state_of(hass, BREAKER) == "open"
    assert attributes(
        hass, BREAKER, "failure_count", "last_failure_time", "can_attempt"
    ) == {
        "failure_count": 5,
        "last_failure_time": fifth_failure,
        "can_attempt": True,
    }
    assert state_of(hass, HEALTH) == "circuit_breaker_open"
    assert attributes(hass, HEALTH, "error_state", "circuit_breaker_failures") == {
        "error_state": "soc_read_failed",
        "circuit_breaker_failures": 5,
    }

    set_sources(hass)
    await hass.async_block_till_done()

    assert state_of(hass, BREAKER) == "open"

    await async_heartbeats(hass, freezer, 1)

    assert (state_of(hass, BREAKER), state_of(hass, HEALTH)) == ("closed", "healthy")
    assert attributes(hass, BREAKER, "failure_count", "last_failure_time") == {
        "failure_count": 0,
        "last_failure_time": None,
    }


@pytest.mark.usefixtures("init_integration")
async def test_counter_drop_is_held(hass: HomeAssistant) -> None:
    """A mid-day drop of the export counter holds the last good value until consistent."""
    hass.states.async_set(EXPORT, "1", ENERGY_ATTRS)
    await hass.async_block_till_done()

    assert (
        state_of(hass, EXPORTED),
        state_of(hass, ERROR),
        state_of(hass, HEALTH),
    ) == (
        "3.0",
        "counter_went_backwards",
        "error",
    )

    hass.states.async_set(EXPORT, "2.9", ENERGY_ATTRS)
    await hass.async_block_till_done()

    assert (state_of(hass, EXPORTED), state_of(hass, ERROR)) == (
        "3.0",
        "counter_went_backwards",
    )

    hass.states.async_set(EXPORT, "3.1", ENERGY_ATTRS)
    await hass.async_block_till_done()

    assert (
        state_of(hass, EXPORTED),
        state_of(hass, ERROR),
        state_of(hass, HEALTH),
    ) == (
        "3.1",
        "none",
        "healthy",
    )


@pytest.mark.freeze_time("2026-06-15 23:59:50-07:00")
@pytest.mark.usefixtures("init_integration")
async def test_counters_must_reset_after_midnight(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """After local midnight yesterday's totals are not today's until the counters drop."""
    await async_advance(hass, freezer, 20)

    assert (state_of(hass, ERROR), state_of(hass, HEALTH)) == (
        "counter_not_reset",
        "error",
    )
    assert (state_of(hass, ALLOWANCE), state_of(hass, EXPORTED)) == (
        STATE_UNAVAILABLE,
        STATE_UNAVAILABLE,
    )

    hass.states.async_set(EXPORT, "0", ENERGY_ATTRS)
    await hass.async_block_till_done()

    assert (state_of(hass, ERROR), state_of(hass, EXPORTED)) == (
        "counter_not_reset",
        "0.0",
    )

    hass.states.async_set(PV, "0", ENERGY_ATTRS)
    await hass.async_block_till_done()

    assert (state_of(hass, ERROR), state_of(hass, HEALTH)) == ("none", "healthy")
    assert (state_of(hass, ALLOWANCE), state_of(hass, EXPORTED)) == ("-0.5", "0.0")


@pytest.mark.usefixtures("init_integration")
async def test_unsafe_data_logged_once(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """Losing the data is logged once, however often it is re-read, and so is recovery."""
    hass.states.async_set(SOC, STATE_UNAVAILABLE, SOC_ATTRS)
    await hass.async_block_till_done()
    hass.states.async_set(GRID, "-500", POWER_ATTRS)
    await hass.async_block_till_done()
    set_sources(hass)
    await hass.async_block_till_done()

    assert logged(caplog) == [
        "Export monitor sources are not usable: soc_read_failed",
        "Export monitor sources are usable again",
    ]


@pytest.mark.usefixtures("init_integration")
async def test_failed_write_counts_in_breaker(hass: HomeAssistant) -> None:
    """An inverter write that fails shows as a failure on the breaker sensor."""
    with pytest.raises(HomeAssistantError) as exc_info:
        await hass.services.async_call(
            DOMAIN, "start_discharge", {"power_kw": 20}, blocking=True
        )

    assert exc_info.value.translation_key == "discharge_power_set_failed"
    assert state_of(hass, BREAKER) == "closed"
    assert attributes(
        hass, BREAKER, "failure_count", "action_failures", "read_failures"
    ) == {"failure_count": 1, "action_failures": 1, "read_failures": 0}
    assert state_of(hass, ERROR) == "discharge_power_set_failed"


COUNTER_STORE = "export_monitor.01JEXPORTMONITOR0000000000.counters"


def stored_tracks(day: str, pv: float, export: float) -> dict[str, Any]:
    """Return stored counter tracks of one day."""
    return {
        "pv_today": {"day": day, "last_good_kwh": pv, "reset_seen": True},
        "exported_today": {"day": day, "last_good_kwh": export, "reset_seen": True},
    }


@pytest.fixture
def counter_store(hass_storage: dict[str, Any], stored: dict[str, Any]) -> None:
    """Put counter tracks in the store before the entry is set up."""
    hass_storage[COUNTER_STORE] = {"version": 1, "key": COUNTER_STORE, "data": stored}


@pytest.mark.freeze_time("2026-06-15 00:05:00-07:00")
@pytest.mark.usefixtures("counter_store", "init_integration")
@pytest.mark.parametrize(
    ("stored", "error", "exported"),
    [
        (stored_tracks("2026-06-14", 12, 3), "counter_not_reset", STATE_UNAVAILABLE),
        (stored_tracks("2026-06-15", 12, 3), "none", "3.0"),
        (stored_tracks("2026-06-15", 12, 3.5), "counter_went_backwards", "3.5"),
        # Malformed history is no history: 12 kWh of PV five minutes after midnight
        # cannot be today's, so the counters wait for their reset.
        (
            {"pv_today": "junk", "exported_today": {"day": "later"}},
            "counter_not_reset",
            STATE_UNAVAILABLE,
        ),
    ],
    ids=[
        "restart_after_midnight",
        "restart_same_day",
        "restart_counter_lower",
        "stored_tracks_malformed",
    ],
)
async def test_counter_tracks_survive_restart(
    hass: HomeAssistant,
    error: str,
    exported: str,
) -> None:
    """Stored counter history is checked at start-up, so yesterday's totals are not reused."""
    assert (state_of(hass, ERROR), state_of(hass, EXPORTED)) == (error, exported)


@pytest.mark.usefixtures("init_integration")
async def test_counter_tracks_saved_while_changing(
    hass: HomeAssistant, hass_storage: dict[str, Any], freezer: FrozenDateTimeFactory
) -> None:
    """Counters that keep changing are still written within the save delay."""
    hass.states.async_set(EXPORT, "3.1", ENERGY_ATTRS)
    await hass.async_block_till_done()
    await async_advance(hass, freezer, 5)
    hass.states.async_set(EXPORT, "3.2", ENERGY_ATTRS)
    await hass.async_block_till_done()
    await async_advance(hass, freezer, 5)

    saved = hass_storage[COUNTER_STORE]["data"]
    kept = {"day", "last_good_kwh", "reset_seen"}
    assert {
        source: {key: value for key, value in saved[source].items() if key in kept}
        for source in ("pv_today", "exported_today")
    } == stored_tracks("2026-06-15", 12, 3.2)
    # What is learned of the export meter is kept with the counters.
    assert saved["export_cadence"]["last_value"] == 3.2
    assert saved["exported_today"]["changed_at"] == "2026-06-15T12:00:05-07:00"
