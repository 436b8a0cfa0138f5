"""Tests of the inverter: latency, ignored writes, hung firmware, the timer, and dispatch."""

from __future__ import annotations

from datetime import timedelta
import random
from typing import Any

import pytest

from sim.inverter import (
    DischargeSettings,
    Dispatch,
    GridCharge,
    Inverter,
    InverterConfig,
    dispatch,
)
from sim.plant import Plant

from .common import local, quiet_config, run_for

NIGHT = local(2025, 6, 10, 22)


def _plant(**inverter: Any) -> Plant:
    """Return a night-time plant whose inverter has the given settings."""
    return Plant(quiet_config(inverter=InverterConfig(**inverter)), NIGHT)


@pytest.mark.parametrize(
    ("seconds", "readback", "forcing"),
    [(4.0, False, False), (5.0, True, True)],
    ids=["before_latency", "after_latency"],
)
def test_latency_delays_write(seconds: float, readback: bool, forcing: bool) -> None:
    """A write lands after the command latency, readback and effect together."""
    plant = _plant(latency_s=(5.0, 5.0))
    plant.command_enable(True)
    run_for(plant, seconds)
    assert plant.published().controls.enabled is readback
    assert plant.truth().forcing is forcing


def test_readback_immediate() -> None:
    """With immediate readback the switch reads on at once; power follows after latency."""
    plant = _plant(latency_s=(5.0, 5.0), readback_immediate=True)
    plant.command_enable(True)
    assert plant.published().controls.enabled
    assert not plant.truth().forcing


def test_ignored_write_reads_back_but_does_nothing() -> None:
    """An ignored enable reads back on while no power flows to the grid."""
    plant = _plant(ignore_probability=1.0)
    plant.command_enable(True)
    run_for(plant, 60.0)
    truth = plant.truth()
    assert plant.published().controls.enabled
    assert not truth.forcing
    assert truth.export_today_kwh == 0.0
    assert truth.ignored_commands == 1


def test_ignored_share_matches_probability() -> None:
    """About one write in ten is ignored at probability 0.1."""
    inverter = Inverter(
        InverterConfig(ignore_probability=0.1),
        random.Random(3),
        None,
        DischargeSettings(),
    )
    for i in range(2000):
        inverter.command("power_kw", float(i), float(i))
    inverter.process(1e9)
    assert 150 <= inverter.ignored_count <= 250


def test_writes_land_in_order_despite_random_latency() -> None:
    """With 0-30 s latency, later writes never overtake earlier ones."""
    plant = _plant(latency_s=(0.0, 30.0))
    plant.command_power_kw(1.0)
    plant.command_power_kw(2.0)
    plant.command_power_kw(4.0)
    run_for(plant, 90.0)
    assert plant.truth().effective.power_kw == 4.0


@pytest.mark.parametrize(
    ("before", "after"),
    [(3599.0, True), (3601.0, False)],
    ids=["before_hang", "after_hang"],
)
def test_hung_inverter_ignores_after_time(before: float, after: bool) -> None:
    """Writes landing after ignore_after read back but never change power flow."""
    plant = _plant(latency_s=(0.0, 0.0), ignore_after=NIGHT + timedelta(hours=1))
    run_for(plant, before)
    plant.command_enable(True)
    run_for(plant, 1.0)
    assert plant.published().controls.enabled
    assert plant.truth().forcing is after


def test_duration_timer_ends_discharge() -> None:
    """The inverter ends the discharge by itself duration minutes after the enable."""
    plant = _plant(latency_s=(0.0, 0.0))
    plant.command_duration_minutes(10.0)
    plant.command_enable(True)
    run_for(plant, 599.0)
    on = plant.truth()
    run_for(plant, 1.0)
    off = plant.truth()
    assert on.forcing
    assert not off.forcing
    assert not off.readback.enabled
    assert off.timer_stops == 1


def test_duration_write_rearms_timer() -> None:
    """Writing the duration again restarts the timer from that write."""
    plant = _plant(latency_s=(0.0, 0.0))
    plant.command_duration_minutes(10.0)
    plant.command_enable(True)
    run_for(plant, 300.0)
    plant.command_duration_minutes(10.0)
    run_for(plant, 599.0)
    on = plant.truth()
    run_for(plant, 1.0)
    assert on.forcing
    assert not plant.truth().forcing
    assert plant.truth().timer_stops == 1


def test_zero_duration_means_no_timer() -> None:
    """Duration 0 leaves the discharge running."""
    plant = _plant()
    plant.command_enable(True)
    run_for(plant, 3600.0, step_s=10.0)
    assert plant.truth().forcing
    assert plant.truth().timer_stops == 0


def test_timer_ignores_disabled_discharge() -> None:
    """A duration written while off starts nothing and stops nothing."""
    plant = _plant()
    plant.command_duration_minutes(1.0)
    run_for(plant, 120.0)
    assert not plant.truth().forcing
    assert plant.truth().timer_stops == 0


CHARGE = GridCharge(
    start=local(2025, 1, 1).time(),
    end=local(2025, 1, 1, 5).time(),
    target_soc=95.0,
    power_kw=3.0,
)


@pytest.mark.parametrize(
    ("settings", "pv_kw", "load_kw", "grid_charging", "expected"),
    [
        (
            DischargeSettings(enabled=True, power_kw=4.0, cutoff_soc=30.0),
            2.0,
            1.0,
            False,
            Dispatch(4.0, 30.0, 100.0),
        ),
        (DischargeSettings(), 0.0, 1.0, False, Dispatch(1.0, 10.0, 100.0)),
        (DischargeSettings(), 3.0, 1.0, False, Dispatch(-2.0, 10.0, 100.0)),
        (DischargeSettings(), 0.0, 1.0, True, Dispatch(-3.0, 0.0, 95.0)),
        (
            DischargeSettings(enabled=True, power_kw=-1.0),
            0.0,
            1.0,
            False,
            Dispatch(0.0, 10.0, 100.0),
        ),
    ],
    ids=[
        "forced",
        "cover_deficit",
        "absorb_surplus",
        "grid_charge",
        "negative_power_is_zero",
    ],
)
def test_dispatch(
    settings: DischargeSettings,
    pv_kw: float,
    load_kw: float,
    grid_charging: bool,
    expected: Dispatch,
) -> None:
    """The battery request follows the mode: forced, grid charge, or self-consumption."""
    config = InverterConfig(reserve_soc=10.0, grid_charge=CHARGE)
    assert dispatch(settings, config, pv_kw, load_kw, grid_charging) == expected


@pytest.mark.parametrize(
    ("latency", "probability"),
    [((5.0, 1.0), 0.0), ((-1.0, 1.0), 0.0), ((0.0, 0.0), 1.5)],
    ids=["reversed_latency", "negative_latency", "probability_above_one"],
)
def test_config_validated(latency: tuple[float, float], probability: float) -> None:
    """Impossible latencies and probabilities are refused."""
    with pytest.raises(ValueError, match=r"latency_s|ignore_probability"):
        InverterConfig(latency_s=latency, ignore_probability=probability)
