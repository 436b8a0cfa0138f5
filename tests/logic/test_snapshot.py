"""Tests of the snapshot: readings, faults, allowance, plan and start blockers."""

from __future__ import annotations

from dataclasses import astuple
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st
import pytest

from custom_components.export_monitor.logic.errors import ErrorState
from custom_components.export_monitor.logic.plan import DischargePlan
from custom_components.export_monitor.logic.readings import RawState, ReadingProblem
from custom_components.export_monitor.logic.settings import (
    MonitorSettings,
    settings_from_options,
)
from custom_components.export_monitor.logic.snapshot import (
    REQUIRED_SOURCES,
    Snapshot,
    Source,
    battery_discharge_kw,
    build_snapshot,
    export_power_kw,
    read_sources,
    seconds_since_local_midnight,
    start_blockers,
)

from .common import NOW, raw

SOC, PV, EXPORT = Source.SOC, Source.PV_TODAY, Source.EXPORTED_TODAY
GRID, BATTERY, FORECAST = Source.GRID_POWER, Source.BATTERY_POWER, Source.FORECAST_TODAY

type States = dict[Source, RawState | None]


def _settings(**options: Any) -> MonitorSettings:
    """Return contract defaults (margin 0.5, min SOC 20, 3 kW, 10 kWh) with overrides."""
    # A PV peak no site has: these tests draw any counter value; plausibility has its
    # own tests (tests/logic/test_counters.py).
    return settings_from_options({"pv_peak_power_kw": 1000.0, **options})


def _states(**overrides: RawState | None) -> States:
    """Return healthy required sources (SOC 60 %, PV 12 kWh, exported 3 kWh)."""
    states: States = {
        SOC: raw("60", "%"),
        PV: raw("12", "kWh"),
        EXPORT: raw("3", "kWh"),
    }
    return {**states, **{Source(key): value for key, value in overrides.items()}}


def _snapshot(states: States, **options: Any) -> Snapshot:
    """Build a snapshot at NOW with default settings and the given overrides."""
    return build_snapshot(states, _settings(**options), NOW)


def test_healthy_snapshot() -> None:
    """Healthy sources give a safe snapshot with allowance, headroom and plan."""
    snapshot = _snapshot(_states())
    assert snapshot.plan is not None
    assert (
        snapshot.safe,
        snapshot.data_fault,
        snapshot.is_stale,
        snapshot.allowance_kwh,
        snapshot.headroom_kwh,
    ) == pytest.approx((True, ErrorState.NONE, False, 11.5, 8.5))
    assert astuple(snapshot.plan) == pytest.approx(
        astuple(
            DischargePlan(
                power_kw=3.0,
                cutoff_soc=20.0,
                available_kwh=4.0,
                energy_kwh=4.0,
                duration_minutes=80.0,
            )
        )
    )


def test_values_of_a_healthy_snapshot() -> None:
    """Each required source's value is available in canonical units."""
    snapshot = _snapshot(_states())
    assert (snapshot.value(SOC), snapshot.value(PV), snapshot.value(EXPORT)) == (
        60.0,
        12.0,
        3.0,
    )


def test_plan_limited_by_headroom() -> None:
    """With little headroom the plan exports only the headroom."""
    snapshot = _snapshot(_states(exported_today=raw("10.5", "kWh")))
    assert snapshot.plan is not None
    assert (snapshot.headroom_kwh, snapshot.plan.energy_kwh) == pytest.approx(
        (1.0, 1.0)
    )


