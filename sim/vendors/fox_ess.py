"""Fox ESS (foxess_modbus): a virtual work-mode option and a watchdog that keeps exporting."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from ..commands import Command, SetCutoff, SetEnable, SetPower
from .behaviour import VendorSim, start
from .surface import Backstop, SimEntity, Vendor, number, select

FOX_ESS: Final = Vendor(
    key="fox_ess",
    title="Fox ESS (foxess_modbus)",
    entities=(
        select(
            "select.foxess_work_mode",
            "Work mode",
            ("Self Use", "Feed-in First", "Back-up", "Force Charge", "Force Discharge"),
            "mode",
            flash=True,
        ),
        number(
            "number.foxess_force_discharge_power",
            "Force discharge power",
            5.0,
            "power",
            unit="kW",
            maximum=5.0,
            step=0.001,
        ),
        number(
            "number.foxess_min_soc_on_grid",
            "Min SoC (on grid)",
            10.0,
            "cutoff",
            unit="%",
            minimum=10.0,
            flash=True,
        ),
    ),
    poll_s=10.0,
    backstop=Backstop.WATCHDOG,
    fallback_exports=True,
    traps=(
        "the work mode shows intent, from memory",
        "a power change applies at the next 10 s poll",
        "the watchdog falls back to Feed-in First, which keeps exporting",
        "selecting Feed-in First does not stop a forced discharge",
        "after a restart the work mode shows Feed-in First and the export goes on",
    ),
)


FOX_STOPS: Final = ("Self Use", "Back-up", "Force Charge")
FORCE_DISCHARGE: Final = "Force Discharge"
FEED_IN_FIRST: Final = "Feed-in First"


class FoxSim(VendorSim):
    """foxess_modbus: a virtual work-mode option; power at the next poll; unsafe fallback."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._applied_kw: float | None = None

    def _on_write(
        self, entity: SimEntity, value: str, previous: str, now: datetime
    ) -> list[Command]:
        """Force Discharge starts; Self Use stops; Feed-in First changes nothing."""
        if entity.role == "cutoff":
            return [SetCutoff(float(value))]
        if entity.role != "mode":
            return []  # the power is written at the next poll
        if value == FORCE_DISCHARGE:
            self.forcing = True
            self._applied_kw = float(self.value("power"))
            return start(self._applied_kw)
        if value in FOX_STOPS:
            self.forcing = False
            return [SetEnable(False)]
        return []

    def _on_tick(self, now: datetime) -> list[Command]:
        """At each poll the manager writes the power it holds."""
        power = float(self.value("power"))
        if not (self.forcing and self.poll_due(now)) or power == self._applied_kw:
            return []
        self._applied_kw = power
        return [SetPower(power)]

    def _on_restart(self, running: bool) -> None:
        """Forget the mode; the watchdog left the inverter in Feed-in First, exporting."""
        self.forcing = False
        if running:
            self.registers[self.vendor.controls["mode"]] = FEED_IN_FIRST
