"""Switch: automatic discharge inside the export window."""

from __future__ import annotations

from typing import Any, override

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_AUTO_DISCHARGE
from .entity import ExportMonitorEntity
from .logic.settings import settings_from_options
from .models import ExportMonitorConfigEntry

PARALLEL_UPDATES = 1

AUTO_DISCHARGE = SwitchEntityDescription(
    key="auto_discharge",
    translation_key="auto_discharge",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ExportMonitorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the auto-discharge switch of one entry."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities([ExportMonitorAutoDischargeSwitch(coordinator, AUTO_DISCHARGE)])


class ExportMonitorAutoDischargeSwitch(ExportMonitorEntity, SwitchEntity):
    """Turns the automatic discharge on or off; saved in the entry options."""

    @property
    @override
    def is_on(self) -> bool:
        """Return whether automatic discharge is on."""
        return self.coordinator.settings.auto_discharge

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn automatic discharge on."""
        await self._async_set(True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn automatic discharge off."""
        await self._async_set(False)

    async def _async_set(self, on: bool) -> None:
        """Save the choice; switching it clears a latched automatic stop."""
        entry = self.coordinator.config_entry
        options = {**entry.options, CONF_AUTO_DISCHARGE: on}
        self.hass.config_entries.async_update_entry(entry, options=options)
        controller = entry.runtime_data.controller
        controller.last_stop_reason = None
        self.coordinator.settings = settings_from_options(options)
        self.coordinator.async_refresh_now()
