"""Fuzzing: any source state, unit or service field; no crash, no discharge beyond the rule."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
import math
from typing import Any, Final
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from hypothesis import HealthCheck, event, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
import voluptuous as vol

from custom_components.export_monitor import stopper as stopper_module
from custom_components.export_monitor.const import (
    CONF_DAILY_EXPORT_CAP_KWH,
    CONF_FORECAST_CONFIDENCE,
    CONF_FORECAST_CREDIT,
    CONF_MIN_SOC,
    CONF_SAFETY_MARGIN_KWH,
    CONF_STALE_AFTER_SECONDS,
    DOMAIN,
)
from custom_components.export_monitor.logic.readings import RawState, parse_reading
from custom_components.export_monitor.logic.settings import settings_from_options
from custom_components.export_monitor.logic.snapshot import (
    QUANTITIES,
    REQUIRED_SOURCES,
    Snapshot,
    Source,
    build_snapshot,
    start_blockers,
)
from custom_components.export_monitor.logic.units import VALID_RANGES
from tests.conftest import (
    BATTERY,
    ENABLE,
    ENERGY_ATTRS,
    EXPORT,
    GRID,
    LOADED_HEALTH_CHECKS,
    POWER_ATTRS,
    PV,
    SOC,
    SOC_ATTRS,
    async_setup_inverter,
    set_sources,
)
from tests.resilience import ERROR, HEADROOM, STATUS, async_settle, state_of

# Noon, local time: daily counters are judged against the time since midnight.
pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00", tick=True)


NOW: Final = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
UNITS: Final = (None, "", "%", "W", "kW", "MW", "Wh", "kWh", "MWh", "°C", "kwh", "V")
# Every error state the sensor may show (its enum options).
ERROR_STATES: Final = frozenset(
    {
        "none",
        "no_data",
        "soc_read_failed",
        "pv_read_failed",
        "export_read_failed",
        "stale_data",
        "counter_went_backwards",
        "counter_not_reset",
        "implausible_counter",
        "source_missing",
        "soc_at_min",
        "no_headroom",
        "circuit_breaker_open",
        "outside_window",
        "discharge_power_set_failed",
        "cutoff_soc_set_failed",
        "duration_set_failed",
        "discharge_start_failed",
        "discharge_stop_failed",
        "inverter_not_obeying",
    }
)

# What a start may answer: started, rejected by the schema, or a translated reason.
OUTCOMES: Final = frozenset(
    {"ok", "invalid", "discharge_power_set_failed"}
    | {f"start_blocked_{error}" for error in ERROR_STATES}
)

state_texts = st.one_of(
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**9), 10**9).map(str),
    st.floats(-10, 1200).map(lambda value: f"{value:.3f}"),
    st.sampled_from(["unknown", "unavailable", "", " 5 ", "1e309", "-0", "NaN", "inf"]),
)
units = st.one_of(st.sampled_from(UNITS), st.text(max_size=6))


def mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> Any:
    """Return a strategy drawing `usual` nine times in ten, else `odd`."""
    return st.integers(0, 9).flatmap(lambda pick: odd if pick == 0 else usual)


def field(low: float, high: float) -> Any:
    """Return a service field: absent, in range, or anything at all."""
    return st.one_of(st.none(), mostly(st.floats(low, high), junk_fields))


def source_state(low: float, high: float) -> Any:
    """Return a source state: mostly a plausible number, else any text."""
    return mostly(st.floats(low, high).map(lambda value: f"{value:.3f}"), state_texts)


def source_unit(usual: str) -> Any:
    """Return a source unit: mostly the usual one, else any unit or text."""
    return mostly(st.just(usual), units)


ages = st.floats(-60, 3600, allow_nan=False)
# A plausible range and the usual unit of each source.
PLAUSIBLE: Final = {
    Source.SOC: (0.0, 100.0, "%"),
    Source.PV_TODAY: (0.0, 50.0, "kWh"),
    Source.EXPORTED_TODAY: (0.0, 50.0, "kWh"),
    Source.GRID_POWER: (-10.0, 10.0, "kW"),
    Source.BATTERY_POWER: (-10.0, 10.0, "kW"),
    Source.FORECAST_TODAY: (0.0, 50.0, "kWh"),
}


def raw_state(source: Source) -> Any:
    """Return a source's raw state: mostly plausible and fresh, else anything or none."""
    low, high, unit = PLAUSIBLE[source]
    return mostly(
        st.builds(
            RawState,
            state=source_state(low, high),
            unit=source_unit(unit),
            reported_at=mostly(st.floats(0, 4), ages).map(
                lambda age: NOW - timedelta(seconds=age)
            ),
        ),
        st.none(),
    )


