"""Tests of setting up, unloading and migrating an entry, and of its device and entities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Final
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.export_monitor.const import (
    CONF_CUTOFF_SOC_ENTITY,
    CONF_DISCHARGE_DURATION_ENTITY,
    CONF_DISCHARGE_POWER_ENTITY,
    CONF_DISCHARGE_SWITCH_ENTITY,
    DEFAULT_TITLE,
    DOMAIN,
)
from custom_components.export_monitor.profiles.options import migrate_flat_options
from tests.conftest import (
    BATTERY,
    CUTOFF,
    DURATION,
    ENABLE,
    EXPORT,
    GRID,
    POWER,
    PV,
    SOC,
    async_setup_inverter,
    base_options,
    set_sources,
)
from tests.discharge import (
    FAKE_CUTOFF,
    FAKE_DURATION,
    FAKE_ENABLE,
    FAKE_POWER,
    Behaviour,
    FakeControls,
    async_start,
)

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")

ENTRY_ID = "01JEXPORTMONITOR0000000000"
DIAGNOSTIC = EntityCategory.DIAGNOSTIC
CONFIG = EntityCategory.CONFIG
# The public entity ids (CONTRACT.md), their keys and categories.
ENTITIES: dict[str, tuple[str, EntityCategory | None]] = {
    "sensor.export_monitor_system_health": ("system_health", DIAGNOSTIC),
    "sensor.export_monitor_error_state": ("error_state", DIAGNOSTIC),
    "sensor.export_monitor_data_staleness": ("data_staleness", DIAGNOSTIC),
    "sensor.export_monitor_circuit_breaker_status": (
        "circuit_breaker_status",
        DIAGNOSTIC,
    ),
    "sensor.export_monitor_export_allowance": ("export_allowance", None),
    "sensor.export_monitor_export_headroom": ("export_headroom", None),
    "sensor.export_monitor_exported_today": ("exported_today", None),
    "sensor.export_monitor_over_export_today": ("over_export_today", None),
    "sensor.export_monitor_discharge_status": ("discharge_status", None),
    "sensor.export_monitor_calculated_duration": ("calculated_duration", None),
    "sensor.export_monitor_compliant_days": ("compliant_days", None),
    "button.export_monitor_start_discharge": ("start_discharge", None),
    "button.export_monitor_stop_discharge": ("stop_discharge", None),
    "switch.export_monitor_auto_discharge": ("auto_discharge", CONFIG),
    "number.export_monitor_min_soc": ("min_soc", CONFIG),
    "number.export_monitor_safety_margin": ("safety_margin", CONFIG),
    "number.export_monitor_discharge_power": ("discharge_power", CONFIG),
}
# Changes every heartbeat, or repeats system_health: disabled until a user wants them.
OFF_BY_DEFAULT = frozenset(
    {
        "sensor.export_monitor_data_staleness",
        "sensor.export_monitor_circuit_breaker_status",
    }
)


def entry_states(hass: HomeAssistant, entry_id: str) -> set[str]:
    """Return the set of states the entry's entities are in."""
    registry = er.async_get(hass)
    return {
        hass.states.get(entity.entity_id).state
        for entity in er.async_entries_for_config_entry(registry, entry_id)
    }


def entity_devices(registry: er.EntityRegistry, entry_id: str) -> dict[str, str | None]:
    """Return the device id of each of the entry's entities."""
    return {
        entity.entity_id: entity.device_id
        for entity in er.async_entries_for_config_entry(registry, entry_id)
    }


async def test_setup_and_unload(
    hass: HomeAssistant,
    entity_registry_enabled_by_default: None,
    init_integration: MockConfigEntry,
) -> None:
    """A loaded entry unloads cleanly; its entities become unavailable."""
    assert init_integration.state is ConfigEntryState.LOADED
    assert STATE_UNAVAILABLE not in entry_states(hass, ENTRY_ID)

    assert await hass.config_entries.async_unload(ENTRY_ID)
    await hass.async_block_till_done()

    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert entry_states(hass, ENTRY_ID) == {STATE_UNAVAILABLE}


FAKE_OPTIONS = {
    **base_options(),
    CONF_DISCHARGE_SWITCH_ENTITY: FAKE_ENABLE,
    CONF_DISCHARGE_POWER_ENTITY: FAKE_POWER,
    CONF_CUTOFF_SOC_ENTITY: FAKE_CUTOFF,
    CONF_DISCHARGE_DURATION_ENTITY: FAKE_DURATION,
}


