"""Table and property tests of the SOC floor and the energy per SOC percent it assumes."""

from __future__ import annotations

from datetime import timedelta
import math
from typing import Any

from hypothesis import example, given, strategies as st
import pytest

from custom_components.export_monitor.logic.soc_floor import (
    ENERGY_MARGIN,
    MAX_FACTOR,
    RESERVED_WRITES,
    UNMEASURED_FACTOR,
    FloorLearning,
    FloorWrites,
    delivered_kwh,
    floor_must_rise,
    floor_reached,
    lower_floor_worth_writing,
    lowered_floor,
    round_down,
    round_up,
    soc_floor,
)
from tests.logic.common import NOW

steps = st.sampled_from([None, 0.0, 0.1, 0.392, 0.5, 1.0, 5.0])
socs = st.floats(0.0, 100.0)


# -- the floor -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("soc", "headroom", "reserve", "step", "imports", "expected"),
    [
        (80.0, 2.2, 0.2, 1.0, False, 60.0),
        (80.0, 2.25, 0.2, 1.0, False, 60.0),  # 20.5 % allowed: rounded up to 60
        (80.0, 50.0, 0.0, 1.0, False, 20.0),  # min SOC
        (80.0, 0.2, 0.2, 1.0, False, 80.0),  # nothing left: no discharge
        (80.0, 0.1, 0.5, 1.0, False, 80.0),  # reserve above headroom
        (80.4, 0.0, 0.0, 1.0, False, 81.0),  # the SOC rounded up: no discharge
        (80.4, 0.0, 0.0, 1.0, True, 80.0),  # importing inverters: never above the SOC
        (15.0, 1.0, 0.0, 1.0, False, 15.0),  # below min SOC: the SOC, not min SOC
        (15.0, 1.0, 0.0, 1.0, True, 15.0),
        (80.0, 2.0, 0.0, 5.0, False, 60.0),
        (80.0, 2.1, 0.0, 5.0, False, 60.0),  # 59 rounded up to 60
        (80.0, 2.0, 0.0, None, False, 60.0),
    ],
    ids=[
        "headroom",
        "rounded_up",
        "min_soc",
        "no_headroom",
        "reserve_above_headroom",
        "soc_rounded_up",
        "imports_soc_rounded_down",
        "below_min_soc",
        "below_min_soc_imports",
        "step_5",
        "step_5_rounded_up",
        "no_step",
    ],
)
def test_soc_floor(
    soc: float,
    headroom: float,
    reserve: float,
    step: float | None,
    imports: bool,
    expected: float,
) -> None:
    """The floor for 0.1 kWh per percent and a min SOC of 20 %."""
    floor = soc_floor(
        soc=soc,
        min_soc=20.0,
        headroom_kwh=headroom,
        reserve_kwh=reserve,
        kwh_per_percent=0.1,
        step=step,
        above_soc_imports=imports,
    )
    assert floor == pytest.approx(expected)


@given(
    soc=socs,
    min_soc=socs,
    headroom=st.floats(0.0, 100.0),
    reserve=st.floats(0.0, 5.0),
    per_percent=st.floats(0.01, 2.0),
    share=st.floats(0.01, 1.0),
    step=steps,
)
def test_floor_never_lets_more_than_the_headroom_through(
    soc: float,
    min_soc: float,
    headroom: float,
    reserve: float,
    per_percent: float,
    share: float,
    step: float | None,
) -> None:
    """A battery with at most the assumed energy per percent delivers <= headroom - reserve."""
    floor = soc_floor(
        soc=soc,
        min_soc=min_soc,
        headroom_kwh=headroom,
        reserve_kwh=reserve,
        kwh_per_percent=per_percent,
        step=step,
    )
    delivered = max(0.0, soc - floor) * per_percent * share
    assert delivered <= max(0.0, headroom - reserve) + 1e-6
    assert floor <= round_up(soc, step) + 1e-9
    grain = step or 1.0
    assert abs(floor / grain - round(floor / grain)) < 1e-6 or floor == 100.0


cases = st.fixed_dictionaries(
    {
        "soc": socs,
        "min_soc": socs,
        "headroom_kwh": st.floats(0.0, 100.0),
        "kwh_per_percent": st.floats(0.01, 2.0),
        "step": steps,
    }
)


def floor_of(case: dict[str, Any], **flags: float) -> float:
    """Return the floor of a drawn case, with no reserve."""
    return soc_floor(**case, reserve_kwh=0.0, **flags)


@given(case=cases)
def test_floor_never_above_the_soc_where_that_imports(case: dict[str, Any]) -> None:
    """An inverter that charges up to a cutoff above the SOC never gets one."""
    floor = floor_of(case, above_soc_imports=True)
    soc, per_percent = case["soc"], case["kwh_per_percent"]
    assert 0.0 <= floor <= soc + 1e-9
    # At most one step below what the headroom allows.
    grain = case["step"] or 1.0
    assert (soc - floor) * per_percent <= case[
        "headroom_kwh"
    ] + grain * per_percent + 1e-6


