"""scripts/develop's answers to the config flow, per simulated vendor."""

from __future__ import annotations

import pytest

from dev.develop import discharge_power_kw
from sim.vendors import VENDORS


@pytest.mark.parametrize(
    ("profile", "kw"),
    [
        ("givenergy", 2.6),
        ("solax", 3.0),
        ("huawei", 3.0),
        ("sigenergy", 3.0),
        ("solaredge", 3.0),
    ],
)
def test_the_discharge_power_fits_the_vendors_control(profile: str, kw: float) -> None:
    """GivEnergy's rate goes to 2.6 kW: the development set-up asks no more of it."""
    assert discharge_power_kw(VENDORS[profile]) == pytest.approx(kw)
