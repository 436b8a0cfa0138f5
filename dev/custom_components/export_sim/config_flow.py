"""The simulator's config entry, made by itself at start-up: it owns the vendor's device."""

from __future__ import annotations

from typing import Any, override

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from . import DOMAIN


class ExportSimConfigFlow(ConfigFlow, domain=DOMAIN):
    """One entry, imported, never shown as a choice in the UI."""

    VERSION = 1

    @override
    async def async_step_import(self, import_data: dict[str, Any]) -> ConfigFlowResult:
        """Create the one entry."""
        await self.async_set_unique_id(DOMAIN)
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title="Simulated plant", data={})
