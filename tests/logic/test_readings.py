"""Tests of parsing a source's raw state into a reading or a problem."""

from __future__ import annotations

from datetime import timedelta
import math

from hypothesis import given, strategies as st
import pytest

from custom_components.export_monitor.logic.readings import (
    RawState,
    Reading,
    ReadingProblem,
    parse_last_reset,
    parse_reading,
)
from custom_components.export_monitor.logic.units import (
    VALID_RANGES,
    Quantity,
    accepted_units,
)

from .common import NOW, raw

STALE_AFTER = 30.0

PROBLEMS: dict[str, tuple[RawState | None, Quantity, ReadingProblem]] = {
    "missing": (None, Quantity.PERCENT, ReadingProblem.MISSING),
    "unknown": (raw("unknown", "%"), Quantity.PERCENT, ReadingProblem.UNKNOWN),
    "unknown_any_case": (
        raw(" Unknown ", "%"),
        Quantity.PERCENT,
        ReadingProblem.UNKNOWN,
    ),
    "unavailable": (
        raw("unavailable", "kW"),
        Quantity.POWER,
        ReadingProblem.UNAVAILABLE,
    ),
    "unavailable_upper": (
        raw("UNAVAILABLE", "kWh"),
        Quantity.ENERGY,
        ReadingProblem.UNAVAILABLE,
    ),
    "unknown_before_bad_unit": (
        raw("unknown", "V"),
        Quantity.POWER,
        ReadingProblem.UNKNOWN,
    ),
    "empty": (raw("", "%"), Quantity.PERCENT, ReadingProblem.NOT_NUMERIC),
    "text": (raw("abc", "%"), Quantity.PERCENT, ReadingProblem.NOT_NUMERIC),
    "none_text": (raw("None", "kWh"), Quantity.ENERGY, ReadingProblem.NOT_NUMERIC),
    "number_with_unit": (
        raw("12 kW", "kW"),
        Quantity.POWER,
        ReadingProblem.NOT_NUMERIC,
    ),
    "comma_decimal": (raw("12,5", "kWh"), Quantity.ENERGY, ReadingProblem.NOT_NUMERIC),
    "nan": (raw("nan", "%"), Quantity.PERCENT, ReadingProblem.NOT_FINITE),
    "nan_mixed_case": (raw("NaN", "kWh"), Quantity.ENERGY, ReadingProblem.NOT_FINITE),
    "inf": (raw("inf", "kW"), Quantity.POWER, ReadingProblem.NOT_FINITE),
    "minus_inf": (raw("-inf", "kW"), Quantity.POWER, ReadingProblem.NOT_FINITE),
    "infinity": (raw("Infinity", "kWh"), Quantity.ENERGY, ReadingProblem.NOT_FINITE),
    "overflow": (raw("1e999", "kWh"), Quantity.ENERGY, ReadingProblem.NOT_FINITE),
    "no_unit": (raw("5", None), Quantity.ENERGY, ReadingProblem.BAD_UNIT),
    "empty_unit": (raw("50", ""), Quantity.PERCENT, ReadingProblem.BAD_UNIT),
    "energy_unit_for_power": (raw("5", "kWh"), Quantity.POWER, ReadingProblem.BAD_UNIT),
    "power_unit_for_energy": (raw("5", "kW"), Quantity.ENERGY, ReadingProblem.BAD_UNIT),
    "unknown_unit": (raw("5", "A"), Quantity.POWER, ReadingProblem.BAD_UNIT),
    "bad_unit_before_range": (
        raw("-5", "V"),
        Quantity.PERCENT,
        ReadingProblem.BAD_UNIT,
    ),
    "soc_below_zero": (raw("-1", "%"), Quantity.PERCENT, ReadingProblem.OUT_OF_RANGE),
    "soc_above_100": (raw("100.1", "%"), Quantity.PERCENT, ReadingProblem.OUT_OF_RANGE),
    "energy_above_1000_kwh": (
        raw("1000.001", "kWh"),
        Quantity.ENERGY,
        ReadingProblem.OUT_OF_RANGE,
    ),
    "energy_above_1000_kwh_in_wh": (
        raw("1000001", "Wh"),
        Quantity.ENERGY,
        ReadingProblem.OUT_OF_RANGE,
    ),
    "energy_above_1000_kwh_in_mwh": (
        raw("1.000001", "MWh"),
        Quantity.ENERGY,
        ReadingProblem.OUT_OF_RANGE,
    ),
    "energy_negative": (
        raw("-0.001", "kWh"),
        Quantity.ENERGY,
        ReadingProblem.OUT_OF_RANGE,
    ),
    "power_above_50_kw": (
        raw("50.001", "kW"),
        Quantity.POWER,
        ReadingProblem.OUT_OF_RANGE,
    ),
    "power_below_minus_50_kw": (
        raw("-50.001", "kW"),
        Quantity.POWER,
        ReadingProblem.OUT_OF_RANGE,
    ),
    "power_above_50_kw_in_w": (
        raw("50001", "W"),
        Quantity.POWER,
        ReadingProblem.OUT_OF_RANGE,
    ),
    "power_below_minus_50_kw_in_w": (
        raw("-50001", "W"),
        Quantity.POWER,
        ReadingProblem.OUT_OF_RANGE,
    ),
    "out_of_range_before_stale": (
        raw("101", "%", age=300),
        Quantity.PERCENT,
        ReadingProblem.OUT_OF_RANGE,
    ),
    "not_numeric_before_stale": (
        raw("abc", "%", age=300),
        Quantity.PERCENT,
        ReadingProblem.NOT_NUMERIC,
    ),
}


