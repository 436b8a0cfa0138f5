"""SolarEdge through solaredge_modbus_multi: storage command mode, timeout and limit.

Under "Remote Control" (set once by the user), a forced export is the command mode
"Discharge to Maximize Export" with the discharge limit (W) for the command timeout (s),
counted from the last command-mode write: re-writing the mode re-arms it. On expiry the
inverter returns to the default mode (the fallback role, "Maximize Self Consumption"; a
default mode that exports keeps exporting). The integration reads
the registers every 300 s; after a write it requests one refresh, at most one per 10 s
(`refresh_after_write`, off for an install whose refresh fails: read-back only at the
next poll). Traps: a cloud programme may reset the command mode within seconds
(`override_after_s`, solaredge-modbus-multi#589); the command entities are unavailable
unless the control mode is "Remote Control"; the storage writes wear the flash.
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

CONTROL_MODE: Final = "input_select.solaredge_i1_storage_control_mode"
COMMAND_MODE: Final = "input_select.solaredge_i1_storage_command_mode"
DEFAULT_MODE: Final = "input_select.solaredge_i1_storage_default_mode"
TIMEOUT: Final = "input_number.solaredge_i1_storage_command_timeout"
LIMIT: Final = "input_number.solaredge_i1_storage_discharge_limit"
BATTERY: Final = "sensor.solaredge_b1_dc_power"
REMOTE: Final = "Remote Control"
SELF_CONSUMPTION: Final = "Maximize Self Consumption"
EXPORT: Final = "Discharge to Maximize Export"
CONTROL_MODES: Final = (
    "Disabled",
    SELF_CONSUMPTION,
    "Time of Use",
    "Backup Only",
    REMOTE,
)
COMMAND_MODES: Final = (
    "Solar Power Only (Off)",
    "Charge from Clipped Solar Power",
    "Charge from Solar Power",
    "Charge from Solar Power and Grid",
    EXPORT,
    "Discharge to Minimize Import",
    SELF_CONSUMPTION,
)
MAX_DISCHARGE_W: Final = 5000.0
COOLDOWN_S: Final = 10.0


@dataclass(kw_only=True)
class SolarEdgeSim(VendorSim):
    """solaredge_modbus_multi's storage control and a StorEdge inverter."""

    key = "solaredge"
    poll_s = 300.0
    refresh_after_write: bool = True
    override_after_s: float | None = None
    registers: dict[str, str] | None = None
    command_at: datetime | None = None
    last_refresh: datetime | None = None
    mended: bool = False

    @property
    def controls(self) -> dict[str, str]:
        """Return the command mode, timeout and limit, by role."""
        return {
            "mode": COMMAND_MODE,
            "fallback": DEFAULT_MODE,
            "timer": TIMEOUT,
            "power": LIMIT,
        }

    def helpers(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
        """Return the storage-control entities, with Remote Control chosen."""
        return {
            "input_select": {
                CONTROL_MODE.partition(".")[2]: helper_select(CONTROL_MODES, REMOTE),
                COMMAND_MODE.partition(".")[2]: helper_select(
                    COMMAND_MODES, SELF_CONSUMPTION
                ),
                DEFAULT_MODE.partition(".")[2]: helper_select(
                    COMMAND_MODES, SELF_CONSUMPTION
                ),
            },
            "input_number": {
                TIMEOUT.partition(".")[2]: helper_number(0, 86400, 1, "s", 3600),
                LIMIT.partition(".")[2]: helper_number(
                    0, MAX_DISCHARGE_W, 1, "W", MAX_DISCHARGE_W
                ),
            },
        }

    def sensors(self) -> Mapping[str, tuple[str, Mapping[str, Any]]]:
        """Return the battery's DC power (W, + = discharge)."""
        return {BATTERY: ("0", {"unit_of_measurement": "W"})}

    async def async_setup(self) -> None:
        """Set up, then hold the registers as the entities first show them."""
        await super().async_setup()
        self.registers = {
            entity_id: self.hass.states.get(entity_id).state  # type: ignore[union-attr]
            for entity_id in (CONTROL_MODE, COMMAND_MODE, DEFAULT_MODE, TIMEOUT, LIMIT)
        }

    def apply(self, entity_id: str, service: str, data: Mapping[str, Any]) -> None:
        """Write the register; the entity shows it after the refresh (or next poll)."""
        assert self.registers is not None
        self.registers[entity_id] = written(service, data)
        self.trap("flash_write")
        if entity_id == COMMAND_MODE:
            self.command_at = self.now()
            if self.override_after_s is not None:
                self.later(self.override_after_s, self.override)
        if self.refresh_after_write:
            self._refresh()

    def override(self) -> None:
        """Put the command mode back, as a cloud programme does."""
        assert self.registers is not None
        self.registers[COMMAND_MODE] = SELF_CONSUMPTION
        self.trap("command_overridden")

    def _refresh(self) -> None:
        """Request a refresh: now, or when the debouncer's cooldown ends."""
        now = self.now()
        wait = 0.0
        if self.last_refresh is not None and not self.mended:
            wait = COOLDOWN_S - (now - self.last_refresh).total_seconds()
        if wait <= 0:
            self.poll()
        else:
            self.later(wait, self.poll)

    def poll(self) -> None:
        """Read every register into its entity."""
        assert self.registers is not None
        self.last_refresh = self.now()
        for entity_id, shown in self._shown().items():
            self.show(entity_id, shown)
        drive = self.inverter(self.now())
        self.show(BATTERY, f"{(drive.power_kw or 0.0) * 1000.0 if drive.on else 0:.0f}")

    def _shown(self) -> dict[str, str]:
        """Return what a poll shows of each register (unavailable unless remote)."""
        assert self.registers is not None
        remote = self.registers[CONTROL_MODE] == REMOTE
        return {
            entity_id: value if remote or entity_id == CONTROL_MODE else "unavailable"
            for entity_id, value in self.registers.items()
        }

    def mend(self) -> None:
        """Refresh at once after every write from now on (the run is over)."""
        self.mended = True
        self.refresh_after_write = True
        self.poll()

    def inverter(self, now: datetime) -> Drive:
        """Return the command until its timeout, counted from the last mode write."""
        assert self.registers is not None
        until = (
            None
            if self.command_at is None
            else self.command_at + timedelta(seconds=float(self.registers[TIMEOUT]))
        )
        remote = self.registers[CONTROL_MODE] == REMOTE
        commanded = remote and self.registers[COMMAND_MODE] == EXPORT
        # On expiry the default mode runs: one that exports keeps exporting.
        fallback = remote and self.registers[DEFAULT_MODE] == EXPORT
        limit_kw = min(float(self.registers[LIMIT]), MAX_DISCHARGE_W) / 1000.0
        if commanded and running_until(now, until):
            return Drive(
                on=True,
                power_kw=limit_kw,
                ends=until,
                fallback_kw=limit_kw if fallback else 0.0,
            )
        return Drive(on=fallback, power_kw=limit_kw)
