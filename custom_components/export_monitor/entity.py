"""Base entity: description, unique id and the entry's service device."""

from __future__ import annotations

from typing import override

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import ExportMonitorCoordinator


class ExportMonitorEntity(CoordinatorEntity[ExportMonitorCoordinator]):
    """An entity of the export monitor's service device."""

    _attr_has_entity_name = True

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