# states -> fault, allowance (needs PV), headroom (needs PV and exported); never a plan.
FAULTS: dict[str, tuple[States, ErrorState, float | None, float | None]] = {
    "soc_unknown": (
        _states(soc=raw("unknown", "%")),
        ErrorState.SOC_READ_FAILED,
        11.5,
        8.5,
    ),
    "soc_unavailable": (
        _states(soc=raw("unavailable", "%")),
        ErrorState.SOC_READ_FAILED,
        11.5,
        8.5,
    ),
    "soc_not_numeric": (
        _states(soc=raw("abc", "%")),
        ErrorState.SOC_READ_FAILED,
        11.5,
        8.5,
    ),
    "soc_nan": (_states(soc=raw("nan", "%")), ErrorState.SOC_READ_FAILED, 11.5, 8.5),
    "soc_out_of_range": (
        _states(soc=raw("100.1", "%")),
        ErrorState.SOC_READ_FAILED,
        11.5,
        8.5,
    ),
    "soc_bad_unit": (
        _states(soc=raw("60", "kWh")),
        ErrorState.SOC_READ_FAILED,
        11.5,
        8.5,
    ),
    "soc_missing": (_states(soc=None), ErrorState.SOURCE_MISSING, 11.5, 8.5),
    "soc_stale": (
        _states(soc=raw("60", "%", age=31)),
        ErrorState.STALE_DATA,
        11.5,
        8.5,
    ),
    "pv_unknown": (
        _states(pv_today=raw("unknown", "kWh")),
        ErrorState.PV_READ_FAILED,
        None,
        None,
    ),
    "pv_negative": (
        _states(pv_today=raw("-1", "kWh")),
        ErrorState.PV_READ_FAILED,
        None,
        None,
    ),
    "pv_power_unit": (
        _states(pv_today=raw("12", "kW")),
        ErrorState.PV_READ_FAILED,
        None,
        None,
    ),
    "pv_inf": (
        _states(pv_today=raw("inf", "kWh")),
        ErrorState.PV_READ_FAILED,
        None,
        None,
    ),
    "pv_missing": (_states(pv_today=None), ErrorState.SOURCE_MISSING, None, None),
    "pv_stale": (
        _states(pv_today=raw("12", "kWh", age=31)),
        ErrorState.STALE_DATA,
        None,
        None,
    ),
    "export_not_numeric": (
        _states(exported_today=raw("abc", "kWh")),
        ErrorState.EXPORT_READ_FAILED,
        11.5,
        None,
    ),
    "export_unavailable": (
        _states(exported_today=raw("unavailable", "kWh")),
        ErrorState.EXPORT_READ_FAILED,
        11.5,
        None,
    ),
    "export_no_unit": (
        _states(exported_today=raw("3", None)),
        ErrorState.EXPORT_READ_FAILED,
        11.5,
        None,
    ),
    "export_above_range": (
        _states(exported_today=raw("1000.001", "kWh")),
        ErrorState.EXPORT_READ_FAILED,
        11.5,
        None,
    ),
    "export_missing": (
        _states(exported_today=None),
        ErrorState.SOURCE_MISSING,
        11.5,
        None,
    ),
    "export_stale": (
        _states(exported_today=raw("3", "kWh", age=31)),
        ErrorState.STALE_DATA,
        11.5,
        None,
    ),
    "export_not_configured": (
        {SOC: raw("60", "%"), PV: raw("12", "kWh")},
        ErrorState.SOURCE_MISSING,
        11.5,
        None,
    ),
    "all_unknown": (
        {s: raw("unknown", None) for s in REQUIRED_SOURCES},
        ErrorState.NO_DATA,
        None,
        None,
    ),
    "all_unavailable": (
        {s: raw("unavailable", None) for s in REQUIRED_SOURCES},
        ErrorState.NO_DATA,
        None,
        None,
    ),
    "all_unknown_or_unavailable": (
        _states(
            soc=raw("unavailable", "%"),
            pv_today=raw("unknown", "kWh"),
            exported_today=raw("unavailable", "kWh"),
        ),
        ErrorState.NO_DATA,
        None,
        None,
    ),
    "all_missing": (
        dict.fromkeys(REQUIRED_SOURCES),
        ErrorState.SOURCE_MISSING,
        None,
        None,
    ),
    "nothing_configured": ({}, ErrorState.SOURCE_MISSING, None, None),
    "soc_before_pv": (
        _states(soc=raw("abc", "%"), pv_today=raw("12", "kWh", age=31)),
        ErrorState.SOC_READ_FAILED,
        None,
        None,
    ),
    "pv_before_export": (
        _states(pv_today=raw("abc", "kWh"), exported_today=None),
        ErrorState.PV_READ_FAILED,
        None,
        None,
    ),
    "two_unknown_one_stale": (
        _states(
            soc=raw("unknown", "%"),
            pv_today=raw("unknown", "kWh"),
            exported_today=raw("3", "kWh", age=31),
        ),
        ErrorState.SOC_READ_FAILED,
        None,
        None,
    ),
}


