"""A battery with energy limits, power limits and round-trip losses split evenly per side."""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Final

# SOC this close to a limit counts as at the limit (float noise after exact clipping).
SOC_EPS: Final = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class BatteryConfig:
    """Size, limits and efficiency of a home battery."""

    capacity_kwh: float = 10.0
    initial_soc: float = 90.0
    max_charge_kw: float = 5.0
    max_discharge_kw: float = 5.0
    round_trip_efficiency: float = 0.9

    def __post_init__(self) -> None:
        """Reject impossible batteries."""
        if self.capacity_kwh <= 0.0 or not 0.0 <= self.initial_soc <= 100.0:
            raise ValueError("need capacity_kwh > 0 and 0 <= initial_soc <= 100")
        if not 0.0 < self.round_trip_efficiency <= 1.0:
            raise ValueError("round_trip_efficiency must be within (0, 1]")

    @property
    def one_way_efficiency(self) -> float:
        """Return the efficiency of one side (charge or discharge): sqrt of round trip."""
        return math.sqrt(self.round_trip_efficiency)


@dataclass(slots=True)
class Battery:
    """The battery's state; power is AC-side, positive while discharging."""

    config: BatteryConfig
    soc_pct: float

    @classmethod
    def from_config(cls, config: BatteryConfig) -> Battery:
        """Return a battery at its configured initial SOC."""
        return cls(config, config.initial_soc)

    @property
    def stored_kwh(self) -> float:
        """Return the energy held in the cells."""
        return self.soc_pct / 100.0 * self.config.capacity_kwh

    def max_discharge_kw(self, dt_s: float, floor_soc: float) -> float:
        """Return the largest AC power deliverable for dt_s without passing floor_soc."""
        if self.soc_pct <= floor_soc + SOC_EPS:
            return 0.0
        cells_kwh = (self.soc_pct - floor_soc) / 100.0 * self.config.capacity_kwh
        by_energy = cells_kwh * self.config.one_way_efficiency * 3600.0 / dt_s
        return min(self.config.max_discharge_kw, by_energy)

    def max_charge_kw(self, dt_s: float, ceiling_soc: float) -> float:
        """Return the largest AC power absorbable for dt_s without passing ceiling_soc."""
        if self.soc_pct >= ceiling_soc - SOC_EPS:
            return 0.0
        room_kwh = (ceiling_soc - self.soc_pct) / 100.0 * self.config.capacity_kwh
        by_energy = room_kwh / self.config.one_way_efficiency * 3600.0 / dt_s
        return min(self.config.max_charge_kw, by_energy)

    def achievable_kw(
        self,
        power_kw: float,
        dt_s: float,
        floor_soc: float = 0.0,
        ceiling_soc: float = 100.0,
    ) -> float:
        """Return the part of a requested AC power (discharge +) the limits allow for dt_s."""
        if power_kw >= 0.0:
            return min(power_kw, self.max_discharge_kw(dt_s, floor_soc))
        return -min(-power_kw, self.max_charge_kw(dt_s, ceiling_soc))

    def apply(
        self,
        power_kw: float,
        dt_s: float,
        floor_soc: float = 0.0,
        ceiling_soc: float = 100.0,
    ) -> float:
        """Run the requested AC power for dt_s within limits; return the power achieved."""
        actual = self.achievable_kw(power_kw, dt_s, floor_soc, ceiling_soc)
        eta = self.config.one_way_efficiency
        cells_kw = -actual / eta if actual >= 0.0 else -actual * eta
        soc = self.soc_pct + cells_kw * dt_s / 3600.0 / self.config.capacity_kwh * 100.0
        self.soc_pct = min(100.0, max(0.0, soc))
        return actual
