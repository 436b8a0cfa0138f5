"""Alpha ESS through the Modbus helper package: helpers that write a dispatch block.

Helpers (`input_boolean.alphaess_helper_force_discharging`, power kW step 0.1, cutoff %,
duration min) are the integration's intent and show a write at once. The package writes
the inverter's dispatch registers when the switch turns on, and again when the power or
the duration changes; the dispatch sensors read those registers every 5 s. Traps: the
dispatch timer is re-armed only by a *changed* duration (writing 20 twice does nothing,
and the dispatch expires silently), and the cutoff register truncates to 0.392 % steps,
so the inverter's floor lies up to one step below the percent asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import Any, Final

from tests.vendors.base import Drive, VendorSim, helper_number, running_until, written

ENABLE: Final = "input_boolean.alphaess_helper_force_discharging"
POWER: Final = "input_number.alphaess_helper_force_discharging_power"
CUTOFF: Final = "input_number.alphaess_helper_force_discharging_cutoff_soc"
DURATION: Final = "input_number.alphaess_helper_force_discharging_duration"
DISPATCH_START: Final = "sensor.alphaess_dispatch_start"
DISPATCH_POWER: Final = "sensor.alphaess_dispatch_active_power"
DISPATCH_SOC: Final = "sensor.alphaess_dispatch_soc"
DISPATCH_TIME: Final = "sensor.alphaess_dispatch_time"
SOC_STEP: Final = 100.0 / 255.0  # the cutoff register's resolution, 0.392 %


@dataclass(kw_only=True)
class AlphaEssSim(VendorSim):
    """The Alpha ESS helper package and its inverter's dispatch registers."""

    key = "alpha_ess"
    poll_s = 5.0
    dispatch: bool = False
    dispatch_kw: float = 0.0
    dispatch_soc: float = 10.0
    dispatch_until: datetime | None = None

    @property
    def controls(self) -> dict[str, str]:
        """Return the helpers, by role."""
        return {"enable": ENABLE, "power": POWER, "cutoff": CUTOFF, "timer": DURATION}

    def helpers(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
        """Return the package's helpers."""
        return {
            "input_boolean": {ENABLE.partition(".")[2]: {}},
            "input_number": {
                POWER.partition(".")[2]: helper_number(0, 20, 0.1, "kW", 0),
                CUTOFF.partition(".")[2]: helper_number(4, 100, 1, "%", 10),
                DURATION.partition(".")[2]: helper_number(0, 480, 1, "min", 0),
            },
        }

    def sensors(self) -> Mapping[str, tuple[str, Mapping[str, Any]]]:
        """Return the dispatch sensors, idle."""
        return {
            DISPATCH_START: ("Stop", {}),
            DISPATCH_POWER: ("0", {"unit_of_measurement": "W"}),
            DISPATCH_SOC: ("10", {"unit_of_measurement": "%"}),
            DISPATCH_TIME: ("0", {"unit_of_measurement": "s"}),
        }

    def apply(self, entity_id: str, service: str, data: Mapping[str, Any]) -> None:
        """Write the helper; the package writes the dispatch block as it does."""
        before = self.hass.states.get(entity_id)
        value = written(service, data)
        self.show(entity_id, value)
        changed = before is None or before.state != value
        if entity_id == ENABLE:
            self._switch(value == "on")
        elif self.dispatch and entity_id in (POWER, DURATION):
            self._rewrite(changed=changed)

    def _rewrite(self, *, changed: bool) -> None:
        """Re-write the block on a changed value; a same value re-arms nothing."""
        if changed:
            self._write_block()
        else:
            self.trap("same_value_not_rearmed")

    def _switch(self, on: bool) -> None:
        """Write the dispatch block, or reset it."""
        if on:
            self._write_block()
        else:
            self.dispatch, self.dispatch_until = False, None

    def _write_block(self) -> None:
        """Write power, cutoff (truncated) and duration into the dispatch registers."""
        now = self.now()
        self.dispatch = True
        self.dispatch_kw = self.number(POWER)
        cutoff = self.number(CUTOFF)
        self.dispatch_soc = math.floor(cutoff / SOC_STEP) * SOC_STEP
        if self.dispatch_soc < cutoff:
            self.trap("cutoff_truncated")
        self.dispatch_until = now + timedelta(minutes=self.number(DURATION))

    def poll(self) -> None:
        """Read the dispatch registers into the sensors."""
        now = self.now()
        active = self.dispatch and running_until(now, self.dispatch_until)
        left = (self.dispatch_until - now).total_seconds() if active else 0.0
        self.show(DISPATCH_START, "Start" if active else "Stop")
        self.show(DISPATCH_POWER, f"{self.dispatch_kw * 1000.0 if active else 0:.0f}")
        self.show(DISPATCH_SOC, f"{self.dispatch_soc:.1f}")
        self.show(DISPATCH_TIME, f"{left:.0f}")

    def inverter(self, now: datetime) -> Drive:
        """Return the dispatch: running until its duration ends, down to its cutoff."""
        return Drive(
            on=self.dispatch and running_until(now, self.dispatch_until),
            power_kw=self.dispatch_kw,
            ends=self.dispatch_until,
            floor_soc=self.dispatch_soc,
        )
