"""The generic profile's inverter: today's helper entities, read back at once.

An enable helper, a power helper (kW), a cutoff helper (%) and a duration helper (min):
the inverter discharges while the enable helper is on, at the power helper's value,
until its own timer (the duration, counted from its last write) runs out. Some
inverters re-arm that timer only when its value changes (`timer_on_change_only`).
The real helpers answer every write; a broken command takes their services over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tests.conftest import CUTOFF, DURATION, ENABLE, POWER, async_setup_inverter
from tests.vendors.base import HELPER_SERVICES, Drive, VendorSim


@dataclass(kw_only=True)
class GenericSim(VendorSim):
    """The helper-entity inverter of the generic profile."""

    key = "generic"
    timer_on_change_only: bool = False

    @property
    def controls(self) -> dict[str, str]:
        """Return the helpers, by role."""
        return {"enable": ENABLE, "power": POWER, "cutoff": CUTOFF, "timer": DURATION}

    def helpers(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
        """Return the helpers (set up by tests.conftest), for `owns`."""
        return {
            domain: {entity_id.partition(".")[2]: {}}
            for entity_id in self.controls.values()
            for domain in (entity_id.partition(".")[0],)
        }

    async def async_setup(self) -> None:
        """Create the helpers; they answer writes themselves."""
        await async_setup_inverter(self.hass)

    def break_target(self, target: str, answer: str) -> None:
        """Take the target's services over, then answer as told."""
        super().break_target(target, answer)
        domain = target.partition(".")[0]
        for service in HELPER_SERVICES[domain]:
            self.hass.services.async_register(domain, service, self._async_handle)

    def inverter(self, now: datetime) -> Drive:
        """Return what the helpers say the inverter does."""
        enable = self._state(ENABLE)
        return Drive(
            on=None if enable not in ("on", "off") else enable == "on",
            power_kw=self._float(POWER),
            ends=self._timer_end(),
            floor_soc=self._float(CUTOFF),
        )

    def _timer_end(self) -> datetime | None:
        """Return when the inverter's own timer, as last written, runs out."""
        duration = self.hass.states.get(DURATION)
        minutes = self._float(DURATION)
        if duration is None or minutes is None:
            return None
        armed = (
            duration.last_changed
            if self.timer_on_change_only
            else duration.last_reported
        )
        return armed + timedelta(minutes=minutes)

    def _state(self, entity_id: str) -> str | None:
        """Return an entity's state string, None when it has none."""
        state = self.hass.states.get(entity_id)
        return None if state is None else state.state

    def _float(self, entity_id: str) -> float | None:
        """Return a helper's numeric state, None when it has none."""
        try:
            return float(self._state(entity_id) or "")
        except ValueError:
            return None
