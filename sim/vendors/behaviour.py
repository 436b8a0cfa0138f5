"""A vendor integration and its inverter's control side: writes in, plant commands out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ..commands import Command, SetCutoff, SetDuration, SetEnable, SetPower
from .surface import SimEntity, Vendor

PRESS = "press"
SECONDS_PER_UNIT = {"s": 1.0, "min": 60.0, "h": 3600.0}


class VendorError(Exception):
    """A write or service call the vendor integration refuses."""


def to_kw(entity: SimEntity, value: str) -> float:
    """Return a power entity's value in kW (its unit W or kW)."""
    power = float(value)
    return power / 1000.0 if entity.unit == "W" else power


def to_minutes(entity: SimEntity, value: str) -> float:
    """Return a timer entity's value in minutes (its unit s, min or h)."""
    return float(value) * SECONDS_PER_UNIT[entity.unit or "min"] / 60.0


def start(
    power_kw: float, minutes: float = 0.0, cutoff: float | None = None
) -> list[Command]:
    """Return the commands of a forced discharge: parameters first, activation last."""
    commands: list[Command] = [SetPower(power_kw)]
    if cutoff is not None:
        commands.append(SetCutoff(cutoff))
    return [*commands, SetDuration(minutes), SetEnable(True)]


class VendorSim:
    """Registers (the vendor's truth), what Home Assistant shows, polls, and the commands."""

    def __init__(self, vendor: Vendor, now: datetime) -> None:
        self.vendor = vendor
        self.registers: dict[str, str] = {
            e.entity_id: e.initial for e in vendor.entities
        }
        self._shown = dict(self.registers)
        self._next_poll = now + timedelta(seconds=vendor.poll_s)
        self._refresh_at: datetime | None = None
        self._running = False
        self.forcing = False  # the vendor side believes a forced export runs
        self.writes = 0
        self.flash_writes = 0
        self.backstop_stops = 0
        self.device_id: str | None = None  # the registry's id of vendor.device_name

    @property
    def states(self) -> dict[str, str]:
        """Return every entity's state as Home Assistant shows it."""
        return {
            entity_id: state if self.available(entity_id) else "unavailable"
            for entity_id, state in self._shown.items()
        }

    def available(self, entity_id: str) -> bool:
        """Return whether the integration offers the entity now."""
        return entity_id in self.registers

    def value(self, role: str) -> str:
        """Return the register of the entity playing a role."""
        entity = self.vendor.by_role(role)
        if entity is None:
            raise KeyError(role)
        return self.registers[entity.entity_id]

    def write(self, entity_id: str, value: str, now: datetime) -> list[Command]:
        """Write one entity (a state, an option, a number, or "press"); return the commands."""
        try:
            entity = self.vendor.entity(entity_id)
        except KeyError as err:
            raise VendorError(
                f"{entity_id} is not an entity of {self.vendor.key}"
            ) from err
        if not self.available(entity_id):
            raise VendorError(f"{entity_id} is unavailable")
        value = self._checked(entity, value, now)
        previous = self.registers[entity_id]
        self.registers[entity_id] = value
        self.writes += 1
        self.flash_writes += entity.flash
        commands = self._on_write(entity, value, previous, now)
        if not self.vendor.polled or entity.helper:
            self._shown[entity_id] = self.registers[entity_id]
        self._request_refresh(now)
        return commands

    def call(
        self, service: str, data: Mapping[str, Any], now: datetime
    ) -> list[Command]:
        """Call one of the vendor's services; return the commands."""
        try:
            spec = self.vendor.service(service)
        except KeyError as err:
            raise VendorError(f"{self.vendor.key} has no service {service}") from err
        if missing := [f for f in spec.fields if f not in data]:
            raise VendorError(f"{service} needs {', '.join(missing)}")
        self.writes += 1
        commands = self._on_call(spec.name, data, now)
        self._request_refresh(now)
        return commands

    def tick(self, now: datetime, running: bool) -> list[Command]:
        """Advance to now: the inverter's own stops, the integration's repeats, its polls."""
        if self._running and not running and self.forcing:
            self.forcing = False
            self.backstop_stops += 1
            self._on_inverter_stopped()
        self._running = running
        commands = self._on_tick(now)
        refresh = self._refresh_at is not None and now >= self._refresh_at
        if self.poll_due(now) or refresh:
            self._poll(now)
        return commands

    def restart(self, now: datetime, running: bool) -> None:
        """Home Assistant restarted: the integration forgets what it kept in memory."""
        self._running = running
        self._on_restart(running)
        self._poll(now)

    def poll_due(self, now: datetime) -> bool:
        """Return whether the integration polls the inverter at now."""
        return now >= self._next_poll

    def _poll(self, now: datetime) -> None:
        """Read the registers back: Home Assistant now shows them."""
        self.registers.update(self._status(now))
        self._shown = dict(self.registers)
        self._next_poll = now + timedelta(seconds=self.vendor.poll_s)
        self._refresh_at = None

    def _request_refresh(self, now: datetime) -> None:
        """Schedule the refresh the integration requests after a write, if it does."""
        if self.vendor.refresh_s is not None and self._refresh_at is None:
            self._refresh_at = now + timedelta(seconds=self.vendor.refresh_s)

    def _checked(self, entity: SimEntity, value: str, now: datetime) -> str:
        """Return the value as the entity stores it; refuse what it cannot take."""
        match entity.domain:
            case "switch" | "input_boolean" if value in ("on", "off"):
                return value
            case "select" | "input_select" if value in entity.options:
                return value
            case "button" | "input_button" if value == PRESS:
                return now.isoformat()
            case "number" | "input_number":
                return self._checked_number(entity, value)
        raise VendorError(f"{entity.entity_id} cannot take {value!r}")

    def _checked_number(self, entity: SimEntity, value: str) -> str:
        """Return a number in range as a string; refuse anything else."""
        try:
            number = float(value)
        except ValueError as err:
            raise VendorError(f"{entity.entity_id}: {value!r} is no number") from err
        if not entity.minimum <= number <= entity.maximum:
            raise VendorError(f"{entity.entity_id}: {value} is out of range")
        return str(number)

    def _on_write(
        self, entity: SimEntity, value: str, previous: str, now: datetime
    ) -> list[Command]:
        """Return the commands one entity write stands for."""
        return []

    def _on_call(
        self, name: str, data: Mapping[str, Any], now: datetime
    ) -> list[Command]:
        """Return the commands one service call stands for."""
        return []

    def _on_tick(self, now: datetime) -> list[Command]:
        """Return the commands the integration or the inverter gives by itself at now."""
        return []

    def _on_inverter_stopped(self) -> None:
        """Show that the inverter's backstop ended the forced export."""

    def _on_restart(self, running: bool) -> None:
        """Forget what the integration kept in memory."""

    def _status(self, now: datetime) -> dict[str, str]:
        """Return the status registers the integration reads at a poll."""
        return {}