# The stop retries sleep between attempts: let the clock run.
@pytest.mark.freeze_time("2026-06-15 12:00:00-07:00", tick=True)
@pytest.mark.parametrize("options", [FAKE_OPTIONS], ids=["fake_controls"])
async def test_unload_hands_an_unconfirmed_stop_to_a_guard(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
) -> None:
    """An unconfirmed stop no longer blocks the unload: a guard retries it after."""
    # Was FAILED_UNLOAD for good: stop_discharge refused and no reload possible (#19).
    await async_start(hass)
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.RAISE)

    assert await hass.config_entries.async_unload(ENTRY_ID)
    await hass.async_block_till_done()

    assert fake_integration.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(FAKE_ENABLE).state == "on"
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.OBEY)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(FAKE_ENABLE).state == "off"


async def async_create_sources(hass: HomeAssistant) -> None:
    """Create the source sensors."""
    set_sources(hass)


@pytest.mark.parametrize(
    ("present", "appearing", "missing"),
    [
        (
            async_setup_inverter,
            async_create_sources,
            "sensor.battery_soc, sensor.pv_energy_today, sensor.export_energy_today",
        ),
        (
            async_create_sources,
            async_setup_inverter,
            "input_boolean.force_discharge, input_number.discharge_power, "
            "input_number.discharge_cutoff_soc",
        ),
    ],
    ids=["sources_missing", "controls_missing"],
)
async def test_setup_retries_until_entities_exist(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    present: Callable[[HomeAssistant], Awaitable[None]],
    appearing: Callable[[HomeAssistant], Awaitable[None]],
    missing: str,
) -> None:
    """Setup waits for missing entities, naming them, and succeeds once they appear."""
    await present(hass)
    config_entry.add_to_hass(hass)

    assert not await hass.config_entries.async_setup(config_entry.entry_id)

    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert config_entry.error_reason_translation_key == "entities_not_ready"
    assert config_entry.error_reason_translation_placeholders == {"entities": missing}

    await appearing(hass)
    freezer.tick(timedelta(seconds=10))
    async_fire_time_changed(hass)
    # The retry runs as a background task.
    await hass.async_block_till_done(wait_background_tasks=True)

    assert config_entry.state is ConfigEntryState.LOADED


@pytest.mark.usefixtures("inverter")
@pytest.mark.parametrize(
    ("version", "minor_version", "state"),
    [
        (1, 3, ConfigEntryState.LOADED),
        (2, 1, ConfigEntryState.MIGRATION_ERROR),
    ],
    ids=["newer_minor_version_loads", "future_version_refused"],
)
async def test_migrate_entry(
    hass: HomeAssistant, version: int, minor_version: int, state: ConfigEntryState
) -> None:
    """A newer minor version loads as it is; a future version is refused, untouched."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=DEFAULT_TITLE,
        options=migrate_flat_options(base_options()),
        version=version,
        minor_version=minor_version,
    )
    entry.add_to_hass(hass)

    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is state
    assert (entry.version, entry.minor_version) == (version, minor_version)
    assert entry.options == migrate_flat_options(base_options())


# An entry as version 0.1.0 stored it: 1.1, and only the option keys of the contract (with
# values other than the defaults), spelled out so a renamed constant cannot hide a break.
ENTRY_OPTIONS_0_1_0: Final = {
    "soc_entity": SOC,
    "pv_energy_today_entity": PV,
    "export_energy_today_entity": EXPORT,
    "grid_power_entity": GRID,
    "grid_power_export_negative": True,
    "battery_power_entity": BATTERY,
    "battery_power_discharge_positive": True,
    "discharge_switch_entity": ENABLE,
    "discharge_power_entity": POWER,
    "cutoff_soc_entity": CUTOFF,
    "discharge_duration_entity": DURATION,
    "safety_margin_kwh": 0.7,
    "min_soc": 25.0,
    "discharge_power_kw": 2.5,
    "daily_export_cap_kwh": 12.0,
    "forecast_credit": False,
    "forecast_confidence": 0.8,
    "battery_capacity_kwh": 13.5,
    "stale_after_seconds": 45,
    "export_window_start": "16:00:00",
    "export_window_end": "19:00:00",
    "auto_discharge": False,
}
# The same entry once migrated to 1.2: the controls as the generic profile's roles.
ENTRY_OPTIONS_1_2: Final = {
    key: value
    for key, value in ENTRY_OPTIONS_0_1_0.items()
    if not key.startswith(("discharge_switch", "discharge_power_entity"))
    and key not in ("cutoff_soc_entity", "discharge_duration_entity")
} | {
    "profile": "generic",
    "controls": {
        "enable": ENABLE,
        "power": POWER,
        "cutoff": CUTOFF,
        "timer": DURATION,
    },
}


@pytest.mark.usefixtures("inverter")
async def test_entry_written_by_0_1_0_keeps_working(hass: HomeAssistant) -> None:
    """A 1.1 entry migrates to the generic profile, keeps every setting and discharges."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=DEFAULT_TITLE,
        options=ENTRY_OPTIONS_0_1_0,
        version=1,
        minor_version=1,
    )
    entry.add_to_hass(hass)

    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (1, 2)
    assert entry.options == ENTRY_OPTIONS_1_2
    assert len(entry.options) == len(ENTRY_OPTIONS_0_1_0) - 4 + 2
    assert {
        entity_id: hass.states.get(entity_id).state
        for entity_id in (
            "number.export_monitor_min_soc",
            "number.export_monitor_safety_margin",
            "number.export_monitor_discharge_power",
            "switch.export_monitor_auto_discharge",
        )
    } == {
        "number.export_monitor_min_soc": "25.0",
        "number.export_monitor_safety_margin": "0.7",
        "number.export_monitor_discharge_power": "2.5",
        "switch.export_monitor_auto_discharge": "off",
    }
    assert hass.states.get("sensor.export_monitor_system_health").state == "healthy"
    await async_start(hass)
    assert hass.states.get(ENABLE).state == "on"
    assert hass.states.get(POWER).state == "2.5"
    # The SOC floor: min SOC (25 %) or higher, never lower.
    assert float(hass.states.get(CUTOFF).state) >= 25.0
    assert hass.states.get("sensor.export_monitor_discharge_status").state == "active"


