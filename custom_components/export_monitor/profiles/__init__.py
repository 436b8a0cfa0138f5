"""Inverter profiles: each vendor's forced-export controls as data (no Home Assistant imports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .base import InverterProfile
from .generic import GENERIC

DEFAULT_PROFILE: Final = GENERIC.key

PROFILES: Final[Mapping[str, InverterProfile]] = {
    profile.key: profile for profile in (GENERIC,)
}
