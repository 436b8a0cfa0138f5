"""Tests of the discharge plan: energy, duration and cutoff."""

from __future__ import annotations

from dataclasses import astuple

from hypothesis import given, strategies as st
import pytest

from custom_components.export_monitor.logic.plan import (
    DischargePlan,
    energy_above_min_soc_kwh,
    make_plan,
)

# Float rounding in energy / power * 60 and back (1 µWh).
ROUNDING_KWH = 1e-9

ABOVE_MIN: dict[str, tuple[float, float, float, float]] = {
    "above_min": (80.0, 20.0, 10.0, 6.0),
    "at_min": (20.0, 20.0, 10.0, 0.0),
    "below_min": (10.0, 20.0, 10.0, 0.0),
    "full_to_empty": (100.0, 0.0, 13.5, 13.5),
}


@pytest.mark.parametrize(
    ("soc", "min_soc", "capacity", "expected"),
    list(ABOVE_MIN.values()),
    ids=list(ABOVE_MIN),
)
def test_energy_above_min_soc(
    soc: float, min_soc: float, capacity: float, expected: float
) -> None:
    """Only the energy above min SOC is available, never a negative amount."""
    assert energy_above_min_soc_kwh(soc, min_soc, capacity) == pytest.approx(expected)


# headroom, soc, duration, target -> available, energy, minutes (min SOC 20 %,
# 10 kWh battery, 3 kW).
PLANS: dict[
    str, tuple[float, float, float | None, float | None, float, float, float]
] = {
    "limited_by_headroom": (2.0, 80.0, None, None, 6.0, 2.0, 40.0),
    "limited_by_available_energy": (10.0, 50.0, None, None, 3.0, 3.0, 60.0),
    "limited_by_target": (10.0, 80.0, None, 1.5, 6.0, 1.5, 30.0),
    "limited_by_duration": (10.0, 80.0, 20.0, None, 6.0, 1.0, 20.0),
    "duration_longer_than_needed": (2.0, 80.0, 120.0, None, 6.0, 2.0, 40.0),
    "target_above_headroom": (2.0, 80.0, None, 5.0, 6.0, 2.0, 40.0),
    "no_headroom": (0.0, 80.0, None, None, 6.0, 0.0, 0.0),
    "negative_headroom": (-1.0, 80.0, None, None, 6.0, 0.0, 0.0),
    "soc_at_min": (10.0, 20.0, None, None, 0.0, 0.0, 0.0),
    "soc_below_min": (10.0, 15.0, None, None, 0.0, 0.0, 0.0),
}


@pytest.mark.parametrize(
    ("headroom", "soc", "duration", "target", "available", "energy", "minutes"),
    list(PLANS.values()),
    ids=list(PLANS),
)
def test_make_plan(
    headroom: float,
    soc: float,
    duration: float | None,
    target: float | None,
    available: float,
    energy: float,
    minutes: float,
) -> None:
    """The plan exports the smallest limit, at the given power, down to min SOC."""
    plan = make_plan(
        headroom_kwh=headroom,
        soc=soc,
        min_soc=20.0,
        capacity_kwh=10.0,
        power_kw=3.0,
        duration_minutes=duration,
        target_export_kwh=target,
    )
    assert astuple(plan) == pytest.approx(
        astuple(
            DischargePlan(
                power_kw=3.0,
                cutoff_soc=20.0,
                available_kwh=available,
                energy_kwh=energy,
                duration_minutes=minutes,
            )
        )
    )


@given(
    headroom=st.floats(-10, 1000),
    soc=st.floats(0, 100),
    min_soc=st.floats(0, 100),
    capacity=st.floats(0.1, 200),
    power=st.floats(0.1, 50),
    duration=st.none() | st.floats(1, 1440),
    target=st.none() | st.floats(0.001, 1000),
)
def test_plan_stays_within_headroom_and_min_soc(
    headroom: float,
    soc: float,
    min_soc: float,
    capacity: float,
    power: float,
    duration: float | None,
    target: float | None,
) -> None:
    """The plan never exports more than headroom or the energy above min SOC."""
    plan = make_plan(
        headroom_kwh=headroom,
        soc=soc,
        min_soc=min_soc,
        capacity_kwh=capacity,
        power_kw=power,
        duration_minutes=duration,
        target_export_kwh=target,
    )
    exported_at_power = plan.power_kw * plan.duration_minutes / 60.0
    assert (
        0.0 <= plan.energy_kwh <= max(0.0, headroom),
        plan.energy_kwh <= energy_above_min_soc_kwh(soc, min_soc, capacity),
        exported_at_power <= max(0.0, headroom) + ROUNDING_KWH,
        plan.cutoff_soc >= min_soc,
    ) == (True, True, True, True)
