"""Fox ESS through foxess_modbus: a work-mode select with a virtual "Force Discharge".

Choosing "Force Discharge" sets the integration's in-memory mode (the select shows it at
once); at the next poll (10 s, RTU) the integration writes the fallback work mode
"Feed-in First", the inverter's watchdog (2 x poll) and remote enable, and every poll
after it writes the power (kW, AC output) again, which keeps the watchdog alive. The
power number is stored and written at the next poll. Stop: "Self Use" disables remote
control and writes the work mode at once. Traps: when the watchdog runs out (Home
Assistant died) the inverter falls back to Feed-in First and keeps exporting down to its
Min SoC; after a restart the integration forgets its mode without writing anything; and
"Feed-in First" chosen as a stop keeps exporting (foxess_modbus#558).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from tests.vendors.base import (
    Drive,
    VendorSim,
    helper_number,
    helper_select,
    running_until,
    written,
)

WORK_MODE: Final = "input_select.foxess_work_mode"
POWER: Final = "input_number.foxess_force_discharge_power"
MIN_SOC: Final = "input_number.foxess_min_soc_on_grid"
BATTERY: Final = "sensor.foxess_invbatpower"
SELF_USE: Final = "Self Use"
FEED_IN: Final = "Feed-in First"
FORCE_DISCHARGE: Final = "Force Discharge"
MODES: Final = (SELF_USE, FEED_IN, "Back-up", "Force Charge", FORCE_DISCHARGE)
REGISTER_MODES: Final = (SELF_USE, FEED_IN, "Back-up")


@dataclass(kw_only=True)
class FoxEssSim(VendorSim):
    """foxess_modbus's remote-control manager and a Fox inverter."""

    key = "fox_ess"
    poll_s = 10.0
    # What Feed-in First sends to the grid from the battery (export limit above load).
    feed_in_kw: float = 5.0
    manager_mode: str = "Disable"
    manager_kw: float = 0.0
    work_mode: str = SELF_USE  # the work-mode register
    remote_enable: bool = False
    active_kw: float = 0.0
    watchdog_until: datetime | None = None

    @property
    def controls(self) -> dict[str, str]:
        """Return the work mode, power and Min SoC, by role."""
        return {"mode": WORK_MODE, "power": POWER, "cutoff": MIN_SOC}

    def helpers(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
        """Return the select and numbers."""
        return {
            "input_select": {
                WORK_MODE.partition(".")[2]: helper_select(MODES, SELF_USE)
            },
            "input_number": {
                POWER.partition(".")[2]: helper_number(0, 10.5, 0.001, "kW", 0),
                MIN_SOC.partition(".")[2]: helper_number(10, 100, 1, "%", 10),
            },
        }

    def sensors(self) -> Mapping[str, tuple[str, Mapping[str, Any]]]:
        """Return the battery power sensor (kW, positive = discharge)."""
        return {BATTERY: ("0.0", {"unit_of_measurement": "kW"})}

    def apply(self, entity_id: str, service: str, data: Mapping[str, Any]) -> None:
        """Take a write as the integration does."""
        value = written(service, data)
        self.show(entity_id, value)
        if entity_id == POWER:
            self.manager_kw = float(value)
        elif entity_id == WORK_MODE:
            self._select(value)

    def _select(self, option: str) -> None:
        """Change the manager's mode; a register mode also ends remote control."""
        if option in ("Force Charge", FORCE_DISCHARGE):
            self.manager_mode = option
            return
        self.manager_mode = "Disable"
        self.remote_enable, self.watchdog_until = False, None
        self.work_mode = option
        if option == FEED_IN:
            self.trap("stop_with_feed_in_first")

    def poll(self) -> None:
        """Feed the watchdog and write the power while forcing; publish the registers."""
        now = self.now()
        if self.manager_mode == FORCE_DISCHARGE:
            self.work_mode = FEED_IN  # the fallback, "roughly the right thing"
            self.remote_enable = True
            self.watchdog_until = now + timedelta(seconds=2 * self.poll_s)
            self.active_kw = self.manager_kw
        shown = self.manager_mode if self.manager_mode != "Disable" else self.work_mode
        self.show(WORK_MODE, shown)
        drive = self.inverter(now)
        self.show(BATTERY, f"{drive.power_kw if drive.on else 0.0:.3f}")

    def forget(self) -> None:
        """After a restart the manager starts at Disable and writes nothing."""
        self.manager_mode = "Disable"

    def inverter(self, now: datetime) -> Drive:
        """Return remote control while the watchdog lives, else the work mode's flow."""
        floor = self.number(MIN_SOC)
        fallback = self.feed_in_kw if self.work_mode == FEED_IN else 0.0
        if self.remote_enable and running_until(now, self.watchdog_until):
            return Drive(
                on=True,
                power_kw=self.active_kw,
                ends=self.watchdog_until,
                fallback_kw=fallback,
                floor_soc=floor,
            )
        return Drive(on=fallback > 0, power_kw=fallback, floor_soc=floor)
