"""Table and property tests of the pure supervision rules and session persistence."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st
import pytest

from custom_components.export_monitor.logic.cadence import (
    DEFAULT_METER_INTERVAL_SECONDS,
    MeterCadence,
)
from custom_components.export_monitor.logic.persist import (
    session_from_data,
    session_to_data,
)
from custom_components.export_monitor.logic.supervision import (
    AUTO_RESTART_PAUSE,
    BACKSTOP_MAX_MINUTES,
    OBEY_GRACE,
    REACTION_SECONDS,
    AutoStartInputs,
    Session,
    StopReason,
    SupervisionInputs,
    auto_start_due,
    backstop_due,
    backstop_minutes,
    backstop_seconds_left,
    deadman_reserve_kwh,
    discharging,
    export_power_estimate_kw,
    obey_check_due,
    rearm_margin_seconds,
    remaining_minutes,
    reserve_kwh,
    seconds_to_local_midnight,
    session_export_kwh,
    stop_reason,
)

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=LONDON)
SECOND = timedelta(seconds=1)
MIN_SOC = 20.0

SESSION = Session(
    started_at=NOW,
    origin="service",
    power_kw=3.0,
    cutoff_soc=MIN_SOC,
    start_exported_kwh=3.0,
)
INPUTS = SupervisionInputs(
    now=NOW + 60 * SECOND,
    safe=True,
    headroom_kwh=5.0,
    soc=80.0,
    exported_today_kwh=3.5,
    export_age_seconds=0.0,
    grid_export_kw=3.0,
    breaker_can_attempt=True,
    in_window=True,
    enable_is_on=True,
)
# The longest meter interval the properties below draw.
MAX_METER_INTERVAL_SECONDS = 3600.0
LEARNED = MeterCadence(
    last_value=3.5,
    last_change_at=NOW,
    intervals=(10.0, 10.0),
    resolution_kwh=0.01,
    rate_kw=3.0,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: pure tests need no hass instance."""


ESTIMATES = {
    "setpoint_only": (3.0, None, None, 3.0),
    "meter_higher": (3.0, 3.4, None, 3.4),
    "counter_higher": (3.0, 2.0, 4.0, 4.0),
    "setpoint_highest": (5.0, 2.0, 4.0, 5.0),
}


@pytest.mark.parametrize(
    ("setpoint", "grid", "rate", "expected"),
    list(ESTIMATES.values()),
    ids=list(ESTIMATES),
)
def test_export_power_estimate(
    setpoint: float, grid: float | None, rate: float | None, expected: float
) -> None:
    """The estimate is the largest of setpoint, grid meter and counter rate."""
    assert export_power_estimate_kw(setpoint, grid, rate) == expected


RESERVES = {
    "unknown_cadence": (
        MeterCadence(),
        0.0,
        3.0 * (DEFAULT_METER_INTERVAL_SECONDS + 10) / 3600 + 0.1,
    ),
    "learned_cadence": (LEARNED, 0.0, 3.0 * 20 / 3600 + 0.01),
    "old_reading": (LEARNED, 50.0, 3.0 * 60 / 3600 + 0.01),
}


@pytest.mark.parametrize(
    ("cadence", "age", "expected"), list(RESERVES.values()), ids=list(RESERVES)
)
def test_reserve(cadence: MeterCadence, age: float, expected: float) -> None:
    """The reserve covers the longer of cadence and age, the reaction and one step."""
    assert reserve_kwh(3.0, cadence, age) == pytest.approx(expected)


DEADMAN_RESERVES = {
    # The unseen past at the measured 3 kW, the timer's write at the 5 kW maximum.
    "learned_cadence": (LEARNED, 0.0, 3.0, (3.0 * 10 + 5.0 * 10) / 3600 + 0.01),
    "old_reading": (LEARNED, 50.0, 3.0, (3.0 * 50 + 5.0 * 10) / 3600 + 0.01),
    "unknown_cadence": (
        MeterCadence(),
        0.0,
        3.0,
        (3.0 * DEFAULT_METER_INTERVAL_SECONDS + 5.0 * 10) / 3600 + 0.1,
    ),
    # Unmeasured (past at the maximum): the same as the stop reserve at 5 kW.
    "past_at_the_maximum": (LEARNED, 0.0, 5.0, 5.0 * 20 / 3600 + 0.01),
    # A measured power above the maximum is capped at it.
    "measured_above": (LEARNED, 0.0, 7.0, 5.0 * 20 / 3600 + 0.01),
}


