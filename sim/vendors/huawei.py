"""Huawei (huawei_solar): forcible discharge by service call, with a duration."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from ..commands import Command, SetCutoff, SetDuration, SetEnable, SetPower
from .behaviour import VendorError, VendorSim, start
from .surface import Backstop, SimEntity, SimService, Vendor, button, number, sensor

HUAWEI_DEVICE: Final = "sim_huawei_batteries"
HUAWEI: Final = Vendor(
    key="huawei",
    title="Huawei (huawei_solar services)",
    entities=(
        sensor(
            "sensor.batteries_forcible_charge",
            "Forcible charge",
            "Stopped",
            role="status",
        ),
        button("button.batteries_stop_forcible_charge", "Stop forcible charge"),
        number(
            "number.batteries_end_of_discharge_soc",
            "End-of-discharge SOC",
            10.0,
            "cutoff",
            unit="%",
            maximum=20.0,
            flash=True,
        ),
    ),
    services=(
        SimService(
            service="huawei_solar.forcible_discharge",
            fields=("device_id", "duration", "power"),
        ),
        SimService(
            service="huawei_solar.forcible_discharge_soc",
            fields=("device_id", "target_soc", "power"),
        ),
        SimService(service="huawei_solar.stop_forcible_charge", fields=("device_id",)),
    ),
    device_name="Simulated Huawei batteries",
    polled=True,
    poll_s=30.0,
    refresh_s=2.0,
    backstop=Backstop.DURATION,
    traps=(
        "service-only: no switch reads whether it runs",
        "forcible_discharge_soc has no time bound",
        "power above the rated 5000 W is refused",
    ),
)


HUAWEI_MAX_W: Final = 5000
STOPPED: Final = "Stopped"


class HuaweiSim(VendorSim):
    """huawei_solar: forcible discharge by service; the summary sensor shows the setting."""

    def __init__(
        self, vendor: Any, now: datetime, device_id: str = HUAWEI_DEVICE
    ) -> None:
        super().__init__(vendor, now)
        self.device_id = device_id
        self._summary = STOPPED

    def _on_call(
        self, name: str, data: Mapping[str, Any], now: datetime
    ) -> list[Command]:
        """Validate as the integration does, then write the forcible registers."""
        if data["device_id"] != self.device_id:
            raise VendorError(f"{data['device_id']} is not a Huawei batteries device")
        if name == "stop_forcible_charge":
            return self._stop()
        power = _integer(data, "power", 1, HUAWEI_MAX_W)
        self.forcing = True
        if name == "forcible_discharge_soc":
            target = _integer(data, "target_soc", 0, 100)
            self._summary = f"Discharging at {power}W until {target}%"
            return start(power / 1000.0, cutoff=float(target))
        minutes = _integer(data, "duration", 1, 1440)
        self._summary = f"Discharging at {power}W for {minutes} minutes"
        return start(power / 1000.0, float(minutes))

    def _on_write(
        self, entity: SimEntity, value: str, previous: str, now: datetime
    ) -> list[Command]:
        """Stop on the stop button; write the end-of-discharge SOC as the cutoff."""
        if entity.role == "cutoff":
            return [SetCutoff(float(value))]
        return self._stop()

    def _stop(self) -> list[Command]:
        """Write STOP, power 0 and period 0."""
        self.forcing = False
        self._summary = STOPPED
        return [SetEnable(False), SetPower(0.0), SetDuration(0.0)]

    def _on_inverter_stopped(self) -> None:
        """Show the stop: the duration ran out."""
        self._summary = STOPPED

    def _status(self, now: datetime) -> dict[str, str]:
        """Return the configuration read after the call's refresh request."""
        return {"sensor.batteries_forcible_charge": self._summary}


def _integer(data: Mapping[str, Any], key: str, low: int, high: int) -> int:
    """Return an integer field within [low, high]; refuse anything else."""
    try:
        value = int(data[key])
    except (TypeError, ValueError) as err:
        raise VendorError(f"{key} must be an integer") from err
    if not low <= value <= high:
        raise VendorError(f"{key} must be within {low}..{high}")
    return value