async def test_service_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """One service device per entry, named after it, holds every entity."""
    devices = dr.async_entries_for_config_entry(device_registry, ENTRY_ID)

    assert len(devices) == 1
    device = devices[0]
    assert (device.name, device.entry_type, device.identifiers) == (
        "Export Monitor",
        dr.DeviceEntryType.SERVICE,
        {(DOMAIN, ENTRY_ID)},
    )
    assert device == snapshot
    assert entity_devices(entity_registry, ENTRY_ID) == dict.fromkeys(
        ENTITIES, device.id
    )


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    ("entity_id", "key", "category"),
    [(entity_id, *details) for entity_id, details in ENTITIES.items()],
    ids=list(ENTITIES),
)
async def test_default_entity_ids(
    entity_registry: er.EntityRegistry,
    entity_id: str,
    key: str,
    category: EntityCategory | None,
) -> None:
    """Each public entity has its contract id, a stable unique id and its category."""
    entity = entity_registry.async_get(entity_id)

    assert entity is not None
    assert (entity.unique_id, entity.translation_key, entity.entity_category) == (
        f"{ENTRY_ID}_{key}",
        key,
        category,
    )


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    ("entity_id", "enabled"),
    [(entity_id, entity_id not in OFF_BY_DEFAULT) for entity_id in ENTITIES],
    ids=list(ENTITIES),
)
async def test_noisy_entities_off_by_default(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    entity_id: str,
    *,
    enabled: bool,
) -> None:
    """Only the entities that are noise for most users start disabled, without a state."""
    entity = entity_registry.async_get(entity_id)

    assert entity is not None
    assert entity.disabled_by is (
        None if enabled else er.RegistryEntryDisabler.INTEGRATION
    )
    assert (hass.states.get(entity_id) is not None) is enabled


@pytest.mark.usefixtures("inverter")
@pytest.mark.parametrize(
    "platform",
    # The sensors' snapshot is in test_sensor.py.
    [Platform.BUTTON, Platform.NUMBER, Platform.SWITCH],
    ids=str,
)
async def test_entities_snapshot(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    """Every entity's registry entry and state match the snapshot, platform by platform."""
    config_entry.add_to_hass(hass)
    with patch("custom_components.export_monitor.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()

    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)


async def test_removing_the_entry_deletes_its_stored_data(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Deleting the entry leaves no stored session or counter history behind."""
    entry_id = init_integration.entry_id
    await hass.services.async_call(DOMAIN, "start_discharge", {}, blocking=True)
    await hass.services.async_call(DOMAIN, "stop_discharge", {}, blocking=True)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await hass.async_block_till_done()
    keys = {f"{DOMAIN}.{entry_id}.session", f"{DOMAIN}.{entry_id}.counters"}
    assert keys <= set(hass_storage)
    assert await hass.config_entries.async_remove(entry_id)
    await hass.async_block_till_done()
    assert not keys & set(hass_storage)