@pytest.mark.parametrize(
    ("cadence", "age", "past_kw", "expected"),
    list(DEADMAN_RESERVES.values()),
    ids=list(DEADMAN_RESERVES),
)
def test_deadman_reserve(
    cadence: MeterCadence, age: float, past_kw: float, expected: float
) -> None:
    """The dead-man's reserve: the unseen past as measured, the write at the maximum."""
    assert deadman_reserve_kwh(past_kw, 5.0, cadence, age) == pytest.approx(expected)


@given(
    past=st.floats(min_value=0.0, max_value=50.0),
    alone=st.floats(min_value=0.1, max_value=50.0),
    age=st.floats(min_value=0.0, max_value=3600.0),
)
def test_deadman_reserve_between_the_two_stop_reserves(
    past: float, alone: float, age: float
) -> None:
    """Never more than the stop reserve at the maximum, never less than at the past."""
    reserve = deadman_reserve_kwh(past, alone, LEARNED, age)
    assert reserve <= reserve_kwh(alone, LEARNED, age) + 1e-12
    assert reserve >= reserve_kwh(min(past, alone), LEARNED, age) - 1e-12


@given(
    power=st.floats(min_value=0.1, max_value=50.0),
    age=st.floats(min_value=0.0, max_value=3600.0),
    interval=st.floats(min_value=1.0, max_value=MAX_METER_INTERVAL_SECONDS),
)
def test_reserve_covers_unseen_export_and_reaction(
    power: float, age: float, interval: float
) -> None:
    """Energy unseen since the last report plus one reaction never exceeds the reserve."""
    cadence = replace(LEARNED, intervals=(interval,))
    unseen = power * (age + REACTION_SECONDS) / 3600.0
    assert reserve_kwh(power, cadence, age) >= unseen


# -- local midnight -----------------------------------------------------------------------

MIDNIGHTS = {
    "summer": (datetime(2026, 6, 15, 23, 59, 0, tzinfo=LONDON), 60.0),
    "winter": (datetime(2026, 1, 15, 23, 0, 0, tzinfo=LONDON), 3600.0),
    "spring_forward_day": (datetime(2026, 3, 29, 0, 30, tzinfo=LONDON), 22.5 * 3600),
    "fall_back_day": (datetime(2026, 10, 25, 0, 30, tzinfo=LONDON), 24.5 * 3600),
}


@pytest.mark.parametrize(
    ("now", "seconds"), list(MIDNIGHTS.values()), ids=list(MIDNIGHTS)
)
def test_seconds_to_local_midnight(now: datetime, seconds: float) -> None:
    """Real seconds to the next local midnight, across summer-time changes."""
    assert seconds_to_local_midnight(now) == seconds


@given(
    moment=st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis needs naive bounds
        max_value=datetime(2027, 12, 31),  # noqa: DTZ001
        timezones=st.just(LONDON),
    )
)
def test_seconds_to_local_midnight_lands_on_midnight(moment: datetime) -> None:
    """Adding the seconds lands on the next local midnight, within 25 hours."""
    seconds = seconds_to_local_midnight(moment)
    landed = (moment.astimezone(UTC) + timedelta(seconds=seconds)).astimezone(LONDON)
    assert 0 < seconds <= 25 * 3600
    assert (landed.hour, landed.minute, landed.second, landed.microsecond) == (
        0,
        0,
        0,
        0,
    )
    assert landed.date() == moment.date() + timedelta(days=1)


# -- stop rules ---------------------------------------------------------------------------

