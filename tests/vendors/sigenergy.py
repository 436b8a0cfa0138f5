"""Sigenergy through Sigenergy-Local-Modbus: remote EMS switch, mode select, kW limit.

Turning on "Remote EMS controlled by Home Assistant" makes the mode select available;
"Command Discharging (PV First)" discharges at the ESS max discharging limit (kW) until
the discharge cut-off SOC. Every write is followed by an awaited refresh, so entities
read back at once (and are polled every 5 s). Traps: there is no backstop at all (remote
EMS persists until the cut-off SOC); the select is unavailable while the switch is off;
a cut-off set above the SOC makes the inverter import to reach it; the max discharging
limit applies globally, so a low limit left behind throttles self-consumption.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from tests.conftest import SOC
from tests.vendors.base import Drive, VendorSim, helper_number, helper_select, written

REMOTE_EMS: Final = "input_boolean.sigen_plant_remote_ems_controlled_by_home_assistant"
MODE: Final = "input_select.sigen_plant_remote_ems_control_mode"
LIMIT: Final = "input_number.sigen_plant_ess_max_discharging_limit"
CUTOFF: Final = "input_number.sigen_plant_ess_discharge_cut_off_state_of_charge"
BATTERY: Final = "sensor.sigen_plant_ess_power"
SELF_CONSUMPTION: Final = "Maximum Self Consumption"
DISCHARGING: Final = (
    "Command Discharging (PV First)",
    "Command Discharging (ESS First)",
)
MODES: Final = (
    "PCS Remote Control",
    "Standby",
    SELF_CONSUMPTION,
    "Command Charging (Grid First)",
    "Command Charging (PV First)",
    *DISCHARGING,
    "V2G",
)
RATED_KW: Final = 10.0


@dataclass(kw_only=True)
class SigenergySim(VendorSim):
    """Sigenergy-Local-Modbus's remote EMS controls and a Sigen plant."""

    key = "sigenergy"
    poll_s = 5.0
    floor_rests = True  # 6 Backstop: Command Discharging persists at the cut-off SOC
    mode: str = SELF_CONSUMPTION  # the register; the select hides it while off

    @property
    def controls(self) -> dict[str, str]:
        """Return the switch, mode, limit and cut-off, by role."""
        return {"enable": REMOTE_EMS, "mode": MODE, "power": LIMIT, "cutoff": CUTOFF}

    def helpers(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
        """Return the plant's remote EMS controls."""
        return {
            "input_boolean": {REMOTE_EMS.partition(".")[2]: {}},
            "input_select": {
                MODE.partition(".")[2]: helper_select(MODES, SELF_CONSUMPTION)
            },
            "input_number": {
                LIMIT.partition(".")[2]: helper_number(0, 100, 0.001, "kW", RATED_KW),
                CUTOFF.partition(".")[2]: helper_number(0, 100, 0.1, "%", 10),
            },
        }

    def sensors(self) -> Mapping[str, tuple[str, Mapping[str, Any]]]:
        """Return the ESS power (kW, + = discharge)."""
        return {BATTERY: ("0.0", {"unit_of_measurement": "kW"})}

    async def async_setup(self) -> None:
        """Set the plant up with remote EMS off: the select is unavailable."""
        await super().async_setup()
        self.poll()

    def apply(self, entity_id: str, service: str, data: Mapping[str, Any]) -> None:
        """Write the register and refresh at once."""
        value = written(service, data)
        if entity_id == MODE:
            self.mode = value
        elif entity_id == CUTOFF and float(value) > self._soc():
            self.trap("cutoff_above_soc_imports")
        if entity_id == REMOTE_EMS and value == "off":
            self.mode = SELF_CONSUMPTION
        self.show(entity_id, value)
        self.poll()

    def _soc(self) -> float:
        """Return the battery's SOC as the site reports it (100 when not reported)."""
        state = self.hass.states.get(SOC)
        try:
            return 100.0 if state is None else float(state.state)
        except ValueError:
            return 100.0

    def poll(self) -> None:
        """Read the registers: the select is available only under remote EMS."""
        remote = self.hass.states.get(REMOTE_EMS)
        on = remote is not None and remote.state == "on"
        self.show(MODE, self.mode if on else "unavailable")
        drive = self.inverter(self.now())
        self.show(BATTERY, f"{(drive.power_kw or 0.0) if drive.on else 0.0:.3f}")

    def inverter(self, now: datetime) -> Drive:
        """Return a discharge at the limit while commanded: nothing ends it but the SOC."""
        remote = self.hass.states.get(REMOTE_EMS)
        on = remote is not None and remote.state == "on" and self.mode in DISCHARGING
        return Drive(
            on=on,
            power_kw=min(self.number(LIMIT), RATED_KW),
            floor_soc=self.number(CUTOFF),
        )
