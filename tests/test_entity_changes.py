"""Tests of following the configured entities: renames, removals, returns, unit changes."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.export_monitor.const import (
    CONF_BATTERY_POWER_ENTITY,
    CONF_EXPORT_ENERGY_TODAY_ENTITY,
    CONF_GRID_POWER_ENTITY,
    CONF_PV_ENERGY_TODAY_ENTITY,
    CONF_SOC_ENTITY,
    EVENT_DISCHARGE_STOPPED,
)
from custom_components.export_monitor.entity_tracking import (
    configured_entities,
    renamed_options,
)
from custom_components.export_monitor.profiles.options import migrate_flat_options
from tests.conftest import (
    BATTERY,
    CUTOFF,
    DURATION,
    ENABLE,
    ENERGY_ATTRS,
    EXPORT,
    GRID,
    POWER,
    PV,
    SOC,
    async_setup_inverter,
    base_options,
    set_sources,
)
from tests.discharge import async_call, async_settle
from tests.resilience import (
    ERROR,
    EXPORTED,
    STATUS,
    async_tick,
    issue_placeholders,
    notices,
    state_of,
)

# The stop retries sleep between attempts: the clock must run.
pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00", tick=True)

# Sources are plain states in these tests; give them registry entries to rename.
SENSORS = (SOC, PV, EXPORT, GRID, BATTERY)
ENTITY_KEYS = {
    SOC: CONF_SOC_ENTITY,
    PV: CONF_PV_ENERGY_TODAY_ENTITY,
    EXPORT: CONF_EXPORT_ENERGY_TODAY_ENTITY,
    GRID: CONF_GRID_POWER_ENTITY,
    BATTERY: CONF_BATTERY_POWER_ENTITY,
}
# The inverter's controls, by their role in the (migrated) options.
CONTROL_ROLES = {ENABLE: "enable", POWER: "power", CUTOFF: "cutoff", DURATION: "timer"}
# Every configured entity except the enable switch, whose loss also fails the stop.
REMOVABLE = (SOC, PV, EXPORT, GRID, BATTERY, POWER, CUTOFF, DURATION)


def register_sensors(hass: HomeAssistant) -> None:
    """Give every source sensor a registry entry, as an integration's sensor has."""
    registry = er.async_get(hass)
    for entity_id in SENSORS:
        domain, _, object_id = entity_id.partition(".")
        entry = registry.async_get_or_create(
            domain, "test", object_id, suggested_object_id=object_id
        )
        assert entry.entity_id == entity_id


def renamed(entity_id: str) -> str:
    """Return the new id an entity gets in the rename tests."""
    return f"{entity_id}_renamed"


def move_state(hass: HomeAssistant, old: str, new: str) -> None:
    """Move a plain state to a new id, as a renamed entity re-adds itself."""
    state = hass.states.get(old)
    if state is None:
        return
    hass.states.async_remove(old)
    hass.states.async_set(new, state.state, state.attributes)


@callback
def follow_renames(hass: HomeAssistant) -> None:
    """Move the plain source states on a rename first, as their entities would."""

    @callback
    def _async_moved(event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        """Move the state of a renamed sensor."""
        data = event.data
        if data["action"] == "update" and data.get("old_entity_id") in SENSORS:
            move_state(hass, data["old_entity_id"], data["entity_id"])

    hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, _async_moved)


async def async_rename(hass: HomeAssistant, old: str, new: str) -> None:
    """Rename an entity in the registry and let the reload that follows finish."""
    er.async_get(hass).async_update_entity(old, new_entity_id=new)
    await async_settle(hass)


async def async_remove(hass: HomeAssistant, entity_id: str) -> None:
    """Remove an entity from the registry; its state goes with it."""
    er.async_get(hass).async_remove(entity_id)
    hass.states.async_remove(entity_id)
    await async_settle(hass)


