"""Buttons: start and stop a discharge by hand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import override

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .controller import ExportMonitorController
from .entity import ExportMonitorEntity
from .logic.control_start import StartRequest
from .logic.supervision import StopReason
from .models import ExportMonitorConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class ExportMonitorButtonEntityDescription(ButtonEntityDescription):
    """Describes an export monitor button."""

    press_fn: Callable[[ExportMonitorController], Awaitable[None]]


BUTTONS: tuple[ExportMonitorButtonEntityDescription, ...] = (
    ExportMonitorButtonEntityDescription(
        key="start_discharge",
        translation_key="start_discharge",
        press_fn=lambda controller: controller.async_start(
            StartRequest(origin="button")
        ),
    ),
    ExportMonitorButtonEntityDescription(
        key="stop_discharge",
        translation_key="stop_discharge",
        press_fn=lambda controller: controller.async_stop(
            StopReason.USER, raise_on_failure=True
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ExportMonitorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons of one entry."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        ExportMonitorButton(coordinator, description) for description in BUTTONS
    )


class ExportMonitorButton(ExportMonitorEntity, ButtonEntity):
    """A button that starts or stops the discharge."""

    entity_description: ExportMonitorButtonEntityDescription

    @override
    async def async_press(self) -> None:
        """Run the button's action."""
        controller = self.coordinator.config_entry.runtime_data.controller
        await self.entity_description.press_fn(controller)
