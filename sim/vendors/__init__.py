"""Simulated vendor integrations, one module each: their surface (data) and behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from .behaviour import VendorError, VendorSim
from .fox_ess import FOX_ESS, FoxSim
from .givenergy import GIVENERGY, GivEnergySim
from .helpers import ALPHA_ESS, GENERIC, AlphaSim, HelperSim
from .huawei import HUAWEI, HuaweiSim
from .sigenergy import SIGENERGY, SigenergySim
from .solaredge import SOLAREDGE, SolarEdgeSim
from .solax import SOLAX, SolaxSim
from .surface import Backstop, SimEntity, SimService, Vendor, helper_config

SIMULATIONS: Final[Mapping[str, tuple[Vendor, type[VendorSim]]]] = {
    vendor.key: (vendor, kind)
    for vendor, kind in (
        (GENERIC, HelperSim),
        (ALPHA_ESS, AlphaSim),
        (FOX_ESS, FoxSim),
        (SOLAX, SolaxSim),
        (HUAWEI, HuaweiSim),
        (GIVENERGY, GivEnergySim),
        (SIGENERGY, SigenergySim),
        (SOLAREDGE, SolarEdgeSim),
    )
}
VENDORS: Final[Mapping[str, Vendor]] = {
    key: vendor for key, (vendor, _kind) in SIMULATIONS.items()
}
VENDOR_KEYS: Final = tuple(VENDORS)


def vendor_sim(key: str, now: datetime) -> VendorSim:
    """Return the simulated vendor integration for a profile key, at its defaults."""
    vendor, kind = SIMULATIONS[key]
    return kind(vendor, now)


__all__ = [
    "VENDORS",
    "VENDOR_KEYS",
    "Backstop",
    "SimEntity",
    "SimService",
    "Vendor",
    "VendorError",
    "VendorSim",
    "helper_config",
    "vendor_sim",
]
