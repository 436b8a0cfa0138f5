"""GivEnergy through GivTCP: a mode select and a daily discharge slot on the inverter clock.

Timed export: the discharge slot 1 (start and end selects, "HH:MM:SS" in whole minutes,
on the inverter's own clock), the discharge rate (W, a cap: stored as a percent of the
battery's capacity, at most 50 %, so truncated to 95 W steps here), the power reserve
(the SOC floor, %) and the mode "Timed Export". Writes show at once (GivTCP publishes
its control cache optimistically); the registers, e.g. the truncated rate, show at the
next loop (15 s). Stop: the mode "Eco". Traps: the slot ends on the inverter's clock,
which may differ from Home Assistant's (`clock_offset_s`); the slot recurs every day
while the mode stays "Timed Export"; a time that is not a whole minute is not an option.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
import math
from typing import Any, Final

from homeassistant.util import dt as dt_util

from tests.vendors.base import Drive, VendorSim, helper_number, helper_select, written

PREFIX: Final = "givtcp_ce2146g123"
MODE: Final = f"input_select.{PREFIX}_mode"
SLOT_START: Final = f"input_select.{PREFIX}_discharge_start_time_slot_1"
SLOT_END: Final = f"input_select.{PREFIX}_discharge_end_time_slot_1"
RATE: Final = f"input_number.{PREFIX}_battery_discharge_rate"
RESERVE: Final = f"input_number.{PREFIX}_battery_power_reserve"
CLOCK: Final = f"sensor.{PREFIX}_invertor_time"
BATTERY: Final = f"sensor.{PREFIX}_battery_power"
ECO: Final = "Eco"
TIMED_EXPORT: Final = "Timed Export"
MODES: Final = (ECO, "Eco (Paused)", "Timed Demand", TIMED_EXPORT, "Export (Paused)")
TIMES: Final = tuple(f"{m // 60:02d}:{m % 60:02d}:00" for m in range(24 * 60))
MAX_RATE_W: Final = 4750.0  # half the 9.5 kWh battery's capacity, per hour
RATE_STEP_W: Final = MAX_RATE_W / 50.0


@dataclass(kw_only=True)
class GivEnergySim(VendorSim):
    """GivTCP's controls and a GivEnergy inverter with its own clock."""

    key = "givenergy"
    poll_s = 15.0
    clock_offset_s: float = 0.0  # the inverter's clock minus Home Assistant's

    @property
    def controls(self) -> dict[str, str]:
        """Return the mode, slot, rate, reserve and clock entities, by role."""
        return {
            "mode": MODE,
            "slot_start": SLOT_START,
            "slot_end": SLOT_END,
            "power": RATE,
            "cutoff": RESERVE,
            "clock": CLOCK,
        }

    def helpers(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
        """Return GivTCP's selects and numbers."""
        return {
            "input_select": {
                MODE.partition(".")[2]: helper_select(MODES, ECO),
                SLOT_START.partition(".")[2]: helper_select(TIMES, "00:00:00"),
                SLOT_END.partition(".")[2]: helper_select(TIMES, "00:00:00"),
            },
            "input_number": {
                RATE.partition(".")[2]: helper_number(0, MAX_RATE_W, 1, "W", 0),
                RESERVE.partition(".")[2]: helper_number(4, 100, 1, "%", 4),
            },
        }

    def sensors(self) -> Mapping[str, tuple[str, Mapping[str, Any]]]:
        """Return the inverter's clock and the battery power (W, + = discharge)."""
        return {
            CLOCK: (self.clock().isoformat(), {"device_class": "timestamp"}),
            BATTERY: ("0", {"unit_of_measurement": "W"}),
        }

    def clock(self, now: datetime | None = None) -> datetime:
        """Return the inverter's clock (local wall time plus its offset)."""
        moment = dt_util.as_local(now or self.now())
        return moment + timedelta(seconds=self.clock_offset_s)

    def apply(self, entity_id: str, service: str, data: Mapping[str, Any]) -> None:
        """Publish the write at once (the control cache); the register follows."""
        self.show(entity_id, written(service, data))

    def rate_w(self) -> float:
        """Return the rate the register holds: a whole percent of capacity, truncated."""
        percent = min(math.floor(self.number(RATE) / RATE_STEP_W + 1e-9), 50)
        return percent * RATE_STEP_W

    def poll(self) -> None:
        """Read the registers: the truncated rate, the clock, the battery power."""
        self.show(RATE, str(self.rate_w()))
        self.show(CLOCK, self.clock().isoformat())
        drive = self.inverter(self.now())
        self.show(BATTERY, f"{(drive.power_kw or 0.0) * 1000.0 if drive.on else 0:.0f}")

    def _slot(self, entity_id: str) -> time:
        """Return a slot time the inverter holds."""
        state = self.hass.states.get(entity_id)
        assert state is not None
        return time.fromisoformat(state.state)

    def inverter(self, now: datetime) -> Drive:
        """Return a discharge while the inverter's clock is in the slot, in Timed Export."""
        start, end = self._slot(SLOT_START), self._slot(SLOT_END)
        clock = self.clock(now)
        inside = (
            start <= clock.time() < end
            if start <= end
            else not end <= clock.time() < start
        )
        mode = self.hass.states.get(MODE)
        on = inside and mode is not None and mode.state == TIMED_EXPORT
        slot_end = datetime.combine(clock.date(), end, clock.tzinfo)
        if slot_end <= clock:
            slot_end += timedelta(days=1)
        return Drive(
            on=on,
            power_kw=self.rate_w() / 1000.0,
            ends=slot_end - timedelta(seconds=self.clock_offset_s) if on else None,
            floor_soc=self.number(RESERVE),
        )
