"""What a simulated vendor integration is: its entities, services, read-back and backstop."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Backstop(StrEnum):
    """What ends the vendor's forced export when Home Assistant goes silent."""

    DURATION = "duration"  # a timer on the inverter
    COMMAND_TIMEOUT = "command_timeout"  # a command that expires unless re-sent
    WATCHDOG = (
        "watchdog"  # the integration re-writes; its fallback mode keeps exporting
    )
    SLOT_END = "slot_end"  # a daily time slot's end on the inverter's (skewed) clock
    NONE = "none"  # runs until the discharge cut-off SOC


@dataclass(frozen=True, slots=True, kw_only=True)
class SimEntity:
    """One entity of a vendor's surface, as its integration (or helper package) shows it."""

    entity_id: str
    name: str
    initial: str
    role: str | None = None  # the export_monitor profile role it plays
    unit: str | None = None
    minimum: float = 0.0
    maximum: float = 100.0
    step: float = 1.0
    options: tuple[str, ...] = ()
    helper: bool = False  # a YAML helper (input_*), not an export_sim platform entity
    flash: bool = False  # writing it wears the inverter's flash

    @property
    def domain(self) -> str:
        """Return the entity's domain."""
        return self.entity_id.split(".", 1)[0]

    @property
    def object_id(self) -> str:
        """Return the entity id without its domain."""
        return self.entity_id.split(".", 1)[1]


@dataclass(frozen=True, slots=True, kw_only=True)
class SimService:
    """A vendor service: its full name and fields."""

    service: str  # "domain.service"
    fields: tuple[str, ...]

    @property
    def domain(self) -> str:
        """Return the service's domain."""
        return self.service.split(".", 1)[0]

    @property
    def name(self) -> str:
        """Return the service name without its domain."""
        return self.service.split(".", 1)[1]


@dataclass(frozen=True, slots=True, kw_only=True)
class Vendor:
    """A vendor integration as simulated: surface, read-back, backstop and traps."""

    key: str  # the export_monitor profile key
    title: str
    entities: tuple[SimEntity, ...]
    services: tuple[SimService, ...] = ()
    # Controls show a write at once, or only from the integration's next poll.
    polled: bool = False
    poll_s: float = 5.0
    # A refresh the integration requests after each write, this long after it.
    refresh_s: float | None = None
    backstop: Backstop = Backstop.DURATION
    fallback_exports: bool = False
    clock_skew_s: float = 0.0  # the inverter's clock minus Home Assistant's
    # The device its services target (a device in Home Assistant's registry).
    device_name: str | None = None
    # The user's one-time set-up before a profile can use it: (entity id, value).
    setup: tuple[tuple[str, str], ...] = ()
    traps: tuple[str, ...] = ()

    def entity(self, entity_id: str) -> SimEntity:
        """Return one entity of the surface (KeyError when it has none)."""
        for entity in self.entities:
            if entity.entity_id == entity_id:
                return entity
        raise KeyError(entity_id)

    def by_role(self, role: str) -> SimEntity | None:
        """Return the entity that plays a profile role, None when none does."""
        return next((e for e in self.entities if e.role == role), None)

    def service(self, service: str) -> SimService:
        """Return one service of the surface (KeyError when it has none)."""
        for candidate in self.services:
            if candidate.service == service:
                return candidate
        raise KeyError(service)

    @property
    def controls(self) -> dict[str, str]:
        """Return {role: entity id} for every entity that plays a role."""
        return {e.role: e.entity_id for e in self.entities if e.role is not None}


def switch(entity_id: str, name: str, role: str | None = None, **kw: Any) -> SimEntity:
    """Return an on/off entity, off at first."""
    return SimEntity(entity_id=entity_id, name=name, initial="off", role=role, **kw)


def number(
    entity_id: str, name: str, initial: float, role: str | None = None, **kw: Any
) -> SimEntity:
    """Return a number entity."""
    return SimEntity(
        entity_id=entity_id, name=name, initial=str(initial), role=role, **kw
    )


def select(
    entity_id: str,
    name: str,
    options: tuple[str, ...],
    role: str | None = None,
    **kw: Any,
) -> SimEntity:
    """Return a select entity showing its first option."""
    return SimEntity(
        entity_id=entity_id,
        name=name,
        initial=options[0],
        options=options,
        role=role,
        **kw,
    )


def sensor(entity_id: str, name: str, initial: str, **kw: Any) -> SimEntity:
    """Return a read-only sensor of the vendor integration."""
    return SimEntity(entity_id=entity_id, name=name, initial=initial, **kw)


def button(entity_id: str, name: str, role: str | None = None) -> SimEntity:
    """Return a button (its state is its last press)."""
    return SimEntity(entity_id=entity_id, name=name, initial="unknown", role=role)


def helper_config(vendor: Vendor, max_power_kw: float = 5.0) -> dict[str, Any]:
    """Return the YAML-shaped config of a vendor's helper entities (input_boolean/number)."""
    config: dict[str, dict[str, Any]] = {}
    for entity in vendor.entities:
        if not entity.helper:
            continue
        domain = config.setdefault(entity.domain, {})
        if entity.domain == "input_boolean":
            domain[entity.object_id] = {"name": entity.name}
            continue
        maximum = max_power_kw if entity.role == "power" else entity.maximum
        domain[entity.object_id] = {
            "name": entity.name,
            "min": entity.minimum,
            "max": maximum,
            "step": entity.step,
            "unit_of_measurement": entity.unit,
            "mode": "box",
        }
    return config
