"""Unit conversion of source readings to kW, kWh and percent."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Quantity(StrEnum):
    """What a source measures, which fixes its accepted units and range."""

    PERCENT = "percent"
    POWER = "power"
    ENERGY = "energy"


_SCALES: Final[dict[Quantity, dict[str, float]]] = {
    Quantity.PERCENT: {"%": 1.0},
    Quantity.POWER: {"W": 0.001, "kW": 1.0, "MW": 1000.0},
    Quantity.ENERGY: {"Wh": 0.001, "kWh": 1.0, "MWh": 1000.0},
}

# Inclusive ranges in canonical units (%, kW, kWh).
VALID_RANGES: Final[dict[Quantity, tuple[float, float]]] = {
    Quantity.PERCENT: (0.0, 100.0),
    Quantity.POWER: (-50.0, 50.0),
    Quantity.ENERGY: (0.0, 1000.0),
}

CANONICAL_UNITS: Final[dict[Quantity, str]] = {
    Quantity.PERCENT: "%",
    Quantity.POWER: "kW",
    Quantity.ENERGY: "kWh",
}


def unit_scale(unit: object, quantity: Quantity) -> float | None:
    """Return the factor to the canonical unit, or None when not convertible."""
    # An attribute written by REST, MQTT or a script may be any type: only text is a unit.
    if not isinstance(unit, str):
        return None
    return _SCALES[quantity].get(unit.strip())


def accepted_units(quantity: Quantity) -> tuple[str, ...]:
    """List the units accepted for a quantity."""
    return tuple(_SCALES[quantity])


def setpoint_power_scale(unit: object) -> float | None:
    """Return kW per unit of a power setpoint entity; a missing unit means kW."""
    if unit is None or (isinstance(unit, str) and not unit.strip()):
        return 1.0
    return unit_scale(unit, Quantity.POWER)