@given(case=cases, raise_pct=st.floats(0.0, 2.0), truncated=st.floats(0.0, 1.0))
@example(
    case={
        "soc": 100.0,
        "min_soc": 0.0,
        "headroom_kwh": 0.0,
        "kwh_per_percent": 1.0,
        "step": None,
    },
    raise_pct=1.0,
    truncated=1.0,
)
def test_a_truncating_cutoff_still_holds(
    case: dict[str, Any], raise_pct: float, truncated: float
) -> None:
    """Asked higher by what the inverter may truncate, what it keeps is still safe.

    Except near a full battery: no cutoff can be asked above 100 %.
    """
    floor = floor_of(case, raise_pct=raise_pct)
    kept = floor - truncated * raise_pct
    soc, per_percent = case["soc"], case["kwh_per_percent"]
    delivered = max(0.0, soc - kept) * per_percent
    above_full = max(0.0, soc + raise_pct - 100.0) * per_percent
    assert delivered <= case["headroom_kwh"] + above_full + 1e-6


@given(case=cases)
def test_timer_backed_floor_leaves_a_step_and_keeps_min_soc(
    case: dict[str, Any],
) -> None:
    """With the inverter's timer as the bound, at most one step more, never below min SOC."""
    floor = floor_of(case, backstop_backed=True)
    soc, per_percent, step = case["soc"], case["kwh_per_percent"], case["step"]
    grain = step or 1.0
    lowest = round_up(case["min_soc"], step)
    assert (soc - floor) * per_percent <= case[
        "headroom_kwh"
    ] + 2 * grain * per_percent + 1e-6
    assert floor >= min(lowest, round_up(soc, step)) - 1e-9
    # Room for the timer to run in, unless min SOC is within two steps.
    assert floor < soc or soc < lowest + 2 * grain


@pytest.mark.parametrize(
    ("value", "step", "up", "down"),
    [(59.01, 1.0, 60.0, 59.0), (60.0, 1.0, 60.0, 60.0), (0.5, None, 1.0, 0.0)],
    ids=["between", "on_step", "no_step"],
)
def test_rounding(value: float, step: float | None, up: float, down: float) -> None:
    """Rounding to the cutoff's step, whole percents without one."""
    assert round_up(value, step) == up
    assert round_down(value, step) == down


# -- energy per percent ------------------------------------------------------------------


def test_unmeasured_battery_assumed_twice_the_declared_capacity() -> None:
    """Before battery power was measured against the SOC, twice the declared (and margin)."""
    assert FloorLearning().kwh_per_percent(10.0) == pytest.approx(
        0.1 * UNMEASURED_FACTOR * ENERGY_MARGIN
    )


@pytest.mark.parametrize(
    ("learning", "expected"),
    [
        (FloorLearning(battery_kwh=0.05), 0.1),  # less than declared: the declared
        (FloorLearning(battery_kwh=0.2), 0.2),
        (FloorLearning(battery_kwh=0.2, export_kwh=0.3), 0.3),
        (FloorLearning(export_kwh=0.3), 0.3),
        (FloorLearning(export_kwh=0.1), 0.1 * UNMEASURED_FACTOR),
        (FloorLearning(battery_kwh=9.0), 0.1 * MAX_FACTOR),  # a glitch: clamped
    ],
    ids=[
        "below_declared",
        "measured",
        "export_larger",
        "export_larger_than_prior",
        "export_only_keeps_prior",
        "clamped",
    ],
)
def test_kwh_per_percent(learning: FloorLearning, expected: float) -> None:
    """The larger of declared and measured, with the margin; export alone keeps the prior."""
    assert learning.kwh_per_percent(10.0) == pytest.approx(expected * ENERGY_MARGIN)


def discharge(
    learning: FloorLearning,
    per_percent: float,
    chunks: list[float],
    *,
    soc: float = 95.0,
    from_battery: bool = True,
) -> FloorLearning:
    """Discharge in `chunks` kWh; the SOC reads truncated to whole percents."""
    energy = 0.0
    learning = learning.observe(math.floor(soc), energy, from_battery=from_battery)
    for chunk in chunks:
        energy += chunk
        soc -= chunk / per_percent
        learning = learning.observe(
            math.floor(max(0.0, soc)), energy, from_battery=from_battery
        )
    return learning


