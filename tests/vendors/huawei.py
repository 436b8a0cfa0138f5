"""Huawei through huawei_solar: services with fields, no readable switch.

`huawei_solar.forcible_discharge` {device_id of the Batteries device, duration 1-1440
min, power W (integer, at most the rated discharge power)} starts a forced discharge the
inverter times itself; `huawei_solar.stop_forcible_charge` {device_id} stops it. The
"Forcible charge" sensor reads "Stopped" or "Discharging at {P}W for {N} minutes" at the
integration's next poll (30 s). Traps: `forcible_discharge_soc` has no time bound (it
runs until the target SOC), and a wrong device id or field is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.vendors.base import Drive, VendorSim, running_until

DOMAIN: Final = "huawei_solar"
DISCHARGE: Final = f"{DOMAIN}.forcible_discharge"
DISCHARGE_SOC: Final = f"{DOMAIN}.forcible_discharge_soc"
STOP: Final = f"{DOMAIN}.stop_forcible_charge"
SUMMARY: Final = "sensor.batteries_forcible_charge"
BATTERY: Final = "sensor.batteries_charge_discharge_power"
MAX_DISCHARGE_W: Final = 5000


@dataclass(kw_only=True)
class HuaweiSim(VendorSim):
    """huawei_solar's battery services and a LUNA2000 battery."""

    key = "huawei"
    poll_s = 30.0
    device_id: str = ""
    forcing: bool = False
    forcing_kw: float = 0.0
    until: datetime | None = None
    target_soc: float | None = None

    @property
    def controls(self) -> dict[str, str]:
        """Return the Batteries device and the summary sensor, by role."""
        return {"device": self.device_id, "status": SUMMARY}

    def sensors(self) -> Mapping[str, tuple[str, Mapping[str, Any]]]:
        """Return the forcible-charge summary and the battery power (W, - = discharge)."""
        return {
            SUMMARY: ("Stopped", {"mode": "stopped"}),
            BATTERY: ("0", {"unit_of_measurement": "W"}),
        }

    def services(self) -> Mapping[str, Callable[[Mapping[str, Any]], None]]:
        """Return the battery services."""
        return {
            DISCHARGE: self._discharge,
            DISCHARGE_SOC: self._discharge_soc,
            STOP: self._stop,
        }

    async def async_setup(self) -> None:
        """Create the Batteries device, then the sensors and services."""
        entry = MockConfigEntry(domain=DOMAIN, title="Inverter")
        entry.add_to_hass(self.hass)
        device = dr.async_get(self.hass).async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={(DOMAIN, "batteries")},
            name="Batteries",
        )
        self.device_id = device.id
        await super().async_setup()

    def _check(self, data: Mapping[str, Any]) -> int:
        """Refuse what the integration refuses; return the power in W."""
        if data.get("device_id") != self.device_id:
            raise ServiceValidationError("not a Huawei Batteries device")
        power = coerced(data.get("power"))
        if power is None or not 0 < power <= MAX_DISCHARGE_W:
            raise HomeAssistantError(f"power {data.get('power')!r} is not valid")
        return power

    def _discharge(self, data: Mapping[str, Any]) -> None:
        """Start a forced discharge for `duration` minutes, timed by the inverter."""
        power = self._check(data)
        duration = coerced(data.get("duration"))
        if duration is None or not 1 <= duration <= 1440:
            raise HomeAssistantError(f"duration {data.get('duration')!r} is not valid")
        self.forcing, self.forcing_kw, self.target_soc = True, power / 1000.0, None
        self.until = self.now() + timedelta(minutes=duration)

    def _discharge_soc(self, data: Mapping[str, Any]) -> None:
        """Start a forced discharge down to a target SOC, with no time bound."""
        power = self._check(data)
        self.forcing, self.forcing_kw, self.until = True, power / 1000.0, None
        self.target_soc = float(data["target_soc"])
        self.trap("no_time_bound")

    def _stop(self, data: Mapping[str, Any]) -> None:
        """Stop a forced charge or discharge."""
        if data.get("device_id") != self.device_id:
            raise ServiceValidationError("not a Huawei Batteries device")
        self.forcing, self.until, self.target_soc = False, None, None

    def poll(self) -> None:
        """Read the forcible-charge registers into the summary and the power sensor."""
        drive = self.inverter(self.now())
        power_w = round((drive.power_kw or 0.0) * 1000.0) if drive.on else 0
        summary, minutes = "Stopped", 0
        if drive.on and self.until is not None:
            minutes = round((self.until - self.now()).total_seconds() / 60)
            summary = f"Discharging at {power_w}W for {minutes} minutes"
        elif drive.on:
            summary = f"Discharging at {power_w}W until {self.target_soc:.0f}%"
        self.hass.states.async_set(
            SUMMARY,
            summary,
            {"mode": "discharge" if drive.on else "stopped", "duration": minutes},
        )
        self.show(BATTERY, str(-power_w))

    def inverter(self, now: datetime) -> Drive:
        """Return the forced discharge: until its duration ends, or down to its SOC."""
        timed = self.until is None or running_until(now, self.until)
        return Drive(
            on=self.forcing and timed,
            power_kw=self.forcing_kw,
            ends=self.until,
            floor_soc=self.target_soc,
        )


def coerced(value: Any) -> int | None:
    """Return a field as the integration's schema takes it (int()), None when not one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