raw_states = st.one_of([raw_state(source) for source in Source])
option_sets = st.fixed_dictionaries(
    {
        CONF_SAFETY_MARGIN_KWH: st.floats(0, 20),
        CONF_MIN_SOC: st.floats(0, 99),
        CONF_STALE_AFTER_SECONDS: st.integers(5, 600),
        CONF_FORECAST_CREDIT: st.booleans(),
        CONF_FORECAST_CONFIDENCE: st.floats(0, 1),
    },
    optional={CONF_DAILY_EXPORT_CAP_KWH: st.floats(0.1, 100)},
)
junk_fields = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12),
    st.text(max_size=8),
    st.floats(-10, 2000).map(str),
    st.lists(st.integers(), max_size=2),
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: the pure fuzzing needs no hass."""


@pytest.fixture(autouse=True)
def no_stop_backoff() -> Generator[None]:
    """Retry stops without pausing: the frozen clock would never end a pause."""
    with patch.object(stopper_module, "STOP_BACKOFF_SECONDS", 0.0):
        yield


# -- the pure core ------------------------------------------------------------------------


def check_snapshot(snapshot: Snapshot, options: dict[str, Any]) -> None:
    """Assert what must hold of any snapshot, whatever the sources said."""
    margin = options[CONF_SAFETY_MARGIN_KWH]
    cap = options.get(CONF_DAILY_EXPORT_CAP_KWH)
    required = [snapshot.readings[source] for source in REQUIRED_SOURCES]
    assert not snapshot.safe or all(reading.usable for reading in required)
    for source, reading in snapshot.readings.items():
        low, high = VALID_RANGES[QUANTITIES[source]]
        assert not reading.usable or low <= reading.value <= high
    headroom = snapshot.headroom_kwh
    assert headroom is None or (math.isfinite(headroom) and headroom >= 0)
    allowance = snapshot.allowance_kwh
    assert allowance is None or cap is None or allowance <= cap - margin + 1e-9
    plan = snapshot.plan
    assert plan is None or 0 <= plan.energy_kwh <= (headroom or 0) + 1e-9
    # The rule: nothing blocks a start only when the data are safe and headroom is left.
    settings_ = settings_from_options(options)
    assert start_blockers(snapshot, settings_) or (
        snapshot.safe and headroom is not None and headroom > 0
    )


def shifted(
    states: dict[Source, RawState | None], delta: timedelta
) -> dict[Source, RawState | None]:
    """Return the states as reported `delta` later."""
    return {
        source: None
        if raw is None
        else replace(raw, reported_at=raw.reported_at + delta)
        for source, raw in states.items()
    }


@settings(max_examples=800, deadline=None)
@given(
    states=st.fixed_dictionaries({source: raw_state(source) for source in Source}),
    earlier=st.fixed_dictionaries({source: raw_state(source) for source in Source}),
    options=option_sets,
    day_later=st.booleans(),
)
def test_snapshot_of_any_states(
    states: dict[Source, RawState | None],
    earlier: dict[Source, RawState | None],
    options: dict[str, Any],
    day_later: bool,
) -> None:
    """Any states after any history (same day or the next) make a sound snapshot."""
    settings_ = settings_from_options(options)
    first = build_snapshot(earlier, settings_, NOW - timedelta(minutes=1))
    later = timedelta(days=int(day_later))
    snapshot = build_snapshot(
        shifted(states, later), settings_, NOW + later, first.counters
    )
    event(str(snapshot.data_fault))
    check_snapshot(snapshot, options)


@settings(max_examples=300, deadline=None)
@given(raw=raw_states, source=st.sampled_from(list(Source)), stale=st.integers(5, 600))
def test_reading_of_any_state(raw: RawState | None, source: Source, stale: int) -> None:
    """Any state and unit parse to a finite, plausible value or name their problem."""
    reading = parse_reading(raw, QUANTITIES[source], now=NOW, stale_after_seconds=stale)
    low, high = VALID_RANGES[QUANTITIES[source]]
    assert reading.problem is not None or reading.value is not None
    assert reading.value is None or low <= reading.value <= high


# -- through Home Assistant ---------------------------------------------------------------


@pytest.fixture
async def loaded(
    hass: HomeAssistant,
    enable_custom_integrations: None,
    config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """Set up the monitor once; each example resets what it changes."""
    set_sources(hass)
    await async_setup_inverter(hass)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await async_settle(hass)
    return config_entry


async def async_reset(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Stop, then start a fresh day whose counters reset: no example sees the last one."""
    await hass.services.async_call(DOMAIN, "stop_discharge", {}, blocking=True)
    freezer.tick(timedelta(days=1))
    set_sources(hass, pv="0", export="0")
    async_fire_time_changed(hass)
    await async_settle(hass)
    # A few hours on, so the day's first totals are within what the site can make.
    freezer.tick(timedelta(hours=3))
    set_sources(hass)
    async_fire_time_changed(hass)
    await async_settle(hass)


