"""Commands a pure controller gives the inverter, and how they reach a plant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plant import Plant


@dataclass(frozen=True, slots=True)
class SetEnable:
    """Turn forced discharge on or off."""

    enabled: bool


@dataclass(frozen=True, slots=True)
class SetPower:
    """Set the forced-discharge power (kW)."""

    power_kw: float


@dataclass(frozen=True, slots=True)
class SetCutoff:
    """Set the forced-discharge cutoff SOC (%)."""

    soc: float


@dataclass(frozen=True, slots=True)
class SetDuration:
    """Set the inverter-side discharge duration (minutes)."""

    minutes: float


type Command = SetEnable | SetPower | SetCutoff | SetDuration


def apply_command(plant: Plant, command: Command) -> None:
    """Write one command to the plant's inverter."""
    match command:
        case SetEnable(enabled):
            plant.command_enable(enabled)
        case SetPower(power_kw):
            plant.command_power_kw(power_kw)
        case SetCutoff(soc):
            plant.command_cutoff_soc(soc)
        case SetDuration(minutes):
            plant.command_duration_minutes(minutes)
