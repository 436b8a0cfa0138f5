"""The Energy Export Monitor integration: export battery energy within the rule."""

from __future__ import annotations

from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.storage import Store
from homeassistant.helpers.typing import ConfigType

from .breach import ExportMonitorBreachDetector, breach_store_key
from .const import (
    CONF_EXPORT_ENERGY_TODAY_ENTITY,
    CONF_PV_ENERGY_TODAY_ENTITY,
    CONF_SOC_ENTITY,
    DOMAIN,
    LOGGER,
)
from .controller import ExportMonitorController, session_store_key
from .coordinator import ExportMonitorCoordinator, counter_store_key
from .entity_tracking import ExportMonitorEntityTracker
from .history import ExportMonitorHistory, history_store_key, today_store_key
from .inverter import flash_store_key
from .lifecycle import async_guard, async_release_guard, async_stop_before_setup
from .models import ExportMonitorConfigEntry, ExportMonitorRuntimeData
from .profiles.base import Role
from .profiles.options import controls, migrate_flat_options, profile
from .services import async_setup_services
from .supervisor import ExportMonitorSupervisor

PLATFORMS: list[Platform] = [
    Platform.BUTTON,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
REQUIRED_SOURCES = (
    CONF_SOC_ENTITY,
    CONF_PV_ENERGY_TODAY_ENTITY,
    CONF_EXPORT_ENERGY_TODAY_ENTITY,
)
# Minor version 2 keeps the inverter's controls as a profile and {role: entity id}.
CURRENT_MINOR_VERSION = 2


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services once for all entries."""
    async_setup_services(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: ExportMonitorConfigEntry
) -> bool:
    """Set up one monitor: read, reconcile a running discharge, then add entities."""
    # This entry's controller takes over from a guard left by an earlier attempt.
    async_release_guard(hass, entry.entry_id)
    missing = [
        entity_id
        for entity_id in _required_entities(entry)
        if hass.states.get(entity_id) is None
    ]
    if missing:
        # Stop first: set-up may retry for a long time.
        await async_stop_before_setup(hass, entry)
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="entities_not_ready",
            translation_placeholders={"entities": ", ".join(missing)},
        )
    coordinator = ExportMonitorCoordinator(hass, entry)
    await coordinator.async_load_counters()
    await coordinator.async_config_entry_first_refresh()
    controller = ExportMonitorController(hass, entry, coordinator)
    history = ExportMonitorHistory(hass, entry, coordinator)
    await history.async_load()
    entry.runtime_data = ExportMonitorRuntimeData(
        coordinator=coordinator, controller=controller, history=history
    )
    # Listening to events before the reconcile: a discharge it stops is part of the record.
    history.async_start()
    await controller.notifier.async_load()
    await controller.floor.async_load()
    await controller.inverter.async_load()
    supervisor = ExportMonitorSupervisor(hass, controller)
    detector = ExportMonitorBreachDetector(hass, controller)
    await detector.async_load()
    entry.async_on_unload(
        hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, controller.async_on_hass_stop)
    )
    await supervisor.async_reconcile()
    coordinator.async_start()
    # Before the supervisor: a breach, not the rule it implies, names the stop.
    detector.async_start()
    supervisor.async_start()
    controller.floor.async_start()
    history.async_follow_snapshots()
    ExportMonitorEntityTracker(hass, entry, controller).async_start()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


def _required_entities(entry: ExportMonitorConfigEntry) -> list[str]:
    """Return the sources and the profile's required entity controls, in order."""
    chosen = controls(entry.options)
    required = [
        chosen[control.role]
        for control in profile(entry.options).controls
        if control.required
        and control.role is not Role.DEVICE
        and control.role in chosen
    ]
    return [str(entry.options[key]) for key in REQUIRED_SOURCES] + required


async def async_unload_entry(
    hass: HomeAssistant, entry: ExportMonitorConfigEntry
) -> bool:
    """Stop any discharge first, then unload the entities."""
    controller = entry.runtime_data.controller
    await controller.async_shutdown()
    if controller.active:
        # Unload anyway (a reload must stay possible); a guard keeps retrying the stop.
        LOGGER.error(
            "%s unloads with its discharge not confirmed stopped; retrying every 30 s",
            entry.title,
        )
        async_guard(hass, entry, retry=True)
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    # Written now, so a reload reads back today's record, stops included.
    await entry.runtime_data.history.async_save()
    return unloaded


async def async_migrate_entry(
    hass: HomeAssistant, entry: ExportMonitorConfigEntry
) -> bool:
    """Migrate an entry to the current version; refuse entries from the future."""
    if entry.version > 1:
        LOGGER.error("Cannot downgrade %s from version %s", entry.title, entry.version)
        return False
    if entry.minor_version < CURRENT_MINOR_VERSION:
        hass.config_entries.async_update_entry(
            entry,
            options=migrate_flat_options(entry.options),
            minor_version=CURRENT_MINOR_VERSION,
        )
        LOGGER.info("Migrated %s to the generic inverter profile", entry.title)
    return True


async def async_remove_entry(
    hass: HomeAssistant, entry: ExportMonitorConfigEntry
) -> None:
    """Delete the entry's stored session, counters, compliance history and breach record."""
    async_release_guard(hass, entry.entry_id)
    for key in (
        session_store_key(entry.entry_id),
        counter_store_key(entry.entry_id),
        history_store_key(entry.entry_id),
        breach_store_key(entry.entry_id),
        today_store_key(entry.entry_id),
        flash_store_key(entry.entry_id),
    ):
        await Store[dict[str, Any]](hass, 1, key).async_remove()
