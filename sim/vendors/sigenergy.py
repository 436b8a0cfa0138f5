"""Sigenergy (Sigenergy-Local-Modbus): remote EMS with no backstop but the cut-off SOC."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from ..commands import Command, SetCutoff, SetEnable, SetPower
from .behaviour import VendorSim, start, to_kw
from .surface import Backstop, SimEntity, Vendor, number, select, switch

SIGENERGY: Final = Vendor(
    key="sigenergy",
    title="Sigenergy (Sigenergy-Local-Modbus)",
    entities=(
        switch(
            "switch.sigen_plant_remote_ems_controlled_by_home_assistant",
            "Remote EMS controlled by Home Assistant",
            "enable",
        ),
        select(
            "select.sigen_plant_remote_ems_control_mode",
            "Remote EMS control mode",
            (
                "Maximum Self Consumption",
                "PCS Remote Control",
                "Standby",
                "Command Charging (Grid First)",
                "Command Charging (PV First)",
                "Command Discharging (PV First)",
                "Command Discharging (ESS First)",
            ),
            "mode",
        ),
        number(
            "number.sigen_plant_ess_max_discharging_limit",
            "ESS max discharging limit",
            5.0,
            "power",
            unit="kW",
            step=0.001,
        ),
        number(
            "number.sigen_plant_ess_discharge_cut_off_state_of_charge",
            "ESS discharge cut-off SOC",
            10.0,
            "cutoff",
            unit="%",
        ),
    ),
    backstop=Backstop.NONE,
    traps=(
        "no backstop: remote EMS discharges until the cut-off SOC",
        "the control mode is unavailable while remote EMS is off",
        "a cut-off above the SOC makes the plant import",
    ),
)


SIGEN_DISCHARGES: Final = (
    "Command Discharging (PV First)",
    "Command Discharging (ESS First)",
)


class SigenergySim(VendorSim):
    """Sigenergy remote EMS: a switch, a mode (only while on), a kW limit; no backstop."""

    def available(self, entity_id: str) -> bool:
        """Offer the control mode only while remote EMS is on."""
        if entity_id == self.vendor.controls["mode"]:
            return self.value("enable") == "on"
        return super().available(entity_id)

    def _on_write(
        self, entity: SimEntity, value: str, previous: str, now: datetime
    ) -> list[Command]:
        """Discharge in a Command Discharging mode; stop otherwise or when switched off."""
        match entity.role:
            case "power":
                return [SetPower(to_kw(entity, value))] if self.forcing else []
            case "cutoff":
                return [SetCutoff(float(value))]
            case "enable" if value == "off":
                # Off returns the plant to self-consumption: stop, below.
                self.registers[self.vendor.controls["mode"]] = (
                    "Maximum Self Consumption"
                )
            case "mode" if value in SIGEN_DISCHARGES:
                self.forcing = True
                return start(
                    float(self.value("power")), cutoff=float(self.value("cutoff"))
                )
            case "enable":
                return []
        self.forcing = False
        return [SetEnable(False)]