@given(
    factor=st.floats(0.5, UNMEASURED_FACTOR),
    chunks=st.lists(st.floats(0.001, 0.5), min_size=1, max_size=200),
)
def test_energy_per_percent_never_understated_up_to_twice_declared(
    factor: float, chunks: list[float]
) -> None:
    """Measured or not, a battery up to twice its declared capacity is never understated."""
    per_percent = 0.1 * factor  # declared 10 kWh
    learning = discharge(FloorLearning(), per_percent, chunks)
    assert learning.kwh_per_percent(10.0) >= per_percent


@given(
    factor=st.floats(0.5, MAX_FACTOR),
    chunks=st.lists(st.floats(0.001, 0.5), min_size=1, max_size=200),
)
def test_measured_energy_per_percent_is_never_understated(
    factor: float, chunks: list[float]
) -> None:
    """Once a SOC drop was measured, any battery up to the clamp is never understated."""
    per_percent = 0.1 * factor
    # Enough energy for a measurable drop first, then the random chunks.
    head = [per_percent * 7.0]
    learning = discharge(FloorLearning(), per_percent, head + chunks, soc=99.0)
    assert learning.battery_kwh is not None
    assert learning.kwh_per_percent(10.0) >= per_percent


def test_a_battery_twice_the_declared_is_learned() -> None:
    """A 20 kWh battery declared as 10 kWh: measured, then used (with the margin)."""
    learning = discharge(FloorLearning(), 0.2, [0.1] * 100)
    assert learning.battery_kwh is not None
    assert 0.2 <= learning.battery_kwh <= 0.2 * 1.3
    assert learning.kwh_per_percent(10.0) == pytest.approx(
        learning.battery_kwh * ENERGY_MARGIN
    )


def test_export_counter_measures_a_lower_bound() -> None:
    """From the export counter: kept apart, the prior stays until battery power measures."""
    learning = discharge(FloorLearning(), 0.3, [0.1] * 100, from_battery=False)
    assert learning.battery_kwh is None
    assert learning.export_kwh is not None
    assert learning.kwh_per_percent(10.0) >= 0.3 * ENERGY_MARGIN


@pytest.mark.parametrize(
    ("soc", "energy"),
    [(96.0, 0.5), (90.0, 0.0)],
    ids=["charged", "counter_reset"],
)
def test_measurement_restarts(soc: float, energy: float) -> None:
    """A SOC that rose or an energy total that fell starts the stretch afresh."""
    learning = FloorLearning().observe(95.0, 0.4, from_battery=True)
    learning = learning.observe(93.0, 0.6, from_battery=True)
    learning = learning.observe(soc, energy, from_battery=True)
    assert learning.start_soc == soc
    assert learning.start_energy_kwh == energy
    assert learning.battery_kwh is None


def test_short_drop_measures_nothing() -> None:
    """Less than the minimum SOC drop: no measurement yet, the lowest SOC is kept."""
    learning = FloorLearning().observe(95.0, 0.0, from_battery=True)
    learning = learning.observe(92.0, 0.3, from_battery=True)
    assert learning.battery_kwh is None
    assert learning.lowest_soc == 92.0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"battery_kwh": 0.2, "export_kwh": None}, FloorLearning(battery_kwh=0.2)),
        (
            {"battery_kwh": 1, "export_kwh": 0.3},
            FloorLearning(battery_kwh=1.0, export_kwh=0.3),
        ),
        ({"battery_kwh": "0.2"}, FloorLearning()),
        ({"battery_kwh": True}, FloorLearning()),
        ({"battery_kwh": -1.0}, FloorLearning()),
        ({"battery_kwh": math.inf}, FloorLearning()),
        (None, FloorLearning()),
        ([0.2], FloorLearning()),
    ],
    ids=["battery", "both", "text", "bool", "negative", "infinite", "none", "list"],
)
def test_from_data(data: object, expected: FloorLearning) -> None:
    """Only positive finite measurements are restored; anything else is unmeasured."""
    assert FloorLearning.from_data(data) == expected


def test_data_round_trip_keeps_only_the_measurements() -> None:
    """The stretch under measurement is not kept across restarts."""
    learning = FloorLearning(battery_kwh=0.2, export_kwh=0.25, start_soc=50.0)
    assert FloorLearning.from_data(learning.to_data()) == FloorLearning(
        battery_kwh=0.2, export_kwh=0.25
    )


@pytest.mark.parametrize(
    ("last_kw", "kw", "seconds", "expected"),
    [(3.0, 2.0, 3600.0, 4.0), (-1.0, -2.0, 3600.0, 1.0), (3.0, 3.0, 0.0, 1.0)],
    ids=["larger_sample", "charging_adds_nothing", "no_time"],
)
def test_delivered_kwh(
    last_kw: float, kw: float, seconds: float, expected: float
) -> None:
    """Each interval counts at the larger of its two samples, never negative."""
    assert delivered_kwh(1.0, last_kw, kw, seconds) == pytest.approx(expected)


