"""SolarEdge (solaredge_modbus_multi): a command mode with a timeout and a 300 s scan."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from ..commands import Command, SetEnable, SetPower
from .behaviour import VendorSim, start, to_kw, to_minutes
from .surface import Backstop, SimEntity, Vendor, number, select

STORAGE_MODES: Final = (
    "Maximize Self Consumption",
    "Solar Power Only (Off)",
    "Charge from Clipped Solar Power",
    "Charge from Solar Power",
    "Charge from Solar Power and Grid",
    "Discharge to Maximize Export",
    "Discharge to Minimize Import",
)
SOLAREDGE: Final = Vendor(
    key="solaredge",
    title="SolarEdge (solaredge_modbus_multi)",
    entities=(
        select(
            "select.solaredge_i1_storage_control_mode",
            "Storage control mode",
            (
                "Disabled",
                "Maximize Self Consumption",
                "Time of Use",
                "Backup Only",
                "Remote Control",
            ),
            flash=True,
        ),
        select(
            "select.solaredge_i1_storage_default_mode",
            "Storage default mode",
            STORAGE_MODES,
            "fallback",
            flash=True,
        ),
        select(
            "select.solaredge_i1_storage_command_mode",
            "Storage command mode",
            STORAGE_MODES,
            "mode",
            flash=True,
        ),
        number(
            "number.solaredge_i1_storage_command_timeout",
            "Storage command timeout",
            3600.0,
            "timer",
            unit="s",
            maximum=86400.0,
            flash=True,
        ),
        number(
            "number.solaredge_i1_storage_discharge_limit",
            "Storage discharge limit",
            5000.0,
            "power",
            unit="W",
            maximum=5000.0,
            flash=True,
        ),
    ),
    setup=(("select.solaredge_i1_storage_control_mode", "Remote Control"),),
    polled=True,
    poll_s=300.0,
    refresh_s=1.0,
    backstop=Backstop.COMMAND_TIMEOUT,
    traps=(
        "the command entities are unavailable unless the control mode is Remote Control",
        "the command timeout restarts when the command mode is re-written",
        "on expiry the command mode falls back to the default mode",
        "a 300 s scan: read-back only after the refresh a write requests",
    ),
)


REMOTE_CONTROL: Final = "Remote Control"
CONTROL_MODE: Final = "select.solaredge_i1_storage_control_mode"
DEFAULT_MODE: Final = "select.solaredge_i1_storage_default_mode"
MAXIMIZE_EXPORT: Final = "Discharge to Maximize Export"


class SolarEdgeSim(VendorSim):
    """solaredge_modbus_multi storage control: command mode, timeout and limit; 300 s scan."""

    def available(self, entity_id: str) -> bool:
        """Offer the command entities only in Remote Control."""
        if entity_id == CONTROL_MODE:
            return True
        return self.registers[CONTROL_MODE] == REMOTE_CONTROL

    def _on_write(
        self, entity: SimEntity, value: str, previous: str, now: datetime
    ) -> list[Command]:
        """Maximize Export (re-)arms the timeout; any other command mode stops."""
        if entity.role == "power":
            return [SetPower(to_kw(entity, value))] if self.forcing else []
        if entity.role == "timer" or entity.entity_id == DEFAULT_MODE:
            return []  # used at the next command-mode write
        if entity.entity_id == CONTROL_MODE and value == REMOTE_CONTROL:
            return []
        self.forcing = value == MAXIMIZE_EXPORT and entity.role == "mode"
        if not self.forcing:
            return [SetEnable(False)]
        timer = self.vendor.entity(self.vendor.controls["timer"])
        power = self.vendor.entity(self.vendor.controls["power"])
        return start(
            to_kw(power, self.value("power")), to_minutes(timer, self.value("timer"))
        )

    def _on_inverter_stopped(self) -> None:
        """Fall back to the default mode: the command timed out."""
        mode = self.vendor.controls["mode"]
        self.registers[mode] = self.registers[DEFAULT_MODE]