@pytest.mark.parametrize(
    ("state", "quantity", "problem"), list(PROBLEMS.values()), ids=list(PROBLEMS)
)
def test_unusable_states(
    state: RawState | None, quantity: Quantity, problem: ReadingProblem
) -> None:
    """Every unusable state yields no value and the reason it is unusable."""
    reading = parse_reading(state, quantity, now=NOW, stale_after_seconds=STALE_AFTER)
    assert (reading.value, reading.problem, reading.usable) == (None, problem, False)


VALUES: dict[str, tuple[RawState, Quantity, float]] = {
    "soc_zero": (raw("0", "%"), Quantity.PERCENT, 0.0),
    "soc_hundred": (raw("100", "%"), Quantity.PERCENT, 100.0),
    "soc_padded_state": (raw(" 42.5 ", "%"), Quantity.PERCENT, 42.5),
    "soc_padded_unit": (raw("42.5", " % "), Quantity.PERCENT, 42.5),
    "energy_zero": (raw("0", "kWh"), Quantity.ENERGY, 0.0),
    "energy_negative_zero": (raw("-0", "kWh"), Quantity.ENERGY, 0.0),
    "energy_1000_kwh": (raw("1000", "kWh"), Quantity.ENERGY, 1000.0),
    "energy_1000_kwh_in_wh": (raw("1000000", "Wh"), Quantity.ENERGY, 1000.0),
    "energy_1000_kwh_in_mwh": (raw("1", "MWh"), Quantity.ENERGY, 1000.0),
    "energy_wh": (raw("2500", "Wh"), Quantity.ENERGY, 2.5),
    "energy_mwh": (raw("0.0125", "MWh"), Quantity.ENERGY, 12.5),
    "energy_exponent": (raw("1.5e3", "Wh"), Quantity.ENERGY, 1.5),
    "power_50_kw": (raw("50", "kW"), Quantity.POWER, 50.0),
    "power_minus_50_kw": (raw("-50", "kW"), Quantity.POWER, -50.0),
    "power_minus_50_kw_in_w": (raw("-50000", "W"), Quantity.POWER, -50.0),
    "power_w": (raw("1500", "W"), Quantity.POWER, 1.5),
    "power_mw": (raw("0.002", "MW"), Quantity.POWER, 2.0),
}


@pytest.mark.parametrize(
    ("state", "quantity", "value"), list(VALUES.values()), ids=list(VALUES)
)
def test_usable_values_are_canonical(
    state: RawState, quantity: Quantity, value: float
) -> None:
    """A usable state is converted to %, kW or kWh; range boundaries are inclusive."""
    reading = parse_reading(state, quantity, now=NOW, stale_after_seconds=STALE_AFTER)
    assert (reading.value, reading.problem, reading.usable) == pytest.approx(
        (value, None, True)
    )


AGES: dict[str, tuple[float, float, ReadingProblem | None]] = {
    "just_reported": (0.0, 0.0, None),
    "fresh": (12.5, 12.5, None),
    "exactly_at_threshold": (30.0, 30.0, None),
    "just_over_threshold": (30.001, 30.001, ReadingProblem.STALE),
    "long_over_threshold": (3600.0, 3600.0, ReadingProblem.STALE),
    "reported_in_the_future": (-5.0, 0.0, None),
}


