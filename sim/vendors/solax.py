"""SolaX (solax_modbus mode 1): local parameters, a trigger and a command timeout."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from ..commands import Command, SetCutoff, SetEnable
from .behaviour import VendorSim, start, to_minutes
from .surface import Backstop, SimEntity, Vendor, button, number, select, sensor

SOLAX: Final = Vendor(
    key="solax",
    title="SolaX (solax_modbus remote control, mode 1)",
    entities=(
        select(
            "select.solax_remotecontrol_power_control",
            "Remotecontrol power control",
            (
                "Disabled",
                "Enabled Power Control",
                "Enabled Grid Control",
                "Enabled Battery Control",
                "Enabled Self Use",
                "Enabled Feedin Priority",
                "Enabled No Discharge",
            ),
            "mode",
        ),
        number(
            "number.solax_remotecontrol_active_power",
            "Remotecontrol active power",
            0.0,
            "power",
            unit="W",
            minimum=-30000.0,
            maximum=30000.0,
            step=100.0,
        ),
        number(
            "number.solax_remotecontrol_duration",
            "Remotecontrol duration",
            20.0,
            "timer",
            unit="s",
            maximum=28800.0,
        ),
        number(
            "number.solax_remotecontrol_autorepeat_duration",
            "Remotecontrol autorepeat duration",
            0.0,
            "repeat",
            unit="s",
            maximum=172800.0,
        ),
        button(
            "button.solax_remotecontrol_trigger", "Remotecontrol trigger", "trigger"
        ),
        sensor(
            "sensor.solax_modbus_power_control",
            "Modbus power control",
            "Disabled",
            role="status",
        ),
        number(
            "number.solax_selfuse_discharge_min_soc",
            "Selfuse discharge min SOC",
            10.0,
            "cutoff",
            unit="%",
            flash=True,
        ),
    ),
    poll_s=5.0,
    backstop=Backstop.COMMAND_TIMEOUT,
    traps=(
        "the remotecontrol_* entities are local: written only by the trigger",
        "a command lasts remotecontrol_duration (20 s) unless re-sent",
        "the autorepeat lives in Home Assistant's memory: a restart forgets it",
        "modbus_power_control reads 'Enabled Power Control' for every computed mode",
    ),
)


SOLAX_DRIVES: Final = (
    "Enabled Power Control",
    "Enabled Grid Control",
    "Enabled Battery Control",
)


class SolaxSim(VendorSim):
    """solax_modbus mode 1: local parameters, a trigger, a command timeout, autorepeat."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._repeat_until: datetime | None = None

    def _on_write(
        self, entity: SimEntity, value: str, previous: str, now: datetime
    ) -> list[Command]:
        """Only the trigger (and the EEPROM min SOC) reach the inverter."""
        if entity.role == "cutoff":
            return [SetCutoff(float(value))]
        if entity.role != "trigger":
            return []
        commands = self._block()
        repeat = float(self.value("repeat"))
        self._repeat_until = (
            now + timedelta(seconds=repeat) if self.forcing and repeat > 0 else None
        )
        return commands

    def _block(self) -> list[Command]:
        """Return the mode 1 block the trigger writes, from the local parameters."""
        power_w = -float(self.value("power"))
        self.forcing = self.value("mode") in SOLAX_DRIVES and power_w > 0
        if not self.forcing:
            return [SetEnable(False)]
        timer = self.vendor.entity(self.vendor.controls["timer"])
        return start(power_w / 1000.0, to_minutes(timer, self.value("timer")))

    def _on_tick(self, now: datetime) -> list[Command]:
        """Re-send the block every poll (autorepeat); at its end, send one Disabled block."""
        until = self._repeat_until
        if until is None:
            return []
        if now >= until:
            self._repeat_until = None
            self.forcing = False
            return [SetEnable(False)]
        return self._block() if self.poll_due(now) else []

    def _on_restart(self, running: bool) -> None:
        """Forget the autorepeat: it lived in memory."""
        self._repeat_until = None

    def _status(self, now: datetime) -> dict[str, str]:
        """Register 0x100: any computed mode reads as Enabled Power Control."""
        state = "Enabled Power Control" if self._running else "Disabled"
        return {"sensor.solax_modbus_power_control": state}
