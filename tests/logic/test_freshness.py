"""Tests of what "fresh" means idle and discharging for sources that write on change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_components.export_monitor.logic.cadence import MeterCadence
from custom_components.export_monitor.logic.freshness import (
    Freshness,
    accept_quiet,
    distrusted_after,
    quiet_limit_seconds,
)
from custom_components.export_monitor.logic.readings import (
    RawState,
    Reading,
    ReadingProblem,
    parse_reading,
    reserve_age_seconds,
)
from custom_components.export_monitor.logic.settings import settings_from_options
from custom_components.export_monitor.logic.snapshot import Source, build_snapshot
from custom_components.export_monitor.logic.units import Quantity

from .common import NOW, raw

STALE_AFTER = 30.0
METER = MeterCadence(declared_interval_s=10.0, declared_resolution_kwh=0.001)
IDLE = Freshness(cadence=METER)
DISCHARGING = Freshness(
    discharging_since=NOW - timedelta(seconds=600),
    power_kw=3.0,
    capacity_kwh=10.0,
    cadence=METER,
)


def _reading(
    age: float, problem: ReadingProblem | None = ReadingProblem.STALE
) -> Reading:
    """Return a reading of 5.0 reported `age` seconds before NOW."""
    return Reading(
        value=5.0,
        problem=problem,
        reported_at=NOW - timedelta(seconds=age),
        age_seconds=age,
    )


@pytest.mark.parametrize(
    ("source", "freshness", "export_kw", "limit"),
    [
        ("soc", IDLE, None, None),
        ("pv_today", IDLE, None, None),
        ("exported_today", IDLE, None, None),
        ("exported_today", IDLE, 0.01, None),
        # 2 kW of export moves a 10 s meter: 10 s x 1.5 + 300 s.
        ("exported_today", IDLE, 2.0, 315.0),
        # Discharging: one interval x 1.5, no tolerance (the reserve covers it).
        ("exported_today", DISCHARGING, None, 15.0),
        ("exported_today", DISCHARGING, 0.0, 15.0),
        # 1 % of 10 kWh at 3 kW takes 120 s: x 1.5 + 300 s.
        ("soc", DISCHARGING, None, 480.0),
        ("pv_today", DISCHARGING, None, None),
        ("soc", Freshness(not_loaded=frozenset({"soc"})), None, 0.0),
        ("pv_today", Freshness(distrusted=frozenset({"pv_today"})), None, 0.0),
        ("soc", Freshness(re_reporting=frozenset({"soc"})), None, 0.0),
    ],
)
def test_quiet_limit(
    source: str, freshness: Freshness, export_kw: float | None, limit: float | None
) -> None:
    """How long each source may stand unchanged, idle and discharging."""
    assert quiet_limit_seconds(source, freshness, export_kw) == (
        None if limit is None else pytest.approx(limit)
    )


def test_discharge_at_no_power_still_bounds_the_soc() -> None:
    """A discharge power of zero gives a long but finite SOC limit."""
    freshness = Freshness(discharging_since=NOW, capacity_kwh=10.0)
    assert quiet_limit_seconds("soc", freshness, None) == pytest.approx(
        0.1 / 0.05 * 3600.0 * 1.5 + 300.0
    )


@pytest.mark.parametrize(
    ("reading", "limit", "freshness", "quiet"),
    [
        (_reading(3600.0), None, IDLE, True),
        (_reading(3600.0), 0.0, IDLE, False),
        (_reading(40.0), 60.0, IDLE, True),
        (_reading(70.0), 60.0, IDLE, False),
        # Discharging: measured from the start when the report is older.
        (_reading(3600.0), 15.0, DISCHARGING, False),
        (_reading(3600.0), 700.0, DISCHARGING, True),
        (_reading(20.0), 15.0, DISCHARGING, True),
    ],
)
def test_accept_quiet(
    reading: Reading, limit: float | None, freshness: Freshness, quiet: bool
) -> None:
    """A stale reading becomes usable only within its limit."""
    result = accept_quiet(
        reading, limit, stale_after_seconds=STALE_AFTER, freshness=freshness, now=NOW
    )
    assert (result.usable, result.quiet) == (quiet, quiet)
    assert result.value == reading.value


@pytest.mark.parametrize(
    "reading",
    [
        _reading(5.0, None),
        _reading(3600.0, ReadingProblem.UNAVAILABLE),
        Reading(value=None, problem=ReadingProblem.STALE),
    ],
    ids=["fresh", "unavailable", "no_report"],
)
def test_accept_quiet_leaves_other_readings(reading: Reading) -> None:
    """Only a stale reading with a report can be quiet."""
    result = accept_quiet(
        reading, None, stale_after_seconds=STALE_AFTER, freshness=IDLE, now=NOW
    )
    assert result is reading


def test_distrust_lasts_until_the_source_reports() -> None:
    """A source seen stale stays distrusted until a report newer than that."""
    seen = NOW - timedelta(seconds=100)
    previous = {"soc": seen, "pv_today": seen, "exported_today": seen}
    readings = {
        "soc": _reading(200.0, None),  # reported before it was seen stale
        "pv_today": _reading(10.0, None),  # reported since
        "exported_today": _reading(500.0),  # still stale: the first moment is kept
        "grid_power": _reading(40.0),  # newly stale
        "battery_power": Reading(value=None, problem=ReadingProblem.UNAVAILABLE),
    }
    assert distrusted_after(previous, readings, NOW) == {
        "soc": seen,
        "exported_today": seen,
        "grid_power": NOW,
    }
    assert distrusted_after(
        {"soc": seen}, {"soc": Reading(value=1.0, problem=None)}, NOW
    ) == {"soc": seen}


def test_reserve_age() -> None:
    """A quiet value adds no report age to the reserve; others add theirs."""
    assert reserve_age_seconds(None) == 0.0
    assert reserve_age_seconds(_reading(50.0, None)) == 50.0
    assert reserve_age_seconds(Reading(value=1.0, problem=None)) == 0.0
    quiet = accept_quiet(
        _reading(3600.0), None, stale_after_seconds=STALE_AFTER, freshness=IDLE, now=NOW
    )
    assert reserve_age_seconds(quiet) == 0.0


@pytest.mark.parametrize(
    ("freshness", "safe"),
    [(None, False), (IDLE, True)],
    ids=["strict", "idle"],
)
def test_snapshot_of_quiet_sources(freshness: Freshness | None, safe: bool) -> None:
    """An hour without writes: strict is stale, idle is quiet and plans a discharge."""
    settings = settings_from_options({})
    states = {
        Source.SOC: raw("80", "%", 3600.0),
        Source.PV_TODAY: raw("4.1", "kWh", 3600.0),
        Source.EXPORTED_TODAY: raw("2.6", "kWh", 3600.0),
        Source.GRID_POWER: raw("0", "W", 3600.0),
    }
    snapshot = build_snapshot(states, settings, NOW, freshness=freshness)
    assert snapshot.safe is safe
    assert (snapshot.plan is not None) is safe
    assert snapshot.readings[Source.SOC].quiet is safe


def test_a_report_from_the_future_is_as_old_as_received() -> None:
    """After a backward clock step the monotonic age since receipt still counts."""
    future = RawState(
        state="80",
        unit="%",
        reported_at=NOW + timedelta(hours=1),
        received_age_seconds=45.0,
    )
    reading = parse_reading(future, Quantity.PERCENT, now=NOW, stale_after_seconds=30)
    assert (reading.problem, reading.age_seconds) == (ReadingProblem.STALE, 45.0)