# -- when to write ------------------------------------------------------------------------


def test_floor_must_rise() -> None:
    """Unknown or lower than wanted: written at once; equal or higher: kept."""
    assert floor_must_rise(None, 40.0)
    assert floor_must_rise(39.0, 40.0)
    assert not floor_must_rise(40.0, 40.0)
    assert not floor_must_rise(41.0, 40.0)


@pytest.mark.parametrize(
    ("soc", "written", "expected"),
    [
        (60.0, 60.0, True),
        (59.0, 60.0, True),
        (61.0, 60.0, False),
        (None, 60.0, False),
        (20.0, 20.0, False),  # min SOC: the rule's own stop, not the floor's
    ],
    ids=["at", "below", "above", "no_soc", "at_min_soc"],
)
def test_floor_reached(soc: float | None, written: float, expected: bool) -> None:
    """The battery rests at a floor above min SOC."""
    assert floor_reached(soc=soc, written=written, min_soc=20.0) is expected


@pytest.mark.parametrize(
    ("wanted", "soc", "minutes", "left", "expected"),
    [
        (59.0, 80.0, 5.0, None, False),  # far from the SOC: costs nothing
        (59.5, 80.0, 60.0, None, False),  # less than a step
        (59.0, 80.0, 4.0, None, False),  # too soon
        (59.0, 63.0, 1.0, None, True),  # the SOC is about to reach it
        (59.0, 63.0, 0.5, None, False),  # written half a minute ago: settle first
        (59.0, 61.0, 0.0, None, True),  # a step from it: at once
        (59.0, 80.0, 60.0, RESERVED_WRITES, False),  # budget kept for the restore
        (59.0, 62.0, 0.0, RESERVED_WRITES, False),
        (59.0, 80.0, 60.0, RESERVED_WRITES + 1, False),  # flash: only when urgent
        (59.0, 62.0, 1.0, RESERVED_WRITES + 1, True),
        (59.0, 62.0, 0.5, RESERVED_WRITES + 1, False),
        (61.0, 80.0, 60.0, None, False),  # a rise is not a lowering
        (59.0, 80.0, None, None, False),  # not written since HA started, far
        (59.0, 63.0, None, None, True),
        (57.0, 80.0, 1.0, None, True),  # three steps high: where HA's death stops it
        (57.0, 80.0, 0.5, None, False),  # written half a minute ago: settle first
        (58.0, 80.0, 60.0, None, False),  # two steps high: a reading's jitter
        (57.0, 80.0, 60.0, RESERVED_WRITES + 1, False),  # flash: only when urgent
    ],
    ids=[
        "far_from_the_soc",
        "less_than_a_step",
        "too_soon",
        "urgent",
        "urgent_settling",
        "a_step_from_it",
        "budget_spent",
        "urgent_budget_spent",
        "flash_not_urgent",
        "flash_urgent",
        "flash_urgent_settling",
        "higher",
        "never_written_far",
        "urgent_never_written",
        "three_steps_high",
        "three_steps_high_settling",
        "two_steps_high",
        "flash_three_steps_high",
    ],
)
def test_lower_floor_worth_writing(
    wanted: float,
    soc: float,
    minutes: float | None,
    left: int | None,
    expected: bool,
) -> None:
    """At least a step, only when the SOC comes near (after a minute), within budget."""
    written_at = None if minutes is None else NOW - timedelta(minutes=minutes)
    writes = FloorWrites(
        written=60.0, written_at=written_at, writes_left=left, only_deadman=True
    )
    assert (
        lower_floor_worth_writing(writes, wanted=wanted, soc=soc, step=1.0, now=NOW)
        is expected
    )


def test_a_floor_behind_a_backstop_is_left_high() -> None:
    """Three steps high far from the SOC: a backstop timer ends it first if HA dies."""
    writes = FloorWrites(written=60.0, written_at=NOW - timedelta(minutes=5))
    assert not lower_floor_worth_writing(
        writes, wanted=57.0, soc=80.0, step=1.0, now=NOW
    )


LOWERED = {
    "a_step_kept": (60.0, 55.0, 1.0, 56.0),
    "no_room_for_a_step": (60.0, 59.0, 1.0, 59.0),
    "two_steps_keep_one": (60.0, 58.0, 1.0, 59.0),
    "coarse_step": (60.0, 50.0, 5.0, 55.0),
}


@pytest.mark.parametrize(
    ("written", "wanted", "step", "expected"),
    list(LOWERED.values()),
    ids=list(LOWERED),
)
def test_a_lowered_floor_keeps_a_step(
    written: float, wanted: float, step: float, expected: float
) -> None:
    """A lowering stays a step above the wanted floor while it still gains a step."""
    assert lowered_floor(written, wanted, step) == expected
    assert lowered_floor(written, wanted, step) >= wanted
