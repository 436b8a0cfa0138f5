"""SolaX through solax_modbus "mode 1" remote control: local parameters and a trigger.

The `remotecontrol_*` parameters live in Home Assistant only (they show a write at once
and mean nothing to the inverter yet). Pressing the trigger sends one block: the power
control, the active power (W, negative = discharge) and the block's duration (s). The
inverter obeys the block for that duration, then returns to its normal work mode: a
command that expires within seconds unless it is sent again. With an autorepeat
duration the integration re-sends the block at every poll (15 s) until the autorepeat
ends, then sends "Disabled". A poll sends the parameters as they were when it was due
(tests/vendors/base.py: a write made after that rides on the next poll). The register
read-back (`modbus_power_control`) shows "Enabled Power Control" for every computed
mode, at the next poll. Traps: choosing "Disabled" without pressing the trigger changes
nothing on the inverter, and the autorepeat is Home Assistant memory only (forgotten on
a restart).
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

CONTROL: Final = "input_select.solax_remotecontrol_power_control"
POWER: Final = "input_number.solax_remotecontrol_active_power"
DURATION: Final = "input_number.solax_remotecontrol_duration"
AUTOREPEAT: Final = "input_number.solax_remotecontrol_autorepeat_duration"
TRIGGER: Final = "input_button.solax_remotecontrol_trigger"
MIN_SOC: Final = "input_number.solax_selfuse_discharge_min_soc"
STATUS: Final = "sensor.solax_modbus_power_control"
BATTERY: Final = "sensor.solax_battery_power_charge"
DISABLED: Final = "Disabled"
OPTIONS: Final = (
    DISABLED,
    "Enabled Power Control",
    "Enabled Grid Control",
    "Enabled Battery Control",
    "Enabled Self Use",
    "Enabled Feedin Priority",
    "Enabled No Discharge",
)


@dataclass(kw_only=True)
class SolaxSim(VendorSim):
    """solax_modbus's remote control (mode 1) and a SolaX inverter."""

    key = "solax"
    poll_s = 15.0
    block_kw: float = 0.0
    block_until: datetime | None = None
    repeat_until: datetime | None = None

    @property
    def controls(self) -> dict[str, str]:
        """Return the remote-control entities, by role."""
        return {
            "mode": CONTROL,
            "power": POWER,
            "timer": DURATION,
            "repeat": AUTOREPEAT,
            "trigger": TRIGGER,
            "status": STATUS,
        }

    def helpers(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
        """Return the local parameters, the trigger and the (EEPROM) self-use floor."""
        return {
            "input_select": {
                CONTROL.partition(".")[2]: helper_select(OPTIONS, DISABLED)
            },
            "input_number": {
                POWER.partition(".")[2]: helper_number(-30000, 30000, 100, "W", 0),
                DURATION.partition(".")[2]: helper_number(0, 28800, 1, "s", 20),
                AUTOREPEAT.partition(".")[2]: helper_number(0, 172800, 1, "s", 0),
                MIN_SOC.partition(".")[2]: helper_number(10, 100, 1, "%", 10),
            },
            "input_button": {TRIGGER.partition(".")[2]: {}},
        }

    def sensors(self) -> Mapping[str, tuple[str, Mapping[str, Any]]]:
        """Return the register read-back and the battery power (W, + = charge)."""
        return {
            STATUS: (DISABLED, {}),
            BATTERY: ("0", {"unit_of_measurement": "W"}),
        }

    def apply(self, entity_id: str, service: str, data: Mapping[str, Any]) -> None:
        """Keep a local parameter; the trigger sends the block."""
        self.show(entity_id, written(service, data))
        if entity_id == TRIGGER:
            self._trigger()
        elif entity_id == CONTROL and data.get("option") == DISABLED:
            self.trap("disabled_without_trigger")

    def _trigger(self) -> None:
        """Send one block now; start (or stop) the autorepeat."""
        now = self.now()
        repeat = self.number(AUTOREPEAT)
        self.repeat_until = now + timedelta(seconds=repeat) if repeat > 0 else None
        self._send(now)

    def _send(self, now: datetime) -> None:
        """Send the block the parameters make; "Disabled" ends remote control."""
        control = self.hass.states.get(CONTROL)
        if control is None or control.state == DISABLED:
            self.block_until = self.repeat_until = None
            return
        self.block_kw = max(0.0, -self.number(POWER) / 1000.0)
        self.block_until = now + timedelta(seconds=self.number(DURATION))

    def poll(self) -> None:
        """Re-send while the autorepeat runs, "Disabled" at its end; read the registers."""
        now = self.now()
        if self.repeat_until is not None:
            if now < self.repeat_until:
                self._send(now)
            else:
                self.block_until = self.repeat_until = None
        drive = self.inverter(now)
        self.show(STATUS, "Enabled Power Control" if drive.on else DISABLED)
        self.show(
            BATTERY, f"{-(drive.power_kw or 0.0) * 1000.0 if drive.on else 0:.0f}"
        )

    def forget(self) -> None:
        """Forget the autorepeat's end: it is Home Assistant memory."""
        self.repeat_until = None

    def inverter(self, now: datetime) -> Drive:
        """Return the last block, obeyed until its duration runs out."""
        return Drive(
            on=running_until(now, self.block_until),
            power_kw=self.block_kw,
            ends=self.block_until,
        )