STOPS: dict[str, tuple[dict[str, Any], dict[str, Any], StopReason | None]] = {
    "keep_going": ({}, {}, None),
    "unsafe": ({"safe": False}, {}, StopReason.DATA_UNSAFE),
    "no_headroom_figure": ({"headroom_kwh": None}, {}, StopReason.DATA_UNSAFE),
    "no_soc": ({"soc": None}, {}, StopReason.DATA_UNSAFE),
    "enable_unknown": ({"enable_is_on": None}, {}, StopReason.ACTUATOR_UNAVAILABLE),
    # A service-only inverter has no running state to read: the power flow decides.
    "service_only_unreadable": (
        {"enable_is_on": None, "running_readable": False},
        {},
        None,
    ),
    "service_only_unreadable_still_checked": (
        {"enable_is_on": None, "running_readable": False, "soc": MIN_SOC},
        {},
        StopReason.SOC_AT_MIN,
    ),
    "breaker_open": (
        {"breaker_can_attempt": False},
        {},
        StopReason.CIRCUIT_BREAKER_OPEN,
    ),
    "thirty_s_to_midnight": (
        {"now": datetime(2026, 6, 15, 23, 59, 30, tzinfo=LONDON)},
        {},
        StopReason.MIDNIGHT,
    ),
    "thirty_one_s_to_midnight": (
        {"now": datetime(2026, 6, 15, 23, 59, 29, tzinfo=LONDON)},
        {},
        None,
    ),
    "next_day": (
        {"now": datetime(2026, 6, 16, 0, 0, 5, tzinfo=LONDON)},
        {},
        StopReason.MIDNIGHT,
    ),
    "soc_at_min": ({"soc": MIN_SOC}, {}, StopReason.SOC_AT_MIN),
    "headroom_within_reserve": (
        {"headroom_kwh": 0.05},
        {},
        StopReason.HEADROOM_EXHAUSTED,
    ),
    # Beyond 300 s of 3 kW, the reaction and 0.1 kWh: an unlearned meter.
    "headroom_beyond_reserve": ({"headroom_kwh": 0.5}, {}, None),
    "old_reading_needs_more": (
        {"headroom_kwh": 0.1, "export_age_seconds": 120.0},
        {},
        StopReason.HEADROOM_EXHAUSTED,
    ),
    "grid_shows_more_power": (
        {"headroom_kwh": 0.1, "grid_export_kw": 6.0},
        {},
        StopReason.HEADROOM_EXHAUSTED,
    ),
    "target_reached": ({}, {"target_export_kwh": 0.5}, StopReason.TARGET_REACHED),
    "target_not_reached": ({}, {"target_export_kwh": 0.6}, None),
    "duration_elapsed": (
        {},
        {"ends_at": NOW + 60 * SECOND},
        StopReason.DURATION_ELAPSED,
    ),
    "duration_running": ({}, {"ends_at": NOW + 61 * SECOND}, None),
    "window_ended": ({"in_window": False}, {}, StopReason.WINDOW_ENDED),
    "started_outside_window": (
        {"in_window": False},
        {"started_in_window": False},
        None,
    ),
    "switched_off_elsewhere": (
        {"enable_is_on": False},
        {},
        StopReason.SWITCHED_OFF_ELSEWHERE,
    ),
}


@pytest.mark.parametrize(
    ("inputs", "session", "expected"), list(STOPS.values()), ids=list(STOPS)
)
def test_stop_reason(
    inputs: dict[str, Any], session: dict[str, Any], expected: StopReason | None
) -> None:
    """Each rule stops the session for its own reason, in priority order."""
    result = stop_reason(
        replace(INPUTS, **inputs), replace(SESSION, **session), MeterCadence(), MIN_SOC
    )
    assert result == expected


@given(
    headroom=st.floats(min_value=0.0, max_value=20.0),
    power=st.floats(min_value=0.1, max_value=10.0),
    grid=st.one_of(st.none(), st.floats(min_value=-10.0, max_value=10.0)),
    age=st.floats(min_value=0.0, max_value=600.0),
    interval=st.floats(min_value=1.0, max_value=MAX_METER_INTERVAL_SECONDS),
)
def test_continuing_never_risks_the_allowance(
    headroom: float, power: float, grid: float | None, age: float, interval: float
) -> None:
    """A session goes on only while headroom outlasts unseen export plus a reaction."""
    inputs = replace(
        INPUTS, headroom_kwh=headroom, grid_export_kw=grid, export_age_seconds=age
    )
    cadence = replace(LEARNED, intervals=(interval,), rate_kw=None)
    reason = stop_reason(inputs, replace(SESSION, power_kw=power), cadence, MIN_SOC)
    at_risk = max(power, grid or 0.0) * (age + REACTION_SECONDS) / 3600.0
    assert reason is StopReason.HEADROOM_EXHAUSTED or headroom > at_risk


