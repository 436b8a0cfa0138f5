"""Inverter profiles: each vendor's forced-export controls as data (no Home Assistant imports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .alpha_ess import ALPHA_ESS
from .base import InverterProfile
from .fox_ess import FOX_ESS
from .generic import GENERIC
from .givenergy import GIVENERGY
from .huawei import HUAWEI
from .sigenergy import SIGENERGY
from .solaredge import SOLAREDGE
from .solax import SOLAX

DEFAULT_PROFILE: Final = GENERIC.key

PROFILES: Final[Mapping[str, InverterProfile]] = {
    profile.key: profile
    for profile in (
        GENERIC,
        ALPHA_ESS,
        FOX_ESS,
        SOLAX,
        HUAWEI,
        GIVENERGY,
        SIGENERGY,
        SOLAREDGE,
    )
}

# The profiles the setup offers: only those the fault matrix runs through the monitor
# (tests/test_fault_matrix.py::test_the_setup_offers_only_proven_profiles). The others
# are data, proven against their simulated vendors, that wait for that proof.
OFFERED: frozenset[str] = frozenset(
    {
        GENERIC.key,
        ALPHA_ESS.key,
        SOLAX.key,
        HUAWEI.key,
        FOX_ESS.key,
        SIGENERGY.key,
        GIVENERGY.key,
        SOLAREDGE.key,
    }
)


def offered_profiles() -> Mapping[str, InverterProfile]:
    """Return the profiles the setup offers, in registry order."""
    return {key: profile for key, profile in PROFILES.items() if key in OFFERED}