@pytest.mark.parametrize(
    ("states", "fault", "allowance", "headroom"),
    list(FAULTS.values()),
    ids=list(FAULTS),
)
def test_faulty_required_source(
    states: States, fault: ErrorState, allowance: float | None, headroom: float | None
) -> None:
    """A bad required source makes the snapshot unsafe: no plan, and no figure using it."""
    snapshot = _snapshot(states)
    assert (
        snapshot.safe,
        snapshot.data_fault,
        snapshot.allowance_kwh,
        snapshot.headroom_kwh,
        snapshot.plan,
    ) == pytest.approx((False, fault, allowance, headroom, None))


STALENESS: dict[str, tuple[States, bool]] = {
    "fresh": (_states(), False),
    "at_threshold": (_states(soc=raw("60", "%", age=30)), False),
    "soc_stale": (_states(soc=raw("60", "%", age=30.5)), True),
    "stale_behind_other_fault": (
        _states(soc=raw("abc", "%"), exported_today=raw("3", "kWh", age=31)),
        True,
    ),
    "optional_stale": (_states(grid_power=raw("1", "kW", age=300)), False),
    "missing_is_not_stale": (_states(soc=None), False),
}


@pytest.mark.parametrize(
    ("states", "is_stale"), list(STALENESS.values()), ids=list(STALENESS)
)
def test_is_stale(states: States, is_stale: bool) -> None:
    """The snapshot is stale when any required source is stale, whatever else is wrong."""
    assert _snapshot(states).is_stale is is_stale


OPTIONAL_BAD: dict[str, tuple[Source, RawState | None]] = {
    "grid_not_numeric": (GRID, raw("abc", "kW")),
    "grid_missing": (GRID, None),
    "grid_stale": (GRID, raw("1", "kW", age=300)),
    "grid_bad_unit": (GRID, raw("1", "kWh")),
    "battery_unavailable": (BATTERY, raw("unavailable", "W")),
    "battery_out_of_range": (BATTERY, raw("60", "kW")),
    "forecast_nan": (FORECAST, raw("nan", "kWh")),
    "forecast_bad_unit": (FORECAST, raw("20", "W")),
}


@pytest.mark.parametrize(
    ("source", "state"), list(OPTIONAL_BAD.values()), ids=list(OPTIONAL_BAD)
)
def test_bad_optional_source_stays_safe(source: Source, state: RawState | None) -> None:
    """A bad optional source has no value but does not make the snapshot unsafe."""
    snapshot = _snapshot({**_states(), source: state})
    assert (
        snapshot.safe,
        snapshot.value(source),
        snapshot.allowance_kwh,
        snapshot.plan is not None,
    ) == pytest.approx((True, None, 11.5, True))


UNITS: dict[str, tuple[States, float, float]] = {
    "export_in_wh": (_states(exported_today=raw("3000", "Wh")), 12.0, 3.0),
    "pv_in_mwh": (_states(pv_today=raw("0.012", "MWh")), 12.0, 3.0),
    "pv_in_wh": (_states(pv_today=raw("12000", "Wh")), 12.0, 3.0),
    "export_in_mwh": (_states(exported_today=raw("0.003", "MWh")), 12.0, 3.0),
}