EXPORTS = {
    "no_reading": (None, 0.0),
    "counter_behind_start": (2.0, 0.0),
    "exported": (4.25, 1.25),
}


@pytest.mark.parametrize(
    ("exported_today", "expected"), list(EXPORTS.values()), ids=list(EXPORTS)
)
def test_session_export(exported_today: float | None, expected: float) -> None:
    """A session's export is the counter's rise since its start, never negative."""
    assert session_export_kwh(SESSION, exported_today) == expected


REMAINING = {
    "headroom_bound": ({}, 1.5, 3.5, 30.0),
    "target_bound": ({"target_export_kwh": 1.0}, 5.0, 3.5, 10.0),
    "end_time_bound": ({"ends_at": NOW + 20 * 60 * SECOND}, 5.0, 3.5, 15.0),
    "nothing_left": ({"target_export_kwh": 0.2}, 5.0, 3.5, 0.0),
}


@pytest.mark.parametrize(
    ("session", "headroom", "exported", "expected"),
    list(REMAINING.values()),
    ids=list(REMAINING),
)
def test_remaining_minutes(
    session: dict[str, Any], headroom: float, exported: float, expected: float
) -> None:
    """Headroom, target and end time each bound the planned minutes left."""
    result = remaining_minutes(
        replace(SESSION, **session), headroom, exported, NOW + 5 * 60 * SECOND
    )
    assert result == pytest.approx(expected)


# -- backstop -----------------------------------------------------------------------------

BACKSTOP_MINUTES = {
    "none_left": (0.0, 1),
    "partial": (4.2, 4),
    "almost_whole": (4.99, 4),
    "long": (120.0, 15),
}


@pytest.mark.parametrize(
    ("remaining", "expected"),
    list(BACKSTOP_MINUTES.values()),
    ids=list(BACKSTOP_MINUTES),
)
def test_backstop_minutes(remaining: float, expected: int) -> None:
    """The inverter timer gets the remaining minutes rounded down, from 1 to 15."""
    assert backstop_minutes(remaining) == expected


@given(remaining=st.floats(min_value=0.0, max_value=1e6))
def test_backstop_minutes_bounds(remaining: float) -> None:
    """The timer is 1 to 15 minutes, never longer than what remains beyond its minimum."""
    minutes = backstop_minutes(remaining)
    assert 1 <= minutes <= BACKSTOP_MAX_MINUTES
    assert minutes <= max(1.0, remaining)
    assert minutes > min(remaining, BACKSTOP_MAX_MINUTES) - 1


BACKSTOP_DUE = {
    "never_armed": ({}, 0, True),
    "fifteen_minutes_early": (
        {"backstop_minutes": 15, "backstop_armed_at": NOW},
        779,
        False,
    ),
    "fifteen_minutes_two_before_the_end": (
        {"backstop_minutes": 15, "backstop_armed_at": NOW},
        780,
        True,
    ),
    "four_minutes_at_half": (
        {"backstop_minutes": 4, "backstop_armed_at": NOW},
        120,
        True,
    ),
    "four_minutes_not_before": (
        {"backstop_minutes": 4, "backstop_armed_at": NOW},
        119,
        False,
    ),
    "one_minute_waits_half_a_minute": (
        {"backstop_minutes": 1, "backstop_armed_at": NOW},
        29,
        False,
    ),
    "one_minute_after_half_a_minute": (
        {"backstop_minutes": 1, "backstop_armed_at": NOW},
        30,
        True,
    ),
}


