"""GivEnergy (GivTCP): Timed Export inside a daily slot on the inverter's own clock."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Final

from ..clock import in_window
from ..commands import Command, SetCutoff, SetEnable, SetPower
from .behaviour import VendorSim, start
from .surface import Backstop, SimEntity, Vendor, number, select, sensor


def slot_times() -> tuple[str, ...]:
    """Return GivTCP's slot-time options: every minute of the day, "HH:MM:SS"."""
    return tuple(f"{m // 60:02d}:{m % 60:02d}:00" for m in range(24 * 60))


GIVENERGY_CAPACITY_W: Final = 5200.0
GIVENERGY: Final = Vendor(
    key="givenergy",
    title="GivEnergy (GivTCP)",
    entities=(
        select(
            "select.givtcp_sim_mode",
            "Mode",
            (
                "Eco",
                "Eco (Paused)",
                "Timed Demand",
                "Timed Export",
                "Unknown",
                "Export (Paused)",
            ),
            "mode",
            flash=True,
        ),
        select(
            "select.givtcp_sim_discharge_start_time_slot_1",
            "Discharge start time slot 1",
            slot_times(),
            "slot_start",
            flash=True,
        ),
        select(
            "select.givtcp_sim_discharge_end_time_slot_1",
            "Discharge end time slot 1",
            slot_times(),
            "slot_end",
            flash=True,
        ),
        number(
            "number.givtcp_sim_battery_discharge_rate",
            "Battery discharge rate",
            2600.0,
            "power",
            unit="W",
            maximum=2600.0,
            flash=True,
        ),
        number(
            "number.givtcp_sim_battery_power_reserve",
            "Battery power reserve",
            4.0,
            "cutoff",
            unit="%",
            minimum=4.0,
            flash=True,
        ),
        sensor(
            "sensor.givtcp_sim_invertor_time", "Invertor time", "unknown", role="clock"
        ),
    ),
    poll_s=15.0,
    backstop=Backstop.SLOT_END,
    clock_skew_s=-90.0,
    traps=(
        "the slot ends on the inverter's clock, 90 s behind Home Assistant's",
        "the slot recurs daily and the mode stays Timed Export",
        "the rate is stored as a percentage of capacity: quantised down",
        "every write wears flash (about 270 a day)",
    ),
)


TIMED_EXPORT: Final = "Timed Export"


class GivEnergySim(VendorSim):
    """GivTCP: mode Timed Export discharges inside slot 1, on the inverter's own clock, daily."""

    def inverter_clock(self, now: datetime) -> datetime:
        """Return the inverter's clock at Home Assistant's now."""
        return now + timedelta(seconds=self.vendor.clock_skew_s)

    def _on_write(
        self, entity: SimEntity, value: str, previous: str, now: datetime
    ) -> list[Command]:
        """Quantise the rate; apply what changed to a running export; re-check the slot."""
        if entity.role == "power":
            step = GIVENERGY_CAPACITY_W / 100.0
            percent = min(float(value) / (GIVENERGY_CAPACITY_W / 2.0) * 50.0, 50.0)
            self.registers[entity.entity_id] = str(int(percent + 1e-9) * step)
            if self.forcing:
                return [SetPower(self._rate_kw())]
        if entity.role == "cutoff":
            return [SetCutoff(float(value))]
        return self._on_tick(now)

    def _rate_kw(self) -> float:
        """Return the quantised discharge rate in kW."""
        return float(self.value("power")) / 1000.0

    def _on_tick(self, now: datetime) -> list[Command]:
        """Discharge exactly while the mode is Timed Export and the clock is in the slot."""
        clock = self.inverter_clock(now).time()
        start_at = time.fromisoformat(self.value("slot_start"))
        end_at = time.fromisoformat(self.value("slot_end"))
        inside = self.value("mode") == TIMED_EXPORT and in_window(
            clock, start_at, end_at
        )
        if inside == self.forcing:
            return []
        self.forcing = inside
        if not inside:
            return [SetEnable(False)]
        return start(self._rate_kw(), cutoff=float(self.value("cutoff")))

    def _status(self, now: datetime) -> dict[str, str]:
        """Return the inverter's clock, read at the poll."""
        clock = self.inverter_clock(now).replace(microsecond=0).isoformat()
        return {self.vendor.controls["clock"]: clock}
