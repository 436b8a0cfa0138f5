"""The bench's inverter behind a simulated vendor integration (sim/vendors) in Home Assistant.

Each inverter variant of the bench is driven through the profile that matches it: the
vendor's own entities (selects, numbers, switches, helpers) stand in Home Assistant as that
integration shows them; a write goes to the pure vendor model (`sim.vendors`), which turns it
into the plant's commands and shows its registers at once or only at its next poll.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import copy
import inspect
from typing import Any, Final

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    ServiceCall,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
)
from homeassistant.setup import async_setup_component

from custom_components.export_monitor.const import CONF_CONTROLS, CONF_PROFILE
from custom_components.export_monitor.profiles import PROFILES
from sim.commands import Command
from sim.inverter import BackstopKind
from sim.plant import Plant
from sim.vendors import SimEntity, VendorError, VendorSim, helper_config, vendor_sim
from sim.vendors.behaviour import PRESS

# The profile each inverter variant of the bench stands for (sim/adversarial.py VARIANTS).
PROFILE_FOR_BACKSTOP: Final[Mapping[BackstopKind, str]] = {
    "rearm_any_write": "generic",
    "rearm_on_change": "alpha_ess",
    "command_timeout": "solaredge",
    "watchdog_fallback": "fox_ess",
    "none": "sigenergy",
}
# What the bench's user sets before the monitor starts, beyond the vendor's own set-up:
# Sigenergy's control mode is unavailable while remote EMS is off, and the monitor cannot
# read "not running" from it (a stop by the switch is never confirmed: findings.md).
BENCH_SETUP: Final[Mapping[str, tuple[tuple[str, str], ...]]] = {
    "sigenergy": (
        ("switch.sigen_plant_remote_ems_controlled_by_home_assistant", "on"),
    ),
}
# Home Assistant's write services of a vendor's own entities: (domain, service) -> the
# data field with the value, or the value itself for services without one.
FIELD_SERVICES: Final[Mapping[tuple[str, str], str]] = {
    ("select", "select_option"): "option",
    ("number", "set_value"): "value",
}
FIXED_SERVICES: Final[Mapping[tuple[str, str], str]] = {
    ("switch", "turn_on"): "on",
    ("switch", "turn_off"): "off",
    ("button", "press"): PRESS,
}
# The helper service that sets an on/off helper the vendor changed by itself.
HELPER_TOGGLES: Final = {"on": "turn_on", "off": "turn_off"}

type Send = Callable[[Command], None]


def profile_for(backstop: BackstopKind) -> str:
    """Return the profile key of the inverter variant with this backstop."""
    return PROFILE_FOR_BACKSTOP[backstop]


def attributes_of(entity: SimEntity) -> dict[str, Any]:
    """Return the attributes the vendor integration gives one of its entities."""
    attributes: dict[str, Any] = {"friendly_name": entity.name}
    if entity.unit is not None:
        attributes["unit_of_measurement"] = entity.unit
    if entity.domain == "select":
        attributes["options"] = list(entity.options)
    if entity.domain == "number":
        attributes |= {
            "min": entity.minimum,
            "max": entity.maximum,
            "step": entity.step,
            "mode": "box",
        }
    return attributes


def helpers_of(vendor: VendorSim) -> dict[str, Any]:
    """Return the vendor's helper config, each number starting at its register."""
    config = copy.deepcopy(helper_config(vendor.vendor))
    for entity in vendor.vendor.entities:
        if entity.helper and entity.domain == "input_number":
            config[entity.domain][entity.object_id]["initial"] = float(
                vendor.registers[entity.entity_id]
            )
    return config