@pytest.mark.parametrize(
    ("states", "pv", "exported"), list(UNITS.values()), ids=list(UNITS)
)
def test_energy_units_converted(states: States, pv: float, exported: float) -> None:
    """Energy in Wh or MWh is converted to kWh before the rule is applied."""
    snapshot = _snapshot(states)
    assert (
        snapshot.value(PV),
        snapshot.value(EXPORT),
        snapshot.allowance_kwh,
        snapshot.headroom_kwh,
    ) == pytest.approx((pv, exported, 11.5, 8.5))


EXPORT_POWER: dict[str, tuple[RawState | None, bool, float | None]] = {
    "negative_convention_exporting_w": (raw("-1500", "W"), True, 1.5),
    "negative_convention_importing_w": (raw("1500", "W"), True, -1.5),
    "negative_convention_exporting_kw": (raw("-2.5", "kW"), True, 2.5),
    "positive_convention_exporting_kw": (raw("1.5", "kW"), False, 1.5),
    "positive_convention_importing_w": (raw("-1500", "W"), False, -1.5),
    "unavailable": (raw("unavailable", "W"), True, None),
    "stale": (raw("-1500", "W", age=31), True, None),
    "missing": (None, True, None),
}


@pytest.mark.parametrize(
    ("state", "export_negative", "expected"),
    list(EXPORT_POWER.values()),
    ids=list(EXPORT_POWER),
)
def test_export_power_kw(
    state: RawState | None, export_negative: bool, expected: float | None
) -> None:
    """Grid power is turned into kW, positive while exporting, for either convention."""
    settings = _settings(grid_power_export_negative=export_negative)
    snapshot = build_snapshot(_states(grid_power=state), settings, NOW)
    assert export_power_kw(snapshot, settings) == pytest.approx(expected)


def test_export_power_not_configured() -> None:
    """Without a grid power source there is no export power."""
    settings = _settings()
    assert export_power_kw(build_snapshot(_states(), settings, NOW), settings) is None


DISCHARGE_POWER: dict[str, tuple[RawState | None, bool, float | None]] = {
    "positive_convention_discharging_w": (raw("2000", "W"), True, 2.0),
    "positive_convention_charging_kw": (raw("-2", "kW"), True, -2.0),
    "negative_convention_discharging_w": (raw("-2000", "W"), False, 2.0),
    "negative_convention_charging_kw": (raw("2", "kW"), False, -2.0),
    "not_numeric": (raw("abc", "kW"), True, None),
    "missing": (None, True, None),
}


@pytest.mark.parametrize(
    ("state", "discharge_positive", "expected"),
    list(DISCHARGE_POWER.values()),
    ids=list(DISCHARGE_POWER),
)
def test_battery_discharge_kw(
    state: RawState | None, discharge_positive: bool, expected: float | None
) -> None:
    """Battery power is turned into kW, positive while discharging, either convention."""
    settings = _settings(battery_power_discharge_positive=discharge_positive)
    snapshot = build_snapshot(_states(battery_power=state), settings, NOW)
    assert battery_discharge_kw(snapshot, settings) == pytest.approx(expected)


AGES: dict[str, tuple[States, float | None]] = {
    "all_now": (_states(), 0.0),
    "oldest_required": (
        _states(
            soc=raw("60", "%", age=5),
            pv_today=raw("12", "kWh", age=12),
            exported_today=raw("3", "kWh", age=3),
        ),
        12.0,
    ),
    "stale_counts": (_states(exported_today=raw("3", "kWh", age=90)), 90.0),
    "faulty_counts": (_states(soc=raw("abc", "%", age=20)), 20.0),
    "optional_ignored": (
        _states(grid_power=raw("1", "kW", age=500), soc=raw("60", "%", age=4)),
        4.0,
    ),
    "missing_ignored": (_states(soc=None, pv_today=raw("12", "kWh", age=7)), 7.0),
    "all_missing": (dict.fromkeys(REQUIRED_SOURCES), None),
}


