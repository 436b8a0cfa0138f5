"""Tests of unit conversion to kW, kWh and percent."""

from __future__ import annotations

import pytest

from custom_components.export_monitor.logic.units import (
    Quantity,
    accepted_units,
    setpoint_power_scale,
    unit_scale,
)

SCALES: dict[str, tuple[object, Quantity, float | None]] = {
    "watt": ("W", Quantity.POWER, 0.001),
    "kilowatt": ("kW", Quantity.POWER, 1.0),
    "megawatt": ("MW", Quantity.POWER, 1000.0),
    "watt_hour": ("Wh", Quantity.ENERGY, 0.001),
    "kilowatt_hour": ("kWh", Quantity.ENERGY, 1.0),
    "megawatt_hour": ("MWh", Quantity.ENERGY, 1000.0),
    "percent": ("%", Quantity.PERCENT, 1.0),
    "power_unit_padded": (" kW ", Quantity.POWER, 1.0),
    "energy_unit_padded": ("\tWh\n", Quantity.ENERGY, 0.001),
    "percent_padded": (" % ", Quantity.PERCENT, 1.0),
    "wrong_case": ("kw", Quantity.POWER, None),
    "energy_unit_for_power": ("kWh", Quantity.POWER, None),
    "power_unit_for_energy": ("W", Quantity.ENERGY, None),
    "percent_for_energy": ("%", Quantity.ENERGY, None),
    "energy_unit_for_percent": ("kWh", Quantity.PERCENT, None),
    "unknown_unit": ("°C", Quantity.PERCENT, None),
    "empty_unit": ("", Quantity.POWER, None),
    "blank_unit": ("   ", Quantity.ENERGY, None),
    "no_unit_power": (None, Quantity.POWER, None),
    "no_unit_energy": (None, Quantity.ENERGY, None),
    "no_unit_percent": (None, Quantity.PERCENT, None),
    # Written by REST, MQTT or a script: an attribute may be any type.
    "number_as_unit": (1, Quantity.ENERGY, None),
    "list_as_unit": (["kWh"], Quantity.ENERGY, None),
}


@pytest.mark.parametrize(
    ("unit", "quantity", "expected"), list(SCALES.values()), ids=list(SCALES)
)
def test_unit_scale(unit: object, quantity: Quantity, expected: float | None) -> None:
    """Each accepted unit scales to the canonical unit; anything else is refused."""
    assert unit_scale(unit, quantity) == expected


ACCEPTED: dict[str, tuple[Quantity, tuple[str, ...]]] = {
    "percent": (Quantity.PERCENT, ("%",)),
    "power": (Quantity.POWER, ("W", "kW", "MW")),
    "energy": (Quantity.ENERGY, ("Wh", "kWh", "MWh")),
}


@pytest.mark.parametrize(
    ("quantity", "expected"), list(ACCEPTED.values()), ids=list(ACCEPTED)
)
def test_accepted_units(quantity: Quantity, expected: tuple[str, ...]) -> None:
    """The config flow offers exactly the units the parser converts."""
    assert accepted_units(quantity) == expected


SETPOINTS: dict[str, tuple[object, float | None]] = {
    "no_unit_means_kw": (None, 1.0),
    "empty_unit_means_kw": ("", 1.0),
    "blank_unit_means_kw": ("  ", 1.0),
    "watt": ("W", 0.001),
    "kilowatt": ("kW", 1.0),
    "megawatt": ("MW", 1000.0),
    "padded_watt": (" W ", 0.001),
    "energy_unit": ("kWh", None),
    "percent": ("%", None),
    "unknown_unit": ("A", None),
    "number_as_unit": (1000, None),
}


@pytest.mark.parametrize(
    ("unit", "expected"), list(SETPOINTS.values()), ids=list(SETPOINTS)
)
def test_setpoint_power_scale(unit: object, expected: float | None) -> None:
    """A power setpoint without a unit is in kW; other units convert or are refused."""
    assert setpoint_power_scale(unit) == expected
