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
