"""Typed runtime data attached to the config entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from .controller import ExportMonitorController
    from .coordinator import ExportMonitorCoordinator
    from .history import ExportMonitorHistory


@dataclass(slots=True)
class ExportMonitorRuntimeData:
    """What one loaded entry owns while it runs."""

    coordinator: ExportMonitorCoordinator
    controller: ExportMonitorController
    history: ExportMonitorHistory


type ExportMonitorConfigEntry = ConfigEntry[ExportMonitorRuntimeData]