@pytest.mark.parametrize(
    ("session", "seconds", "expected"),
    list(BACKSTOP_DUE.values()),
    ids=list(BACKSTOP_DUE),
)
def test_backstop_due(session: dict[str, Any], seconds: int, expected: bool) -> None:
    """The timer is re-armed 2 min before its end, never before half its time."""
    assert backstop_due(replace(SESSION, **session), NOW + seconds * SECOND) is expected


SLOW_DUE = {
    "half_time_when_the_margin_is_longer": (620.0, 449, False),
    "at_half_time": (620.0, 450, True),
    "margin_between": (300.0, 599, False),
    "at_the_margin": (300.0, 600, True),
}


@pytest.mark.parametrize(
    ("margin", "seconds", "expected"), list(SLOW_DUE.values()), ids=list(SLOW_DUE)
)
def test_backstop_due_with_a_slow_read_back(
    margin: float, seconds: int, expected: bool
) -> None:
    """A longer margin (a slow read-back) re-arms earlier, never before half time."""
    session = replace(SESSION, backstop_minutes=15, backstop_armed_at=NOW)
    assert backstop_due(session, NOW + seconds * SECOND, margin) is expected


REARM_MARGINS = {
    "prompt": (11.5, 0.0, 120.0),
    "polled": (11.5, 60.0, 143.0),
    "slow_read_back": (11.5, 600.0, 1223.0),
    "slow_machine": (70.0, 0.0, 140.0),
}


@pytest.mark.parametrize(
    ("reaction", "writes_ahead", "expected"),
    list(REARM_MARGINS.values()),
    ids=list(REARM_MARGINS),
)
def test_rearm_margin(reaction: float, writes_ahead: float, expected: float) -> None:
    """Twice what a re-arm may take to land, never under two minutes."""
    assert rearm_margin_seconds(reaction, writes_ahead) == pytest.approx(expected)


# -- did the inverter obey? ----------------------------------------------------------------

DISCHARGING = {
    "idle": (3.0, 0.0, False),
    "trickle": (0.4, 0.15, False),
    "small_setpoint": (0.4, 0.2, True),
    "quarter_of_setpoint": (3.0, 0.75, True),
    "below_quarter": (3.0, 0.7, False),
}


@pytest.mark.parametrize(
    ("setpoint", "battery", "expected"),
    list(DISCHARGING.values()),
    ids=list(DISCHARGING),
)
def test_discharging(setpoint: float, battery: float, expected: bool) -> None:
    """Battery power of a quarter of the setpoint (at least 0.2 kW) is discharging."""
    assert discharging(setpoint, battery) is expected


@pytest.mark.parametrize(
    ("seconds", "expected"), [(89, False), (90, True)], ids=["in_grace", "grace_over"]
)
def test_obey_check_due(seconds: int, expected: bool) -> None:
    """The inverter gets 90 s to follow a command."""
    assert obey_check_due(NOW, NOW + seconds * SECOND) is expected
    assert timedelta(seconds=90) == OBEY_GRACE


# -- automatic start -------------------------------------------------------------------------

AUTO = AutoStartInputs(
    now=NOW,
    enabled=True,
    in_window=True,
    blockers=(),
    headroom_kwh=1.0,
    last_stop_at=None,
    last_stop_reason=None,
)
RECENT_STOP = {"last_stop_reason": StopReason.HEADROOM_EXHAUSTED}
AUTO_CASES: dict[str, tuple[dict[str, Any], bool]] = {
    "due": ({}, True),
    "disabled": ({"enabled": False}, False),
    "outside_window": ({"in_window": False}, False),
    "blocked": ({"blockers": ("soc_at_min",)}, False),
    "headroom_unknown": ({"headroom_kwh": None}, False),
    "sliver_of_headroom": ({"headroom_kwh": 0.09}, False),
    "stopped_just_now": ({"last_stop_at": NOW - SECOND, **RECENT_STOP}, False),
    "stopped_five_minutes_ago": (
        {"last_stop_at": NOW - AUTO_RESTART_PAUSE, **RECENT_STOP},
        True,
    ),
    "user_stopped_today": (
        {"last_stop_at": NOW - 3600 * SECOND, "last_stop_reason": StopReason.USER},
        False,
    ),
    "user_stopped_yesterday": (
        {"last_stop_at": NOW - 86400 * SECOND, "last_stop_reason": StopReason.USER},
        True,
    ),
    "latch_cleared_by_the_switch": (
        {"last_stop_at": NOW - 3600 * SECOND, "last_stop_reason": None},
        True,
    ),
}