@pytest.mark.parametrize(
    ("age", "expected_age", "problem"), list(AGES.values()), ids=list(AGES)
)
def test_staleness(
    age: float, expected_age: float, problem: ReadingProblem | None
) -> None:
    """A reading older than the threshold is stale but keeps its value for display."""
    state = raw("55", "%", age=age)
    reading = parse_reading(
        state, Quantity.PERCENT, now=NOW, stale_after_seconds=STALE_AFTER
    )
    assert (
        reading.value,
        reading.problem,
        reading.reported_at,
        reading.age_seconds,
    ) == pytest.approx((55.0, problem, NOW - timedelta(seconds=age), expected_age))


def test_faulty_reading_keeps_report_time_and_age() -> None:
    """An unusable state still reports when it was seen and how old it is."""
    reading = parse_reading(
        raw("unavailable", "%", age=7),
        Quantity.PERCENT,
        now=NOW,
        stale_after_seconds=STALE_AFTER,
    )
    assert (reading.reported_at, reading.age_seconds) == (
        NOW - timedelta(seconds=7),
        7.0,
    )


USABLE: dict[str, tuple[Reading, bool]] = {
    "value_without_problem": (Reading(value=1.0, problem=None), True),
    "zero_is_a_value": (Reading(value=0.0, problem=None), True),
    "no_value": (Reading(value=None, problem=None), False),
    "held_value_with_problem": (
        Reading(value=1.0, problem=ReadingProblem.STALE),
        False,
    ),
}


@pytest.mark.parametrize(("reading", "usable"), list(USABLE.values()), ids=list(USABLE))
def test_usable(reading: Reading, usable: bool) -> None:
    """Only a value without a problem may be used for decisions."""
    assert reading.usable is usable


quantities = st.sampled_from(Quantity)


@given(
    state=st.text(),
    unit=st.none() | st.text(),
    quantity=quantities,
    age=st.floats(-1e6, 1e6),
)
def test_parse_never_raises_and_usable_is_sane(
    state: str, unit: str | None, quantity: Quantity, age: float
) -> None:
    """Arbitrary text never raises; a usable reading is finite and in range."""
    reading = parse_reading(
        raw(state, unit, age=age), quantity, now=NOW, stale_after_seconds=STALE_AFTER
    )
    low, high = VALID_RANGES[quantity]
    assert not reading.usable or (
        reading.value is not None
        and math.isfinite(reading.value)
        and low <= reading.value <= high
    )


SCALES = {
    "%": 1.0,
    "W": 0.001,
    "kW": 1.0,
    "MW": 1000.0,
    "Wh": 0.001,
    "kWh": 1.0,
    "MWh": 1000.0,
}


@st.composite
def numeric_states(draw: st.DrawFn) -> tuple[float, str, Quantity]:
    """Draw a number of any size with an accepted unit."""
    quantity = draw(quantities)
    unit = draw(st.sampled_from(accepted_units(quantity)))
    return draw(st.floats()), unit, quantity


@given(numeric_states(), st.floats(0, 1e5))
def test_numbers_with_accepted_units(
    case: tuple[float, str, Quantity], age: float
) -> None:
    """A number with an accepted unit is usable exactly when in range and fresh."""
    number, unit, quantity = case
    reading = parse_reading(
        raw(repr(number), unit, age=age),
        quantity,
        now=NOW,
        stale_after_seconds=STALE_AFTER,
    )
    low, high = VALID_RANGES[quantity]
    canonical = number * SCALES[unit]
    assert reading.usable == (low <= canonical <= high and age <= STALE_AFTER)


@given(
    quantity_value=quantities.flatmap(
        lambda q: st.tuples(st.just(q), st.floats(*VALID_RANGES[q]))
    )
)
def test_in_range_canonical_values_round_trip(
    quantity_value: tuple[Quantity, float],
) -> None:
    """A fresh in-range value in the canonical unit is read back unchanged."""
    quantity, value = quantity_value
    canonical = {Quantity.PERCENT: "%", Quantity.POWER: "kW", Quantity.ENERGY: "kWh"}
    reading = parse_reading(
        raw(repr(value), canonical[quantity]),
        quantity,
        now=NOW,
        stale_after_seconds=STALE_AFTER,
    )
    assert (reading.value, reading.problem) == (value, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("yesterday", None),
        ("2026-06-15T00:00:00", None),
        ("2026-06-15T00:00:00+01:00", "2026-06-15T00:00:00+01:00"),
    ],
    ids=["absent", "not_a_time", "naive", "aware"],
)
def test_parse_last_reset(text: str | None, expected: str | None) -> None:
    """Only an aware ISO time is taken as a counter's last reset."""
    parsed = parse_last_reset(text)
    assert (None if parsed is None else parsed.isoformat()) == expected