@pytest.mark.parametrize(("states", "age"), list(AGES.values()), ids=list(AGES))
def test_data_age_is_oldest_required(states: States, age: float | None) -> None:
    """The data age is the oldest required report; optional sources do not count."""
    assert _snapshot(states).data_age_seconds == pytest.approx(age)


CREDIT: dict[str, tuple[RawState | None, bool, float]] = {
    "credit_off": (raw("20", "kWh"), False, 11.5),
    "credit_on_forecast_above_pv": (raw("20", "kWh"), True, 15.5),
    "credit_on_forecast_below_pv": (raw("10", "kWh"), True, 11.5),
    "credit_on_forecast_unusable": (raw("unknown", "kWh"), True, 11.5),
    "credit_on_no_forecast": (None, True, 11.5),
}


@pytest.mark.parametrize(
    ("forecast", "credit", "allowance"), list(CREDIT.values()), ids=list(CREDIT)
)
def test_forecast_credit(
    forecast: RawState | None, credit: bool, allowance: float
) -> None:
    """The forecast raises the allowance only when opted in and usable."""
    snapshot = _snapshot(_states(forecast_today=forecast), forecast_credit=credit)
    assert snapshot.allowance_kwh == pytest.approx(allowance)


def test_daily_cap_applies() -> None:
    """A daily cap lowers the allowance to cap minus margin."""
    snapshot = _snapshot(_states(), daily_export_cap_kwh=8.0)
    assert (snapshot.allowance_kwh, snapshot.headroom_kwh) == pytest.approx((7.5, 4.5))


def test_counter_that_went_backwards_is_held() -> None:
    """A mid-day drop of exported energy holds the last value and blocks the data."""
    first = _snapshot(_states(exported_today=raw("3", "kWh")))
    second = build_snapshot(
        _states(exported_today=raw("1", "kWh")), _settings(), NOW, first.counters
    )
    assert (
        second.data_fault,
        second.value(EXPORT),
        second.shown_value(EXPORT),
        second.readings[EXPORT].problem,
        second.plan,
    ) == (
        ErrorState.COUNTER_WENT_BACKWARDS,
        None,
        3.0,
        ReadingProblem.WENT_BACKWARDS,
        None,
    )


def test_counter_not_reset_after_midnight() -> None:
    """Yesterday's PV total seen after local midnight is not taken for today's."""
    evening = build_snapshot(_states(), _settings(), NOW)
    morning = NOW + timedelta(hours=12, minutes=1)
    states = {
        SOC: RawState(state="60", unit="%", reported_at=morning),
        PV: RawState(state="12", unit="kWh", reported_at=morning),
        EXPORT: RawState(state="0", unit="kWh", reported_at=morning),
    }
    snapshot = build_snapshot(states, _settings(), morning, evening.counters)
    assert (snapshot.data_fault, snapshot.allowance_kwh) == (
        ErrorState.COUNTER_NOT_RESET,
        None,
    )


def test_counters_are_tracked_for_daily_sources() -> None:
    """Only the two daily counters get a track, starting from their first value."""
    counters = _snapshot(_states(grid_power=raw("1", "kW"))).counters
    assert (
        set(counters),
        counters[PV].last_good_kwh,
        counters[EXPORT].last_good_kwh,
    ) == (
        {PV, EXPORT},
        12.0,
        3.0,
    )


SHOWN: dict[str, tuple[States, Source, float | None, float | None]] = {
    "usable": (_states(), SOC, 60.0, 60.0),
    "stale_shown_not_used": (_states(soc=raw("55", "%", age=90)), SOC, 55.0, None),
    "faulty": (_states(soc=raw("abc", "%")), SOC, None, None),
    "not_configured": (_states(), GRID, None, None),
}


