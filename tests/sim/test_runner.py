"""Tests of run_day: sane totals, samples, breach scoring and stop reaction records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from sim.baseline import BaselineController
from sim.commands import Command, SetEnable
from sim.meters import MeterConfig
from sim.plant import Plant, Published
from sim.runner import (
    DayResult,
    IdleController,
    over_export_kwh,
    run_day,
    true_allowance_kwh,
)
from sim.scenarios import scenario_day

from .common import local, quiet_config


class _Scripted:
    """Writes fixed commands at fixed moments."""

    def __init__(self, script: dict[datetime, list[Command]]) -> None:
        """Hold the script."""
        self._script = script

    def decide(self, published: Published, now: datetime) -> Sequence[Command]:
        """Return the writes scripted for now."""
        return self._script.get(now, [])


@pytest.fixture(scope="module")
def nominal() -> dict[str, DayResult]:
    """Run one nominal scenario-day idle and under the baseline."""
    day = scenario_day("nominal", 0, 2024)
    return {
        "idle": run_day(day.plant(), IdleController(), 10.0),
        "baseline": run_day(day.plant(), BaselineController(), 10.0),
    }


def test_nominal_day_totals_are_sane(nominal: dict[str, DayResult]) -> None:
    """A nominal summer day: 24 h, 10-45 kWh PV, balanced energy, no breach when idle."""
    result = nominal["idle"]
    totals = result.totals
    balance = totals.pv_kwh + totals.discharge_kwh - totals.charge_kwh - totals.load_kwh
    assert totals.hours == 24.0
    assert 10.0 < totals.pv_kwh < 45.0
    assert 3.0 < totals.load_kwh < 30.0
    assert balance == pytest.approx(totals.export_kwh - totals.import_kwh, abs=1e-6)
    assert result.over_export_kwh == 0.0
    assert result.commands_written == 0
    assert len(result.samples) == 24 * 60
    assert result.samples[0].at == scenario_day("nominal", 0, 2024).start
    assert max(s.pv_kw for s in result.samples) <= 5.0


def test_nominal_day_with_baseline(nominal: dict[str, DayResult]) -> None:
    """The baseline writes four commands per start and one per stop, and exports more."""
    result = nominal["baseline"]
    assert len(result.stops) >= 1
    assert result.commands_written == 5 * len(result.stops)
    assert result.totals.export_kwh > nominal["idle"].totals.export_kwh + 2.0
    assert min(s.reaction_s for s in result.stops) >= 0.0
    assert result.totals.pv_kwh == pytest.approx(
        nominal["idle"].totals.pv_kwh, rel=1e-3
    )


@pytest.mark.parametrize(
    ("year", "month", "day", "minutes"),
    [(2025, 3, 30, 23 * 60), (2025, 10, 26, 25 * 60)],
    ids=["dst_spring", "dst_autumn"],
)
def test_dst_days_run_their_length(
    year: int, month: int, day: int, minutes: int
) -> None:
    """run_day covers 23 h or 25 h on DST days, sampling every minute."""
    config = quiet_config(meters=MeterConfig(update_interval_s=300.0))
    result = run_day(Plant(config, local(year, month, day)), IdleController(), 60.0)
    assert len(result.samples) == minutes
    assert result.totals.hours * 60 == minutes


def test_stop_records_trigger_and_reaction() -> None:
    """A stop 5 s after a 60 s meter poll records that poll as its trigger."""
    start = local(2025, 6, 10, 22)
    stop_at = start + timedelta(minutes=10, seconds=5)
    script: dict[datetime, list[Command]] = {
        start: [SetEnable(True)],
        stop_at: [SetEnable(False)],
    }
    config = quiet_config(meters=MeterConfig(update_interval_s=60.0))
    result = run_day(Plant(config, start), _Scripted(script), 1.0)
    assert len(result.stops) == 1
    assert result.stops[0].trigger == start + timedelta(minutes=10)
    assert result.stops[0].reaction_s == 5.0
    assert result.commands_written == 2
    assert result.totals.export_kwh == pytest.approx(2.5 * 605 / 3600)


@pytest.mark.parametrize(
    ("pv", "margin", "cap", "expected"),
    [(10.0, 0.5, None, 9.5), (10.0, 0.5, 5.0, 4.5), (0.2, 0.5, None, -0.3)],
    ids=["generation_rule", "cap_binds", "below_margin"],
)
def test_true_allowance(
    pv: float, margin: float, cap: float | None, expected: float
) -> None:
    """The true allowance subtracts the margin from PV and from the cap."""
    assert true_allowance_kwh(pv, margin, cap) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("export", "allowance", "expected"),
    [(5.0, 9.5, 0.0), (10.0, 9.5, 0.5), (0.0, -0.3, 0.0), (0.4, -0.3, 0.4)],
    ids=["within", "breach", "nothing_exported", "negative_allowance_counts_as_zero"],
)
def test_over_export(export: float, allowance: float, expected: float) -> None:
    """Over-export is export above the allowance, the allowance floored at 0."""
    assert over_export_kwh(export, allowance) == pytest.approx(expected)