@pytest.mark.parametrize(
    ("changes", "expected"), list(AUTO_CASES.values()), ids=list(AUTO_CASES)
)
def test_auto_start_due(changes: dict[str, Any], expected: bool) -> None:
    """The automatic start needs the switch, the window, headroom and a pause."""
    assert auto_start_due(replace(AUTO, **changes)) is expected


# -- persistence ------------------------------------------------------------------------------

FULL = Session(
    started_at=NOW,
    origin="auto",
    power_kw=4.5,
    cutoff_soc=25.0,
    start_exported_kwh=0.0,
    target_export_kwh=2.0,
    ends_at=NOW + 40 * 60 * SECOND,
    started_in_window=False,
    backstop_minutes=15,
    backstop_armed_at=NOW + 5 * SECOND,
)


@pytest.mark.parametrize("session", [SESSION, FULL], ids=["minimal", "full"])
def test_session_round_trip(session: Session) -> None:
    """A stored session reads back equal."""
    assert session_from_data(session_to_data(session)) == session


def test_stored_session_is_plain_data() -> None:
    """The stored form has ISO times and plain numbers."""
    assert session_to_data(FULL) == {
        "started_at": "2026-06-15T12:00:00+01:00",
        "origin": "auto",
        "power_kw": 4.5,
        "cutoff_soc": 25.0,
        "start_exported_kwh": 0.0,
        "target_export_kwh": 2.0,
        "ends_at": "2026-06-15T12:40:00+01:00",
        "started_in_window": False,
        "backstop_minutes": 15,
        "backstop_armed_at": "2026-06-15T12:00:05+01:00",
    }


STORED = session_to_data(FULL)
MALFORMED: dict[str, Any] = {
    "nothing": None,
    "not_a_dict": ["started_at"],
    "no_start": {**STORED, "started_at": None},
    "naive_start": {**STORED, "started_at": "2026-06-15T12:00:00"},
    "bad_time": {**STORED, "ends_at": "yesterday"},
    "missing_power": {k: v for k, v in STORED.items() if k != "power_kw"},
    "power_not_a_number": {**STORED, "power_kw": "high"},
    "backstop_not_a_number": {**STORED, "backstop_minutes": "soon"},
    "target_wrong_type": {**STORED, "target_export_kwh": [1]},
}


