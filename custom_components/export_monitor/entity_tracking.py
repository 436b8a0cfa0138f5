"""Follow the configured entities: renames update the options, removals stop and tell."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event

from .const import (
    CONF_BATTERY_POWER_ENTITY,
    CONF_CONTROLS,
    CONF_EXPORT_ENERGY_TODAY_ENTITY,
    CONF_FORECAST_TODAY_ENTITY,
    CONF_GRID_POWER_ENTITY,
    CONF_PV_ENERGY_TODAY_ENTITY,
    CONF_SOC_ENTITY,
    LOGGER,
)
from .controller import ExportMonitorController
from .logic.errors import ErrorState
from .logic.supervision import StopReason
from .models import ExportMonitorConfigEntry
from .profiles.base import Role
from .profiles.options import controls

# Every source option that names another entity (the controls follow apart).
ENTITY_OPTIONS: Final = (
    CONF_SOC_ENTITY,
    CONF_PV_ENERGY_TODAY_ENTITY,
    CONF_EXPORT_ENERGY_TODAY_ENTITY,
    CONF_GRID_POWER_ENTITY,
    CONF_BATTERY_POWER_ENTITY,
    CONF_FORECAST_TODAY_ENTITY,
)


def configured_entities(options: Mapping[str, Any]) -> frozenset[str]:
    """Return the entity ids the options name: sources and the inverter's controls."""
    sources = {str(options[key]) for key in ENTITY_OPTIONS if options.get(key)}
    chosen = controls(options)
    # The device role holds a device id, not an entity.
    return frozenset(sources | {e for r, e in chosen.items() if r is not Role.DEVICE})


def renamed_options(
    options: Mapping[str, Any], old_entity_id: str, new_entity_id: str
) -> dict[str, Any]:
    """Return the options with every reference to `old_entity_id` renamed."""
    renamed = {
        key: new_entity_id
        if key in ENTITY_OPTIONS and value == old_entity_id
        else value
        for key, value in options.items()
    }
    renamed[CONF_CONTROLS] = {
        role.value: new_entity_id
        if entity_id == old_entity_id and role is not Role.DEVICE
        else entity_id
        for role, entity_id in controls(options).items()
    }
    return renamed


class ExportMonitorEntityTracker:
    """Keeps an entry pointed at its entities and fails closed when one goes away."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ExportMonitorConfigEntry,
        controller: ExportMonitorController,
    ) -> None:
        """Bind to the entry and the controller that stops discharges."""
        self.hass = hass
        self.entry = entry
        self.controller = controller
        self.entities = configured_entities(entry.options)
        self.missing: set[str] = set()
        self.renamed: set[str] = set()
        self._following = True

    @callback
    def async_start(self) -> None:
        """Listen to the entity registry and to the entities' states."""
        entry = self.entry
        entry.async_on_unload(
            self.hass.bus.async_listen(
                er.EVENT_ENTITY_REGISTRY_UPDATED,
                self._async_on_registry,
                event_filter=self._is_ours,
            )
        )
        entry.async_on_unload(
            async_track_state_change_event(
                self.hass, sorted(self.entities), self._async_on_state
            )
        )
        entry.async_on_unload(self._async_stop_following)

    @callback
    def _async_stop_following(self) -> None:
        """Ignore whatever is still queued once the entry unloads or reloads."""
        self._following = False

    @callback
    def _is_ours(self, data: er.EventEntityRegistryUpdatedData) -> bool:
        """Return whether a registry change concerns one of our entities."""
        old = data.get("old_entity_id")
        return data["entity_id"] in self.entities or old in self.entities

    @callback
    def _async_on_registry(
        self, event: Event[er.EventEntityRegistryUpdatedData]
    ) -> None:
        """Follow a rename, fail closed on a removal, recover on a re-creation."""
        data = event.data
        if data["action"] == "update":
            old = data.get("old_entity_id")
            if old is not None and old != data["entity_id"]:
                self._async_renamed(old, data["entity_id"])
        elif data["action"] == "remove":
            self._async_lost(data["entity_id"])
        else:
            self._async_found(data["entity_id"])

    @callback
    def _async_on_state(self, event: Event[EventStateChangedData]) -> None:
        """Notice an entity's state vanishing or coming back."""
        entity_id = event.data["entity_id"]
        if event.data["new_state"] is None:
            # A rename removes the old state just before the registry says so:
            # decide on the next loop pass, once that event has been seen.
            self.entry.async_create_task(
                self.hass,
                self._async_check_gone(entity_id),
                "export_monitor check removed entity",
                eager_start=False,
            )
        elif event.data["old_state"] is None:
            self._async_found(entity_id)

    async def _async_check_gone(self, entity_id: str) -> None:
        """Treat an entity as removed if its state is still gone."""
        if self.hass.states.get(entity_id) is None:
            self._async_lost(entity_id)

    @callback
    def _async_renamed(self, old_entity_id: str, new_entity_id: str) -> None:
        """Point the options at the new entity id and reload to re-subscribe."""
        LOGGER.info("%s was renamed to %s; following it", old_entity_id, new_entity_id)
        # Its old id vanishes next: that is no loss.
        self.renamed.add(old_entity_id)
        if old_entity_id in self.missing:
            self.missing.discard(old_entity_id)
            self._async_sync_fault()
        options = renamed_options(self.entry.options, old_entity_id, new_entity_id)
        self.hass.config_entries.async_update_entry(self.entry, options=options)
        self.hass.config_entries.async_schedule_reload(self.entry.entry_id)

    @callback
    def _async_lost(self, entity_id: str) -> None:
        """Stop any discharge and tell the user a configured entity is gone."""
        if (
            not self._following
            or self.controller.closing
            or entity_id in self.missing | self.renamed
        ):
            return
        LOGGER.warning("%s, used by %s, no longer exists", entity_id, self.entry.title)
        self.missing.add(entity_id)
        # Only our own discharge is stopped: with nothing running, a stop that
        # cannot be verified (the switch may be the entity that is gone) is noise.
        # The off goes out before the user is told.
        if self.controller.active:
            self.controller.request_stop(StopReason.SOURCE_REMOVED)
        self._async_sync_fault()

    @callback
    def _async_found(self, entity_id: str) -> None:
        """Clear the missing-entity fault once every configured entity is back."""
        if not self._following or entity_id not in self.missing:
            return
        LOGGER.info("%s, used by %s, exists again", entity_id, self.entry.title)
        self.missing.discard(entity_id)
        self._async_sync_fault()

    @callback
    def _async_sync_fault(self) -> None:
        """Show the missing entities, or clear the fault when none is missing."""
        controller = self.controller
        if not self.missing:
            controller.clear_fault(ErrorState.SOURCE_MISSING)
            return
        details = {"entity_id": ", ".join(sorted(self.missing))}
        if controller.fault is ErrorState.DISCHARGE_STOP_FAILED:
            # A failed stop is the more urgent state: keep it, but still tell.
            controller.notifier.async_raise(ErrorState.SOURCE_MISSING, details)
            return
        controller.set_fault(ErrorState.SOURCE_MISSING, details)