@pytest.mark.parametrize(
    ("states", "source", "shown", "value"), list(SHOWN.values()), ids=list(SHOWN)
)
def test_shown_value(
    states: States, source: Source, shown: float | None, value: float | None
) -> None:
    """Display shows any parsed value, including a stale one; decisions do not use it."""
    snapshot = _snapshot(states)
    assert (snapshot.shown_value(source), snapshot.value(source)) == (shown, value)


BLOCKERS: dict[str, tuple[States, dict[str, Any], tuple[ErrorState, ...]]] = {
    "none": (_states(), {}, ()),
    "soc_just_above_min": (_states(soc=raw("20.1", "%")), {}, ()),
    "soc_at_min": (_states(soc=raw("20", "%")), {}, (ErrorState.SOC_AT_MIN,)),
    "soc_below_min": (_states(soc=raw("10", "%")), {}, (ErrorState.SOC_AT_MIN,)),
    "allowance_used": (
        _states(exported_today=raw("11.5", "kWh")),
        {},
        (ErrorState.NO_HEADROOM,),
    ),
    "allowance_breached": (
        _states(exported_today=raw("15", "kWh")),
        {},
        (ErrorState.NO_HEADROOM,),
    ),
    "margin_above_pv": (
        _states(pv_today=raw("0.3", "kWh"), exported_today=raw("0", "kWh")),
        {},
        (ErrorState.NO_HEADROOM,),
    ),
    "cap_reached": (
        _states(),
        {"daily_export_cap_kwh": 3.5},
        (ErrorState.NO_HEADROOM,),
    ),
    "soc_at_min_and_no_headroom": (
        _states(soc=raw("15", "%"), exported_today=raw("12", "kWh")),
        {},
        (ErrorState.SOC_AT_MIN, ErrorState.NO_HEADROOM),
    ),
    "data_fault_alone": (
        _states(soc=raw("abc", "%"), exported_today=raw("12", "kWh")),
        {},
        (ErrorState.SOC_READ_FAILED,),
    ),
    "stale_alone": (
        _states(soc=raw("10", "%", age=60)),
        {},
        (ErrorState.STALE_DATA,),
    ),
    "no_data": (
        {s: raw("unknown", None) for s in REQUIRED_SOURCES},
        {},
        (ErrorState.NO_DATA,),
    ),
}


@pytest.mark.parametrize(
    ("states", "options", "blockers"), list(BLOCKERS.values()), ids=list(BLOCKERS)
)
def test_start_blockers(
    states: States, options: dict[str, Any], blockers: tuple[ErrorState, ...]
) -> None:
    """A data fault blocks alone; otherwise SOC at min and no headroom block."""
    settings = _settings(**options)
    snapshot = build_snapshot(states, settings, NOW)
    assert start_blockers(snapshot, settings) == blockers


# Hypothesis: raw states for the three required sources, good or bad.
STALE_AFTER = 30.0
GOOD_NUMBERS = {
    SOC: (st.floats(0, 100), ("%",)),
    PV: (st.floats(0, 999), ("kWh", "Wh", "MWh")),
    EXPORT: (st.floats(0, 999), ("kWh", "Wh", "MWh")),
}
TO_UNIT = {"%": 1.0, "kWh": 1.0, "Wh": 1000.0, "MWh": 0.001}
OUT_OF_RANGE = {
    SOC: st.floats(100.001, 1e6) | st.floats(-1e6, -0.001),
    PV: st.floats(1000.001, 1e6) | st.floats(-1e6, -0.001),
    EXPORT: st.floats(1000.001, 1e6) | st.floats(-1e6, -0.001),
}
fresh_ages = st.floats(-60, STALE_AFTER)


@st.composite
def good_state(draw: st.DrawFn, source: Source) -> RawState:
    """Draw a usable, fresh state of a required source in any accepted unit."""
    numbers, units = GOOD_NUMBERS[source]
    unit = draw(st.sampled_from(units))
    value = draw(numbers) * TO_UNIT[unit]
    return raw(repr(value), unit, draw(fresh_ages))


