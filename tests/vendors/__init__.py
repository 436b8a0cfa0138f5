"""Simulated vendor integrations, one per inverter profile, for the test rig."""

from __future__ import annotations

from typing import Final

from tests.vendors.alpha_ess import AlphaEssSim
from tests.vendors.base import VendorSim
from tests.vendors.fox_ess import FoxEssSim
from tests.vendors.generic import GenericSim
from tests.vendors.givenergy import GivEnergySim
from tests.vendors.huawei import HuaweiSim
from tests.vendors.sigenergy import SigenergySim
from tests.vendors.solaredge import SolarEdgeSim
from tests.vendors.solax import SolaxSim

SIMS: Final[dict[str, type[VendorSim]]] = {
    sim.key: sim
    for sim in (
        GenericSim,
        AlphaEssSim,
        FoxEssSim,
        SolaxSim,
        HuaweiSim,
        GivEnergySim,
        SigenergySim,
        SolarEdgeSim,
    )
}
