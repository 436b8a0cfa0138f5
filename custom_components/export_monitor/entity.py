"""Base entity: description, unique id and the entry's service device."""

from __future__ import annotations

from typing import Any, override

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import ExportMonitorCoordinator


class ExportMonitorEntity(CoordinatorEntity[ExportMonitorCoordinator]):
    """An entity of the export monitor's service device."""

    _attr_has_entity_name = True
    # The heartbeat and what the entity showed at its last write.
    _written: tuple[int, tuple[bool, Any, Any]] | None = None

    def __init__(
        self, coordinator: ExportMonitorCoordinator, description: EntityDescription
    ) -> None:
        """Bind the description and the entry's device."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.entity_description = description
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            entry_type=DeviceEntryType.SERVICE,
            manufacturer="Energy Export Monitor",
            model="Export guard",
        )

    @property
    @override
    def available(self) -> bool:
        """Return whether the coordinator has data."""
        return super().available and self.coordinator.data is not None

    @override
    async def async_added_to_hass(self) -> None:
        """Note what the first write (made on adding) shows."""
        await super().async_added_to_hass()
        self._written = (self.coordinator.beats, self._shown())

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Write when what the entity shows changed, or on a heartbeat.

        Every source update publishes the view: writing every entity each time
        wrote unchanged states many times a second.
        """
        written = (self.coordinator.beats, self._shown())
        if written == self._written:
            return
        self._written = written
        super()._handle_coordinator_update()

    def _shown(self) -> tuple[bool, Any, Any]:
        """Return what the entity shows: whether available, its state, its attributes."""
        if not self.available:
            return (False, None, None)
        return (True, self.state, self.extra_state_attributes)