@st.composite
def bad_state(draw: st.DrawFn, source: Source) -> RawState | None:
    """Draw a missing, unparseable, wrongly unitted, out-of-range or stale state."""
    good = draw(good_state(source))
    _, units = GOOD_NUMBERS[source]
    state: RawState | None = draw(
        st.one_of(
            st.none(),
            st.builds(
                raw,
                st.sampled_from(["unknown", "unavailable", "nan", "inf", "-inf", ""]),
                st.just(good.unit),
            ),
            st.builds(raw, st.text("abcdefghijklmnopqrstuvwxyz ,"), st.just(good.unit)),
            st.builds(
                raw,
                st.just(good.state),
                st.none() | st.text().filter(lambda u: u.strip() not in units),
            ),
            st.builds(raw, OUT_OF_RANGE[source].map(repr), st.just(units[0])),
            st.builds(
                raw,
                st.just(good.state),
                st.just(good.unit),
                st.floats(STALE_AFTER + 0.001, 1e6),
            ),
        )
    )
    return state


@st.composite
def states_with_a_bad_one(draw: st.DrawFn) -> tuple[States, set[Source]]:
    """Draw required states of which at least one is bad; say which are bad."""
    bad = {draw(st.sampled_from(REQUIRED_SOURCES))}
    bad |= draw(st.sets(st.sampled_from(REQUIRED_SOURCES)))
    states: States = {
        s: draw(bad_state(s)) if s in bad else draw(good_state(s))
        for s in REQUIRED_SOURCES
    }
    return states, bad


@given(states_with_a_bad_one())
def test_any_bad_required_source_is_unsafe(case: tuple[States, set[Source]]) -> None:
    """Any invalid or stale required reading: unsafe, no plan, blocked by the fault."""
    states, bad = case
    snapshot = _snapshot(states)
    assert (
        snapshot.safe,
        snapshot.plan,
        start_blockers(snapshot, _settings()),
        snapshot.allowance_kwh is None,
        snapshot.headroom_kwh is None,
    ) == (
        False,
        None,
        (snapshot.data_fault,),
        PV in bad,
        bool(bad & {PV, EXPORT}),
    )


all_good = st.fixed_dictionaries({s: good_state(s) for s in REQUIRED_SOURCES})


@given(all_good, st.floats(0, 5), st.none() | st.floats(0.1, 1000))
def test_valid_fresh_readings_give_a_plan_within_headroom(
    states: States, margin: float, cap: float | None
) -> None:
    """Valid fresh readings always give a plan that stays within the headroom."""
    snapshot = _snapshot(states, safety_margin_kwh=margin, daily_export_cap_kwh=cap)
    assert snapshot.plan is not None
    assert snapshot.headroom_kwh is not None
    assert (
        snapshot.safe,
        snapshot.plan.energy_kwh <= snapshot.headroom_kwh,
        snapshot.plan.cutoff_soc,
    ) == (True, True, 20.0)


FORECAST_AGES = {
    "reported_this_morning": (3 * 3600.0, True),
    "reported_yesterday": (13 * 3600.0, False),
}


@pytest.mark.parametrize(
    ("age", "usable"), list(FORECAST_AGES.values()), ids=list(FORECAST_AGES)
)
def test_forecast_need_only_be_from_today(age: float, usable: bool) -> None:
    """An hourly forecast is not stale after 30 s; one from yesterday is not used."""
    readings, _ = read_sources(
        {Source.FORECAST_TODAY: raw("20", "kWh", age=age)},
        settings_from_options({}),
        NOW,
        {},
    )
    assert readings[Source.FORECAST_TODAY].usable is usable


def test_seconds_since_local_midnight_counts_real_time() -> None:
    """On a spring-forward day the local 03:00 is only two real hours after midnight."""
    london = ZoneInfo("Europe/London")
    moment = datetime(2026, 3, 29, 3, 0, tzinfo=london)
    assert seconds_since_local_midnight(moment) == 2 * 3600.0