def may_start(hass: HomeAssistant) -> bool:
    """Return whether the entities say a start is allowed: idle and headroom left."""
    headroom = state_of(hass, HEADROOM)
    return state_of(hass, STATUS) == "idle" and _positive(headroom)


def _positive(text: str | None) -> bool:
    """Return whether a state is a number above zero."""
    try:
        return text is not None and float(text) > 0
    except ValueError:
        return False


async def async_call_start(hass: HomeAssistant, data: dict[str, Any]) -> str:
    """Call start_discharge; return "ok", "invalid" (schema) or the translation key."""
    try:
        await hass.services.async_call(DOMAIN, "start_discharge", data, blocking=True)
    except vol.Invalid:
        return "invalid"
    except HomeAssistantError as err:
        # An untranslated error shows as "None", which no outcome allows.
        return str(err.translation_key)
    return "ok"


def call_data(**fields_: Any) -> dict[str, Any]:
    """Return the service data: a None field is left out."""
    return {key: value for key, value in fields_.items() if value is not None}


def set_states(
    hass: HomeAssistant, values: dict[str, str], unit_choices: dict[str, str | None]
) -> None:
    """Write the fuzzed source states, each with its fuzzed (or usual) unit."""
    attributes = {SOC: SOC_ATTRS, PV: ENERGY_ATTRS, EXPORT: ENERGY_ATTRS}
    for entity_id, value in values.items():
        base = attributes.get(entity_id, POWER_ATTRS)
        unit = unit_choices.get(entity_id, base["unit_of_measurement"])
        hass.states.async_set(entity_id, value, {**base, "unit_of_measurement": unit})
    # The battery shows the discharge, so only the sources decide.
    hass.states.async_set(BATTERY, "3000", POWER_ATTRS)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, *LOADED_HEALTH_CHECKS],
)
@given(power=field(0.1, 50), duration=field(1, 1440), target=field(0.001, 1000))
async def test_start_with_any_fields(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    loaded: MockConfigEntry,
    power: Any,
    duration: Any,
    target: Any,
) -> None:
    """Any field values: a discharge, a schema error or a translated refusal; no crash."""
    allowed = may_start(hass)
    outcome = await async_call_start(
        hass,
        call_data(power_kw=power, duration_minutes=duration, target_export_kwh=target),
    )
    await async_settle(hass)
    event(outcome)
    assert outcome in OUTCOMES
    assert state_of(hass, ENABLE) == "off" or (allowed and outcome == "ok")
    await async_reset(hass, freezer)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, *LOADED_HEALTH_CHECKS],
)
@given(
    values=st.fixed_dictionaries(
        {
            # Counters at or above the day's first report (12 / 3 kWh) are the
            # interesting ones; lower values are glitches, also in the mix.
            SOC: source_state(0, 100),
            PV: source_state(12, 40),
            EXPORT: source_state(3, 15),
            GRID: source_state(-10000, 10000),
        }
    ),
    unit_choices=st.fixed_dictionaries(
        {SOC: source_unit("%"), PV: source_unit("kWh"), EXPORT: source_unit("kWh")}
    ),
)
async def test_discharge_under_any_source_states(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    loaded: MockConfigEntry,
    values: dict[str, str],
    unit_choices: dict[str, str | None],
) -> None:
    """Whatever the sources say mid-discharge: it runs only while a start could."""
    assert await async_call_start(hass, {}) == "ok"
    set_states(hass, values, unit_choices)
    await async_settle(hass)
    event(f"{state_of(hass, ENABLE)}: {state_of(hass, ERROR)}")
    assert state_of(hass, ERROR) in ERROR_STATES
    assert state_of(hass, ENABLE) == "off" or (
        state_of(hass, ERROR) == "none" and _positive(state_of(hass, HEADROOM))
    )
    await async_reset(hass, freezer)
