"""The discharge plan: power, duration, cutoff and the energy it will export."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class DischargePlan:
    """A forced discharge that stays within the headroom and above min SOC."""

    power_kw: float
    cutoff_soc: float
    available_kwh: float
    energy_kwh: float
    duration_minutes: float


def energy_above_min_soc_kwh(soc: float, min_soc: float, capacity_kwh: float) -> float:
    """Return the battery energy above the minimum SOC."""
    return max(0.0, (soc - min_soc) / 100.0 * capacity_kwh)


def make_plan(
    *,
    headroom_kwh: float,
    soc: float,
    min_soc: float,
    capacity_kwh: float,
    power_kw: float,
    duration_minutes: float | None = None,
    target_export_kwh: float | None = None,
) -> DischargePlan:
    """Plan a discharge exporting min(headroom, available, target, power x time)."""
    available = energy_above_min_soc_kwh(soc, min_soc, capacity_kwh)
    limits = [max(0.0, headroom_kwh), available]
    if target_export_kwh is not None:
        limits.append(target_export_kwh)
    if duration_minutes is not None:
        limits.append(power_kw * duration_minutes / 60.0)
    energy = min(limits)
    return DischargePlan(
        power_kw=power_kw,
        cutoff_soc=min_soc,
        available_kwh=available,
        energy_kwh=energy,
        duration_minutes=energy / power_kw * 60.0,
    )