@pytest.mark.parametrize("data", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_session_is_refused(data: Any) -> None:
    """Anything malformed reads back as no session at all."""
    assert session_from_data(data) is None


def test_old_session_without_window_flag() -> None:
    """A stored session without the window flag counts as started in the window."""
    data = {k: v for k, v in STORED.items() if k != "started_in_window"}
    assert session_from_data(data) == replace(FULL, started_in_window=True)


@given(
    started=st.datetimes(
        min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis needs naive bounds
        max_value=datetime(2040, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from([UTC, LONDON]),
        allow_imaginary=False,  # dt_util.now() never lands in a summer-time gap
    ),
    power=st.floats(min_value=0.1, max_value=50.0),
    cutoff=st.floats(min_value=0.0, max_value=100.0),
    exported=st.floats(min_value=0.0, max_value=1000.0),
    target=st.one_of(st.none(), st.floats(min_value=0.001, max_value=1000.0)),
    minutes=st.one_of(st.none(), st.integers(min_value=1, max_value=15)),
    in_window=st.booleans(),
)
def test_any_session_round_trips(
    started: datetime,
    power: float,
    cutoff: float,
    exported: float,
    target: float | None,
    minutes: int | None,
    in_window: bool,
) -> None:
    """Every session reads back as the same instants and values (its stored form)."""
    session = Session(
        started_at=started,
        origin="service",
        power_kw=power,
        cutoff_soc=cutoff,
        start_exported_kwh=exported,
        target_export_kwh=target,
        ends_at=started + timedelta(minutes=30),
        started_in_window=in_window,
        backstop_minutes=minutes,
        backstop_armed_at=None if minutes is None else started,
    )
    restored = session_from_data(session_to_data(session))
    # Compared through the stored form: an aware time in a repeated hour never
    # equals the same instant in another zone (PEP 495), yet it is that instant.
    assert restored is not None
    assert session_to_data(restored) == session_to_data(session)
    assert restored.started_at.astimezone(UTC) == started.astimezone(UTC)


# -- real time across the autumn clock change ---------------------------------------------
# On 2026-10-25 London's clocks go back at 02:00 BST: 01:00-02:00 happens twice.

LAST_BST = datetime(2026, 10, 25, 1, 59, 30, tzinfo=LONDON)  # fold 0: BST, 00:59:30 UTC


def gmt(minute: int, second: int = 0) -> datetime:
    """Return a moment of the repeated hour, the second time (GMT)."""
    return datetime(2026, 10, 25, 1, minute, second, tzinfo=LONDON, fold=1)


def test_obey_grace_counts_real_seconds_over_the_clock_change() -> None:
    """90 real seconds pass even when the wall clock goes back an hour."""
    assert obey_check_due(LAST_BST, gmt(0, 59)) is False
    assert obey_check_due(LAST_BST, gmt(1, 0)) is True


def test_backstop_rearm_counts_real_seconds_over_the_clock_change() -> None:
    """The backstop's re-arm time is real time across the clock change."""
    session = replace(SESSION, backstop_minutes=15, backstop_armed_at=LAST_BST)
    assert backstop_due(session, gmt(12, 29)) is False
    assert backstop_due(session, gmt(12, 30)) is True


def test_duration_ends_in_real_time_over_the_clock_change() -> None:
    """A planned end ten real minutes away is ten minutes away, not in the past."""
    session = replace(SESSION, started_at=LAST_BST, ends_at=gmt(9, 30))
    early = replace(INPUTS, now=LAST_BST)
    late = replace(INPUTS, now=gmt(9, 30))
    assert stop_reason(early, session, MeterCadence(), MIN_SOC) is None
    assert stop_reason(late, session, MeterCadence(), MIN_SOC) is (
        StopReason.DURATION_ELAPSED
    )
    assert remaining_minutes(session, 5.0, 3.0, LAST_BST) == pytest.approx(10.0)


def test_restart_pause_counts_real_minutes_over_the_clock_change() -> None:
    """The five-minute pause after a stop is real time across the clock change."""
    stopped = {"last_stop_at": LAST_BST, **RECENT_STOP}
    assert auto_start_due(replace(AUTO, now=gmt(4, 29), **stopped)) is False
    assert auto_start_due(replace(AUTO, now=gmt(4, 30), **stopped)) is True


def test_cadence_counts_real_seconds_over_the_clock_change() -> None:
    """The meter interval is real time across the clock change."""
    cadence = MeterCadence(
        last_value=1.0, last_change_at=LAST_BST, session_since=LAST_BST
    )
    assert cadence.observe(1.01, gmt(0, 10)).intervals == (40.0,)


TIMER_LEFT = {
    "never_armed": ({}, 0, 0.0),
    "just_armed": ({"backstop_minutes": 4, "backstop_armed_at": NOW}, 0, 240.0),
    "part_run": ({"backstop_minutes": 4, "backstop_armed_at": NOW}, 100, 140.0),
    "run_out": ({"backstop_minutes": 4, "backstop_armed_at": NOW}, 300, 0.0),
}


@pytest.mark.parametrize(
    ("changes", "elapsed", "expected"),
    list(TIMER_LEFT.values()),
    ids=list(TIMER_LEFT),
)
def test_timer_seconds_left(
    changes: dict[str, Any], elapsed: float, expected: float
) -> None:
    """The inverter's timer runs from its last arming, and never below zero."""
    session = replace(SESSION, **changes)
    assert backstop_seconds_left(session, NOW + timedelta(seconds=elapsed)) == expected