class VendorBridge:
    """A simulated vendor integration in Home Assistant, its commands sent to the plant."""

    def __init__(self, hass: HomeAssistant, plant: Plant, key: str, send: Send) -> None:
        """Build the vendor model at the plant's clock; `send` carries its commands."""
        self.hass = hass
        self.plant = plant
        self.vendor = vendor_sim(key, plant.now_utc)
        self._send = send
        self._context = Context()
        self._unsubs: list[CALLBACK_TYPE] = []
        spec = self.vendor.vendor
        self._helpers = tuple(e.entity_id for e in spec.entities if e.helper)
        self._own = {e.entity_id: e for e in spec.entities if not e.helper}

    @property
    def key(self) -> str:
        """Return the vendor's profile key."""
        return self.vendor.vendor.key

    def options(self) -> dict[str, Any]:
        """Return the monitor's profile and controls: each role the profile asks for."""
        roles = PROFILES[self.key].roles
        offered = self.vendor.vendor.controls
        return {
            CONF_PROFILE: self.key,
            CONF_CONTROLS: {
                role.value: offered[role.value]
                for role in roles
                if role.value in offered
            },
        }

    async def async_setup(self) -> None:
        """Create the vendor's entities, take over their services, do the user's set-up."""
        for domain, config in helpers_of(self.vendor).items():
            if not await async_setup_component(self.hass, domain, {domain: config}):
                raise RuntimeError(f"could not set up the {domain} helpers")
        for domain, service in (*FIELD_SERVICES, *FIXED_SERVICES):
            await self._async_take_over(domain, service)
        setup = (*self.vendor.vendor.setup, *BENCH_SETUP.get(self.key, ()))
        for entity_id, value in setup:
            self._write(entity_id, value)
        self.publish()
        self.listen()

    def listen(self) -> None:
        """Carry every write of a helper the vendor uses to the vendor."""
        self._unsubs += [
            async_track_state_change_event(self.hass, self._helpers, self._on_changed),
            async_track_state_report_event(self.hass, self._helpers, self._on_reported),
        ]

    def close(self) -> None:
        """Stop carrying writes and polls: Home Assistant is gone."""
        while self._unsubs:
            self._unsubs.pop()()

    @property
    def alive(self) -> bool:
        """Return whether writes are carried to the vendor."""
        return bool(self._unsubs)

    def tick(self) -> None:
        """Advance the vendor to the plant's clock: its polls, repeats and own stops."""
        if not self.alive:
            return
        running = self.plant.published().controls.enabled
        self._apply(self.vendor.tick(self.plant.now_utc, running))
        self.publish()

    def publish(self) -> None:
        """Show what the vendor integration shows now; helpers it changed by itself too."""
        states = self.vendor.states
        for entity_id, entity in self._own.items():
            current = self.hass.states.get(entity_id)
            if current is None or current.state != states[entity_id]:
                self.hass.states.async_set(
                    entity_id, states[entity_id], attributes_of(entity)
                )
        for entity_id in self._helpers:
            current = self.hass.states.get(entity_id)
            service = HELPER_TOGGLES.get(states[entity_id])
            if current is None or current.state == states[entity_id] or not service:
                continue
            self.hass.async_create_task(
                self.hass.services.async_call(
                    entity_id.partition(".")[0],
                    service,
                    {ATTR_ENTITY_ID: entity_id},
                    context=self._context,
                )
            )

    async def _async_take_over(self, domain: str, service: str) -> None:
        """Answer a domain's write service for the vendor's entities, pass on the rest.

        The domain is set up first, so that the monitor's own entities of that domain
        (set up later) do not register the service again over this one.
        """
        if not await async_setup_component(self.hass, domain, {}):
            raise RuntimeError(f"could not set up {domain}")
        original = self.hass.services.async_services_for_domain(domain).get(service)

        async def async_handle(call: ServiceCall) -> None:
            """Write a vendor entity; any other entity through the domain's own service."""
            if self._targets(call) <= self._own.keys():
                await self._async_handle(call)
            elif original is not None:
                result = original.job.target(call)
                if inspect.isawaitable(result):
                    await result

        self.hass.services.async_register(domain, service, async_handle)

    @staticmethod
    def _targets(call: ServiceCall) -> set[str]:
        """Return the entity ids a service call targets."""
        entity_ids = call.data.get(ATTR_ENTITY_ID, ())
        return {entity_ids} if isinstance(entity_ids, str) else set(entity_ids)

    async def _async_handle(self, call: ServiceCall) -> None:
        """Write a vendor entity as its integration does; refuse what it refuses."""
        key = (call.domain, call.service)
        value = (
            str(call.data[FIELD_SERVICES[key]])
            if key in FIELD_SERVICES
            else FIXED_SERVICES[key]
        )
        for entity_id in sorted(self._targets(call)):
            if not self.alive:
                return
            try:
                self._write(entity_id, value)
            except VendorError as err:
                raise ServiceValidationError(str(err)) from err
        self.publish()

    @callback
    def _on_changed(self, event: Event[EventStateChangedData]) -> None:
        """Carry a helper's new value to the vendor, unless the vendor set it."""
        new_state = event.data["new_state"]
        if new_state is None or event.context.id == self._context.id:
            return
        self._write_helper(event.data["entity_id"], new_state.state)

    @callback
    def _on_reported(self, event: Event[EventStateReportedData]) -> None:
        """Carry a helper re-written with the same value to the vendor."""
        self._write_helper(event.data["entity_id"], event.data["new_state"].state)

    def _write_helper(self, entity_id: str, state: str) -> None:
        """Write a helper's state to the vendor; a refused one changes nothing there."""
        try:
            self._write(entity_id, state)
        except VendorError:
            return
        self.publish()

    def _write(self, entity_id: str, value: str) -> None:
        """Write one entity of the vendor and send the commands it stands for."""
        self._apply(self.vendor.write(entity_id, value, self.plant.now_utc))

    def _apply(self, commands: list[Command]) -> None:
        """Send the vendor's commands to the plant."""
        for command in commands:
            self._send(command)