async def async_start(hass: HomeAssistant) -> None:
    """Start a discharge with the default settings."""
    await async_call(hass, "start_discharge")


async def async_refused_start(hass: HomeAssistant) -> str:
    """Try to start; return the translation key of the refusal."""
    with pytest.raises(ServiceValidationError) as exc_info:
        await async_start(hass)
    return str(exc_info.value.translation_key)


def reasons(events: list[Event]) -> list[str]:
    """Return the reasons of the stopped events."""
    return [str(event.data["reason"]) for event in events]


def energy_attrs(unit: str) -> dict[str, Any]:
    """Return energy sensor attributes with another unit."""
    return {**ENERGY_ATTRS, "unit_of_measurement": unit}


def error_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the messages logged at error level."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
async def tracked(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set up the integration with registry entries for every source sensor."""
    register_sensors(hass)
    follow_renames(hass)
    set_sources(hass)
    await async_setup_inverter(hass)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await async_settle(hass)
    return config_entry


@pytest.fixture
async def switch_back_at_teardown(hass: HomeAssistant) -> AsyncGenerator[None]:
    """After the test, let a lost enable switch reappear off, so the entry can unload."""
    yield
    hass.states.async_set(ENABLE, "off")


# -- pure helpers --------------------------------------------------------------------


def test_configured_entities_skip_unset_options() -> None:
    """Only options that name an entity count; empty optional ones are skipped."""
    options = {**stored_options(), CONF_GRID_POWER_ENTITY: None, "min_soc": 20}
    entities = {value for value in base_options().values() if isinstance(value, str)}
    assert configured_entities(options) == frozenset(entities) - {GRID}


def test_renamed_options_touch_only_entity_options() -> None:
    """A rename changes the entity options naming the old id and nothing else."""
    options = {**stored_options(), "export_window_start": SOC}
    assert renamed_options(options, SOC, "sensor.new") == {
        **options,
        CONF_SOC_ENTITY: "sensor.new",
    }


# -- renames -------------------------------------------------------------------------


def test_renamed_options_rename_a_control() -> None:
    """A renamed control is renamed in the controls; the device id is never touched."""
    options = stored_options()
    options["controls"] = {**options["controls"], "device": ENABLE}
    renamed_controls = renamed_options(options, ENABLE, "switch.new")["controls"]
    assert renamed_controls == {**options["controls"], "enable": "switch.new"}


def stored_options() -> dict[str, Any]:
    """Return the test options as stored since minor version 2."""
    return migrate_flat_options(base_options())


def expected_after_rename(options: Mapping[str, Any], entity_id: str) -> dict[str, Any]:
    """Return the options once `entity_id` is renamed: a source key or a control."""
    if entity_id in ENTITY_KEYS:
        return {**options, ENTITY_KEYS[entity_id]: renamed(entity_id)}
    controls = {**options["controls"], CONTROL_ROLES[entity_id]: renamed(entity_id)}
    return {**options, "controls": controls}


@pytest.mark.parametrize(
    "entity_id", [*ENTITY_KEYS, *CONTROL_ROLES], ids=[*ENTITY_KEYS, *CONTROL_ROLES]
)
async def test_rename_is_followed(
    hass: HomeAssistant, tracked: MockConfigEntry, entity_id: str
) -> None:
    """A renamed source or control is written into the options and the entry reloads."""
    before = tracked.runtime_data
    expected = expected_after_rename(tracked.options, entity_id)
    await async_rename(hass, entity_id, renamed(entity_id))
    assert dict(tracked.options) == expected
    assert tracked.state is ConfigEntryState.LOADED
    assert tracked.runtime_data is not before
    assert state_of(hass, ERROR) == "none"
    assert notices(hass) == set()


async def test_renamed_source_is_read_after_reload(
    hass: HomeAssistant, tracked: MockConfigEntry
) -> None:
    """After a rename the monitor reads the export counter under its new id."""
    await async_rename(hass, EXPORT, renamed(EXPORT))
    hass.states.async_set(renamed(EXPORT), "3.1", ENERGY_ATTRS)
    await async_settle(hass)
    assert state_of(hass, EXPORTED) == "3.1"


async def test_renamed_control_is_written_after_reload(
    hass: HomeAssistant, tracked: MockConfigEntry
) -> None:
    """After a rename a start writes the power to the control's new id."""
    await async_rename(hass, POWER, renamed(POWER))
    await async_call(hass, "start_discharge", power_kw=2.5)
    assert state_of(hass, renamed(POWER)) == "2.5"
    assert state_of(hass, ENABLE) == "on"


async def test_rename_during_discharge_stops_cleanly(
    hass: HomeAssistant, tracked: MockConfigEntry
) -> None:
    """Renaming the enable switch mid-discharge reloads: the unload stops it, no fault."""
    stopped = async_capture_events(hass, EVENT_DISCHARGE_STOPPED)
    await async_start(hass)
    await async_rename(hass, ENABLE, renamed(ENABLE))
    assert reasons(stopped) == ["unload"]
    assert state_of(hass, renamed(ENABLE)) == "off"
    assert tracked.options["controls"]["enable"] == renamed(ENABLE)
    assert (state_of(hass, STATUS), state_of(hass, ERROR)) == ("idle", "none")
    assert notices(hass) == set()


async def test_two_quick_renames_are_both_followed(
    hass: HomeAssistant, tracked: MockConfigEntry
) -> None:
    """A second rename before the first reload has run is followed as well."""
    registry = er.async_get(hass)
    registry.async_update_entity(SOC, new_entity_id=renamed(SOC))
    registry.async_update_entity(PV, new_entity_id=renamed(PV))
    await async_settle(hass)
    assert tracked.options[CONF_SOC_ENTITY] == renamed(SOC)
    assert tracked.options[CONF_PV_ENERGY_TODAY_ENTITY] == renamed(PV)
    assert tracked.state is ConfigEntryState.LOADED
    assert state_of(hass, ERROR) == "none"


async def test_unrelated_registry_changes_are_ignored(
    hass: HomeAssistant, tracked: MockConfigEntry
) -> None:
    """Renaming or removing someone else's entity, or renaming ours in name only, does nothing."""
    registry = er.async_get(hass)
    other = registry.async_get_or_create("sensor", "test", "other")
    before = tracked.runtime_data
    registry.async_update_entity(other.entity_id, new_entity_id="sensor.other_new")
    registry.async_remove("sensor.other_new")
    registry.async_update_entity(SOC, name="Battery")
    await async_settle(hass)
    assert tracked.runtime_data is before
    assert dict(tracked.options) == stored_options()
    assert notices(hass) == set()


# -- removals --------------------------------------------------------------------------


@pytest.mark.parametrize("entity_id", REMOVABLE, ids=REMOVABLE)
async def test_removal_stops_and_raises_repair(
    hass: HomeAssistant, tracked: MockConfigEntry, entity_id: str
) -> None:
    """Removing a configured entity mid-discharge stops it and leaves a clear fault."""
    stopped = async_capture_events(hass, EVENT_DISCHARGE_STOPPED)
    await async_start(hass)
    await async_remove(hass, entity_id)
    assert reasons(stopped) == ["source_removed"]
    assert state_of(hass, ENABLE) == "off"
    assert state_of(hass, ERROR) == "source_missing"
    assert await async_refused_start(hass) == "start_blocked_source_missing"
    # The refusal shows the same condition again: the entity stays named.
    assert "source_missing" in notices(hass)
    assert issue_placeholders(hass, "source_missing") == {
        "title": "Export Monitor",
        "entity_id": entity_id,
    }
    assert dict(tracked.options) == stored_options()


@pytest.mark.usefixtures("switch_back_at_teardown")
async def test_removed_enable_switch_cannot_be_stopped(
    hass: HomeAssistant, tracked: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """Losing the enable switch mid-discharge: the unverifiable stop is the alarm."""
    await async_start(hass)
    await async_remove(hass, ENABLE)
    assert state_of(hass, ERROR) == "discharge_stop_failed"
    assert notices(hass) == {"source_missing", "discharge_stop_failed"}
    assert issue_placeholders(hass, "source_missing") == {
        "title": "Export Monitor",
        "entity_id": ENABLE,
    }
    assert error_logs(caplog) == [
        "Could not stop the forced discharge: "
        f"Could not turn off {ENABLE} (did not read back). "
        "The battery may still be exporting"
    ]


@pytest.mark.usefixtures("switch_back_at_teardown")
async def test_second_loss_during_failed_stop_keeps_the_stop_alarm(
    hass: HomeAssistant, tracked: MockConfigEntry
) -> None:
    """Another entity lost while a stop failed is listed, the stop failure stays the state."""
    await async_start(hass)
    await async_remove(hass, ENABLE)
    await async_remove(hass, POWER)
    assert state_of(hass, ERROR) == "discharge_stop_failed"
    assert issue_placeholders(hass, "source_missing") == {
        "title": "Export Monitor",
        "entity_id": f"{ENABLE}, {POWER}",
    }


async def test_recreated_entity_clears_the_repair(
    hass: HomeAssistant, tracked: MockConfigEntry
) -> None:
    """A removed sensor that is created again clears the repair; starts work again."""
    await async_remove(hass, BATTERY)
    registry = er.async_get(hass)
    registry.async_get_or_create(
        "sensor", "test", "battery_power", suggested_object_id="battery_power"
    )
    await async_settle(hass)
    assert state_of(hass, ERROR) == "none"
    assert notices(hass) == set()
    assert issue_placeholders(hass, "source_missing") is None
    await async_start(hass)
    assert state_of(hass, ENABLE) == "on"


# -- states that vanish without the registry ------------------------------------------------


async def test_vanished_source_state_stops_and_recovers(
    hass: HomeAssistant, tracked: MockConfigEntry
) -> None:
    """A required source whose state disappears stops the discharge until it is back."""
    stopped = async_capture_events(hass, EVENT_DISCHARGE_STOPPED)
    await async_start(hass)
    pv = hass.states.get(PV)
    hass.states.async_remove(PV)
    await async_settle(hass)
    assert reasons(stopped) == ["source_removed"]
    assert (state_of(hass, ENABLE), state_of(hass, ERROR)) == ("off", "source_missing")
    assert issue_placeholders(hass, "source_missing") == {
        "title": "Export Monitor",
        "entity_id": PV,
    }
    hass.states.async_set(PV, pv.state, pv.attributes)
    await async_settle(hass)
    assert state_of(hass, ERROR) == "none"
    assert notices(hass) == set()
    assert issue_placeholders(hass, "source_missing") is None


async def test_state_recreated_at_once_is_no_loss(
    hass: HomeAssistant, tracked: MockConfigEntry
) -> None:
    """A state removed and written again in the same moment (an entity re-added) is kept."""
    stopped = async_capture_events(hass, EVENT_DISCHARGE_STOPPED)
    await async_start(hass)
    battery = hass.states.get(BATTERY)
    hass.states.async_remove(BATTERY)
    hass.states.async_set(BATTERY, battery.state, battery.attributes)
    await async_settle(hass)
    assert (state_of(hass, ENABLE), state_of(hass, ERROR)) == ("on", "none")
    assert stopped == []
    assert notices(hass) == set()


async def test_vanished_optional_source_blocks_starts(
    hass: HomeAssistant, tracked: MockConfigEntry
) -> None:
    """An optional source that vanishes (a YAML sensor removed) blocks starts until back."""
    battery = hass.states.get(BATTERY)
    hass.states.async_remove(BATTERY)
    await async_settle(hass)
    assert (state_of(hass, STATUS), state_of(hass, ERROR)) == (
        "blocked",
        "source_missing",
    )
    assert await async_refused_start(hass) == "start_blocked_source_missing"
    hass.states.async_set(BATTERY, battery.state, battery.attributes)
    await async_settle(hass)
    assert (state_of(hass, STATUS), state_of(hass, ERROR)) == ("idle", "none")


async def test_vanished_then_renamed_entity_is_followed(
    hass: HomeAssistant,
    slow_setup: None,
    tracked: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A sensor that vanished and comes back under a new id is followed, fault cleared.

    After a slow setup too: the retry is due 10 s after it was set (clock_forward).
    """
    soc = hass.states.get(SOC)
    hass.states.async_remove(SOC)
    await async_settle(hass)
    er.async_get(hass).async_update_entity(SOC, new_entity_id=renamed(SOC))
    await async_settle(hass)
    hass.states.async_set(renamed(SOC), soc.state, soc.attributes)
    # The reload found no state under the new id yet: its retry follows in seconds.
    await async_tick(hass, freezer, 10)
    assert tracked.options[CONF_SOC_ENTITY] == renamed(SOC)
    assert tracked.state is ConfigEntryState.LOADED
    assert state_of(hass, ERROR) == "none"
    assert notices(hass) == set()
    assert issue_placeholders(hass, "source_missing") is None


async def test_reload_dismisses_what_no_longer_holds(
    hass: HomeAssistant, tracked: MockConfigEntry
) -> None:
    """A sensor that came back while the entry was unloaded leaves no stale repair."""
    battery = hass.states.get(BATTERY)
    hass.states.async_remove(BATTERY)
    await async_settle(hass)
    assert issue_placeholders(hass, "source_missing") is not None
    assert await hass.config_entries.async_unload(tracked.entry_id)
    hass.states.async_set(BATTERY, battery.state, battery.attributes)
    assert await hass.config_entries.async_setup(tracked.entry_id)
    await async_settle(hass)
    assert notices(hass) == set()
    assert issue_placeholders(hass, "source_missing") is None
    assert state_of(hass, ERROR) == "none"


async def test_unload_ignores_late_removals(
    hass: HomeAssistant, tracked: MockConfigEntry
) -> None:
    """Once the entry is unloaded, a removed state neither stops nor notifies anything."""
    hass.states.async_remove(GRID)
    assert await hass.config_entries.async_unload(tracked.entry_id)
    await async_settle(hass)
    assert notices(hass) == set()


# -- units -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "shown"),
    [
        (("3000", "Wh"), ("3.1", "kWh"), "3.1"),
        (("3.1", "kWh"), ("3200", "Wh"), "3.2"),
        (("3.1", "kWh"), ("0.0032", "MWh"), "3.2"),
    ],
    ids=["wh_to_kwh", "kwh_to_wh", "kwh_to_mwh"],
)
async def test_unit_change_is_converted(
    hass: HomeAssistant,
    tracked: MockConfigEntry,
    first: tuple[str, str],
    second: tuple[str, str],
    shown: str,
) -> None:
    """An export counter that switches its unit at runtime is converted again."""
    hass.states.async_set(EXPORT, first[0], energy_attrs(first[1]))
    await async_settle(hass)
    hass.states.async_set(EXPORT, second[0], energy_attrs(second[1]))
    await async_settle(hass)
    assert (state_of(hass, EXPORTED), state_of(hass, ERROR)) == (shown, "none")


async def test_unusable_unit_blocks(
    hass: HomeAssistant, tracked: MockConfigEntry
) -> None:
    """A counter that switches to a unit we cannot convert is unreadable."""
    hass.states.async_set(EXPORT, "3", energy_attrs("kW"))
    await async_settle(hass)
    assert state_of(hass, ERROR) == "export_read_failed"
    assert await async_refused_start(hass) == "start_blocked_export_read_failed"
