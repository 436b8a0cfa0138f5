"""Helper shapes: the generic helpers and the Alpha ESS helper package."""

from __future__ import annotations

from datetime import datetime
import math
from typing import Final

from ..bridge import CUTOFF_ENTITY, DURATION_ENTITY, ENABLE_ENTITY, POWER_ENTITY
from ..commands import Command, SetCutoff, SetDuration, SetEnable, SetPower
from .behaviour import VendorSim, to_kw, to_minutes
from .surface import Backstop, SimEntity, Vendor, number, sensor, switch


def helper_entities(
    ids: tuple[str, str, str, str], names: tuple[str, str, str, str], **limits: float
) -> tuple[SimEntity, ...]:
    """Return the four helpers (enable, power kW, cutoff %, duration min) of a package."""
    enable, power, cutoff, timer = ids
    return (
        switch(enable, names[0], "enable", helper=True),
        number(
            power, names[1], 3.0, "power", unit="kW", maximum=5.0, step=0.1, helper=True
        ),
        number(
            cutoff,
            names[2],
            10.0,
            "cutoff",
            unit="%",
            minimum=limits.get("cutoff_min", 0.0),
            helper=True,
        ),
        number(
            timer,
            names[3],
            0.0,
            "timer",
            unit="min",
            maximum=limits["timer_max"],
            helper=True,
        ),
    )


GENERIC: Final = Vendor(
    key="generic",
    title="Generic helpers (on/off, power, cutoff, duration)",
    entities=helper_entities(
        (ENABLE_ENTITY, POWER_ENTITY, CUTOFF_ENTITY, DURATION_ENTITY),
        (
            "Sim force discharge",
            "Sim discharge power",
            "Sim discharge cutoff SOC",
            "Sim discharge duration",
        ),
        timer_max=1440.0,
    ),
    traps=("the duration timer restarts on any write of it",),
)

ALPHA = "alphaess_helper_force_discharging"
ALPHA_ESS: Final = Vendor(
    key="alpha_ess",
    title="Alpha ESS (Modbus helper package)",
    entities=(
        *helper_entities(
            (
                f"input_boolean.{ALPHA}",
                f"input_number.{ALPHA}_power",
                f"input_number.{ALPHA}_cutoff_soc",
                f"input_number.{ALPHA}_duration",
            ),
            (
                "Force discharging",
                "Force discharging power",
                "Force discharging cutoff SOC",
                "Force discharging duration",
            ),
            cutoff_min=4.0,
            timer_max=480.0,
        ),
        sensor("sensor.alphaess_dispatch_start", "Dispatch start", "0", role="status"),
        sensor(
            "sensor.alphaess_dispatch_active_power",
            "Dispatch active power",
            "0",
            unit="W",
        ),
    ),
    backstop=Backstop.DURATION,
    traps=(
        "the dispatch duration restarts only when its value changes",
        "the cutoff register truncates to 0.392 % steps",
        "the dispatch sensors read back at the next 5 s poll",
    ),
)


class HelperSim(VendorSim):
    """Generic helpers: on/off, power, cutoff and a duration the inverter counts down."""

    def _on_write(
        self, entity: SimEntity, value: str, previous: str, now: datetime
    ) -> list[Command]:
        """Map each role's write to one command."""
        match entity.role:
            case "enable":
                self.forcing = value == "on"
                return [SetEnable(self.forcing)]
            case "power":
                return [SetPower(to_kw(entity, value))]
            case "cutoff":
                return [SetCutoff(float(value))]
            case "timer":
                return [SetDuration(to_minutes(entity, value))]
        return []

    def _on_inverter_stopped(self) -> None:
        """Turn the on/off entity off: the inverter's timer ended the export."""
        enable = self.vendor.controls["enable"]
        self.registers[enable] = self._shown[enable] = "off"


ALPHA_CUTOFF_STEP = 100.0 / 255.0  # the dispatch SOC register's resolution, %


class AlphaSim(HelperSim):
    """Alpha ESS helper package: the duration restarts only on a change; dispatch sensors."""

    def _on_write(
        self, entity: SimEntity, value: str, previous: str, now: datetime
    ) -> list[Command]:
        """Drop an unchanged duration; truncate the cutoff to the register's step."""
        if entity.role == "timer" and value == previous:
            return []
        if entity.role == "cutoff":
            steps = math.floor(float(value) / ALPHA_CUTOFF_STEP + 1e-9)
            return [SetCutoff(steps * ALPHA_CUTOFF_STEP)]
        return super()._on_write(entity, value, previous, now)

    def _status(self, now: datetime) -> dict[str, str]:
        """Return the dispatch registers at the 5 s poll."""
        running = self._running
        power_w = float(self.value("power")) * 1000.0 if running else 0.0
        return {
            "sensor.alphaess_dispatch_start": "1" if running else "0",
            "sensor.alphaess_dispatch_active_power": f"{power_w:.0f}",
        }
