"""SolaX through solax_modbus "mode 1" remote control: local parameters and a trigger.

The `remotecontrol_*` parameters live in Home Assistant only (they show a write at once
and mean nothing to the inverter yet). Pressing the trigger sends one block: the power
control, the active power (W, negative = discharge) and the block's duration (s). The
inverter obeys the block for that duration, then returns to its normal work mode: a
command that expires within seconds unless it is sent again. With an autorepeat
duration the integration re-sends the block at every poll (15 s) until the autorepeat
ends, then sends "Disabled". A poll sends the parameters as they were when it was due:
the rig fires a poll due between two meter steps at the next step, and a write of that
step must not ride on it (which came first would be milliseconds of machine speed).
The register read-back (`modbus_power_control`) shows "Enabled Power Control" for
every computed mode, at the next poll. Traps: choosing
"Disabled" without pressing the trigger changes nothing on the inverter, and the
autorepeat is Home Assistant memory only (forgotten on a restart).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.core import callback
from homeassistant.util import dt as dt_util

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
    # When the running poll was due (None: not in a poll), when the next one is.
    polled_as_of: datetime | None = None
    next_poll: datetime | None = None
    # Each parameter write: when, the parameter, the value it replaced.
    changes: list[tuple[datetime, str, str]] = field(default_factory=list)

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

    async def async_setup(self) -> None:
        """Set up; the first poll is due one poll period from now."""
        await super().async_setup()
        self.next_poll = dt_util.utcnow() + timedelta(seconds=self.poll_s)

    @callback
    def _async_poll(self, now: datetime) -> None:
        """Poll as of the moment the poll was due (Home Assistant's interval timer)."""
        due, self.next_poll = (
            self.next_poll or now,
            now + timedelta(seconds=self.poll_s),
        )
        self.polled_as_of = min(due, now)
        try:
            super()._async_poll(now)
        finally:
            self.polled_as_of = None

    def apply(self, entity_id: str, service: str, data: Mapping[str, Any]) -> None:
        """Keep a local parameter; the trigger sends the block."""
        before = self.hass.states.get(entity_id)
        if before is not None and entity_id in (CONTROL, POWER, DURATION):
            self.changes.append((dt_util.utcnow(), entity_id, before.state))
        self.show(entity_id, written(service, data))
        if entity_id == TRIGGER:
            self._trigger()
        elif entity_id == CONTROL and data.get("option") == DISABLED:
            self.trap("disabled_without_trigger")

    def _trigger(self) -> None:
        """Send one block now; start (or stop) the autorepeat."""
        now = dt_util.utcnow()
        repeat = self.number(AUTOREPEAT)
        self.repeat_until = now + timedelta(seconds=repeat) if repeat > 0 else None
        self._send(now)

    def parameter(self, entity_id: str) -> str | None:
        """Return a parameter as the block reads it: as of the poll's due moment."""
        state = self.hass.states.get(entity_id)
        if state is None or self.polled_as_of is None:
            return None if state is None else state.state
        later = (
            before
            for at, changed, before in self.changes
            if changed == entity_id and at > self.polled_as_of
        )
        return next(later, state.state)

    def _send(self, now: datetime) -> None:
        """Send the block the parameters make; "Disabled" ends remote control."""
        control = self.parameter(CONTROL)
        if control is None or control == DISABLED:
            self.block_until = self.repeat_until = None
            return
        self.block_kw = max(0.0, -float(self.parameter(POWER) or 0.0) / 1000.0)
        duration = float(self.parameter(DURATION) or 0.0)
        self.block_until = now + timedelta(seconds=duration)

    def poll(self) -> None:
        """Re-send while the autorepeat runs, "Disabled" at its end; read the registers."""
        now = dt_util.utcnow()
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
