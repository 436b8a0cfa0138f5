"""The simulated vendor's own entities: thin views on its states (development only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.button import ButtonEntity
from homeassistant.components.number import NumberEntity, NumberMode
from homeassistant.components.select import SelectEntity
from homeassistant.components.sensor import SensorEntity
from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType

from sim.vendors import SimEntity

from . import DOMAIN, SIGNAL_VENDOR

if TYPE_CHECKING:
    from . import SimulatedPlant

UNKNOWN = "unknown"


class SimVendorEntity(Entity):
    """An entity of the simulated vendor: its state is what the vendor shows."""

    _attr_should_poll = False

    def __init__(self, runner: SimulatedPlant, spec: SimEntity) -> None:
        self._runner = runner
        self._spec = spec
        self._shown: str | None = None
        self.entity_id = spec.entity_id
        self._attr_name = spec.name
        self._attr_unique_id = f"export_sim_{spec.object_id}"

    @property
    def vendor_state(self) -> str:
        """Return the state the vendor shows for this entity."""
        return self._runner.vendor.states[self._spec.entity_id]

    @property
    @override
    def available(self) -> bool:
        """Return whether the vendor offers the entity now."""
        return self.vendor_state != "unavailable"

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the vendor's states."""
        self._shown = self.vendor_state
        self.async_on_remove(
            async_dispatcher_connect(self.hass, SIGNAL_VENDOR, self._async_changed)
        )

    @callback
    def _async_changed(self) -> None:
        """Write the state when the vendor shows a new one."""
        if self.vendor_state != self._shown:
            self._shown = self.vendor_state
            self.async_write_ha_state()

    def _write(self, value: str) -> None:
        """Send a write to the simulated vendor."""
        self._runner.async_write(self._spec.entity_id, value)


class SimSelect(SimVendorEntity, SelectEntity):
    """A vendor select: a mode, a slot time."""

    @property
    @override
    def options(self) -> list[str]:
        """Return the vendor's options."""
        return list(self._spec.options)

    @property
    @override
    def current_option(self) -> str | None:
        """Return the option the vendor shows."""
        return self.vendor_state if self.vendor_state in self._spec.options else None

    @override
    async def async_select_option(self, option: str) -> None:
        """Write an option."""
        self._write(option)


class SimNumber(SimVendorEntity, NumberEntity):
    """A vendor number: a power, a cutoff, a timer."""

    _attr_mode = NumberMode.BOX

    def __init__(self, runner: SimulatedPlant, spec: SimEntity) -> None:
        super().__init__(runner, spec)
        self._attr_native_min_value = spec.minimum
        self._attr_native_max_value = spec.maximum
        self._attr_native_step = spec.step
        self._attr_native_unit_of_measurement = spec.unit

    @property
    @override
    def native_value(self) -> float | None:
        """Return the value the vendor shows."""
        try:
            return float(self.vendor_state)
        except ValueError:
            return None

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Write a value."""
        self._write(str(value))


class SimSwitch(SimVendorEntity, SwitchEntity):
    """A vendor switch."""

    @property
    @override
    def is_on(self) -> bool:
        """Return whether the vendor shows it on."""
        return self.vendor_state == "on"

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Write on."""
        self._write("on")

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Write off."""
        self._write("off")


class SimButton(SimVendorEntity, ButtonEntity):
    """A vendor button: a trigger, a stop."""

    @override
    async def async_press(self) -> None:
        """Press it."""
        self._write("press")


class SimSensor(SimVendorEntity, SensorEntity):
    """A vendor status sensor or clock."""

    def __init__(self, runner: SimulatedPlant, spec: SimEntity) -> None:
        super().__init__(runner, spec)
        self._attr_native_unit_of_measurement = spec.unit

    @property
    @override
    def native_value(self) -> str | None:
        """Return the state the vendor shows."""
        return None if self.vendor_state == UNKNOWN else self.vendor_state


PLATFORMS: dict[str, Callable[[SimulatedPlant, SimEntity], SimVendorEntity]] = {
    "select": SimSelect,
    "number": SimNumber,
    "switch": SimSwitch,
    "button": SimButton,
    "sensor": SimSensor,
}


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Add the vendor's entities of the platform named in the discovery info."""
    runner: SimulatedPlant = hass.data[DOMAIN]
    platform = (discovery_info or {})["platform"]
    make = PLATFORMS[platform]
    async_add_entities(
        make(runner, spec)
        for spec in runner.vendor.vendor.entities
        if spec.domain == platform and not spec.helper
    )
