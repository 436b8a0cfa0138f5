"""Numbers: the tunables users change often, saved in the entry options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import override

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import (
    CONF_DISCHARGE_POWER_KW,
    CONF_MIN_SOC,
    CONF_SAFETY_MARGIN_KWH,
    DEFAULT_DISCHARGE_POWER_KW,
    DEFAULT_MIN_SOC,
    DEFAULT_SAFETY_MARGIN_KWH,
)
from .entity import ExportMonitorEntity
from .logic.settings import settings_from_options
from .models import ExportMonitorConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class ExportMonitorNumberEntityDescription(NumberEntityDescription):
    """Describes a tunable backed by one entry option."""

    option: str
    default: float


NUMBERS: tuple[ExportMonitorNumberEntityDescription, ...] = (
    ExportMonitorNumberEntityDescription(
        key="min_soc",
        translation_key="min_soc",
        option=CONF_MIN_SOC,
        default=DEFAULT_MIN_SOC,
        native_min_value=0,
        native_max_value=99,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        device_class=NumberDeviceClass.BATTERY,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
    ),
    ExportMonitorNumberEntityDescription(
        key="safety_margin",
        translation_key="safety_margin",
        option=CONF_SAFETY_MARGIN_KWH,
        default=DEFAULT_SAFETY_MARGIN_KWH,
        native_min_value=0,
        native_max_value=20,
        native_step=0.1,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        device_class=NumberDeviceClass.ENERGY,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
    ),
    ExportMonitorNumberEntityDescription(
        key="discharge_power",
        translation_key="discharge_power",
        option=CONF_DISCHARGE_POWER_KW,
        default=DEFAULT_DISCHARGE_POWER_KW,
        native_min_value=0.1,
        native_max_value=50,
        native_step=0.1,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        device_class=NumberDeviceClass.POWER,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ExportMonitorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the numbers of one entry."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        ExportMonitorNumber(coordinator, description) for description in NUMBERS
    )


class ExportMonitorNumber(ExportMonitorEntity, NumberEntity):
    """A tunable whose value lives in the entry options, so it survives restarts."""

    entity_description: ExportMonitorNumberEntityDescription

    @property
    @override
    def native_value(self) -> float:
        """Return the saved value."""
        description = self.entity_description
        options = self.coordinator.config_entry.options
        return float(options.get(description.option, description.default))

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Save the value in the options and apply it at once."""
        entry = self.coordinator.config_entry
        options = {**entry.options, self.entity_description.option: value}
        self.hass.config_entries.async_update_entry(entry, options=options)
        self.coordinator.settings = settings_from_options(options)
        self.coordinator.async_refresh_now()
