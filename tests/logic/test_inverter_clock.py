"""Pure tests of the inverter's clock for a time slot: trusted, or no start and no slot."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import pytest

from custom_components.export_monitor.logic.control_requests import (
    StartVerdict,
    decide_start,
)
from custom_components.export_monitor.logic.control_start import (
    StartRequest,
    assess_start,
)
from custom_components.export_monitor.logic.control_state import (
    AutoStart,
    ControlState,
    Dismiss,
    Notify,
    Publish,
)
from custom_components.export_monitor.logic.errors import (
    START_FAULTS,
    ErrorState,
    SystemHealth,
    system_health,
)
from custom_components.export_monitor.logic.inverter_clock import (
    CLOCK_SKEW_LIMIT,
    clock_offset_s,
    slot_clock_offset_s,
)

from .test_control import BREAKER_OK, _decide, _obs, _view

TZ: Final = ZoneInfo("Europe/Berlin")
NOW: Final = datetime(2026, 6, 1, 12, 0, 0, tzinfo=TZ)
CLOCK: Final = ErrorState.INVERTER_CLOCK_UNREADABLE
AUTO: Final[dict[str, Any]] = {"auto_discharge": True}


@pytest.mark.parametrize(
    ("shown", "offset_s"),
    [
        ((NOW - timedelta(minutes=5)).isoformat(), 300.0),
        ((NOW + timedelta(minutes=5)).astimezone(ZoneInfo("UTC")).isoformat(), -300.0),
        ("2026-06-01 11:59:30", 30.0),
        ("unavailable", None),
        ("unknown", None),
        ("12:3x", None),
        ("", None),
        (None, None),
    ],
    ids=[
        "behind",
        "ahead_in_utc",
        "naive_local",
        "unavailable",
        "unknown",
        "not_a_time",
        "empty",
        "no_state",
    ],
)
def test_clock_offset_from_the_clock_shown(
    shown: str | None, offset_s: float | None
) -> None:
    """HA's clock minus the inverter's; a naive time is local; no time: no offset.

    Before, anything unreadable gave 0 (the clocks taken to agree): a slot then ended
    up to the inverter's lag later than sized.
    """
    assert clock_offset_s(NOW, shown) == offset_s


LIMIT_S: Final = CLOCK_SKEW_LIMIT.total_seconds()


@pytest.mark.parametrize(
    ("shown", "chosen", "offset_s"),
    [
        (None, False, 0.0),
        ("unknown", True, None),
        ("unavailable", True, None),
        (None, True, None),
        ((NOW - timedelta(seconds=90)).isoformat(), True, 90.0),
        ((NOW - CLOCK_SKEW_LIMIT).isoformat(), True, LIMIT_S),
        ((NOW + CLOCK_SKEW_LIMIT).isoformat(), True, -LIMIT_S),
        ((NOW - CLOCK_SKEW_LIMIT - timedelta(seconds=1)).isoformat(), True, None),
        ((NOW + CLOCK_SKEW_LIMIT + timedelta(seconds=1)).isoformat(), True, None),
        ((NOW - timedelta(hours=1)).isoformat(), True, None),
    ],
    ids=[
        "no_clock_chosen_agrees",
        "unknown_before_the_first_poll",
        "unavailable",
        "entity_gone",
        "90_s_behind",
        "at_the_limit_behind",
        "at_the_limit_ahead",
        "past_the_limit_behind",
        "past_the_limit_ahead",
        "an_hour_off_a_time_zone_or_an_old_reading",
    ],
)
def test_slot_clock_offset(
    shown: str | None, chosen: bool, offset_s: float | None
) -> None:
    """A chosen clock gives an offset only when it shows a time within the limit."""
    assert slot_clock_offset_s(NOW, shown, chosen=chosen) == offset_s


def test_a_start_is_blocked_while_the_slot_clock_is_untrusted() -> None:
    """The plan stands, but the start is blocked by the clock alone."""
    plan, blockers = assess_start(_obs(clock_unreadable=True), StartRequest())
    assert plan is not None
    assert blockers == [CLOCK]
    assert assess_start(_obs(clock_unreadable=False), StartRequest())[1] == []


def test_a_user_start_is_refused_and_told() -> None:
    """A refused start records the refusal, notifies it and publishes; nothing is sent."""
    state, actions, decision = decide_start(
        ControlState(), _obs(running=False, clock_unreadable=True), StartRequest()
    )
    assert decision.verdict is StartVerdict.REFUSE
    assert decision.blocker is CLOCK
    assert state.refusal is CLOCK
    assert actions == (Notify(CLOCK), Publish())


def test_the_refusal_stays_while_the_clock_is_untrusted_then_clears() -> None:
    """Shown while the clock cannot be used; dismissed once it reads a good time."""
    refused = ControlState(refusal=CLOCK)
    state, actions = _decide(refused, _obs(running=False, clock_unreadable=True))
    assert (state.refusal, actions) == (CLOCK, (BREAKER_OK,))
    state, actions = _decide(refused, _obs(running=False))
    assert state.refusal is ErrorState.NONE
    assert actions == (BREAKER_OK, Dismiss(CLOCK), Publish())


def test_the_automatic_start_waits_and_says_why_once() -> None:
    """No automatic start while the clock is untrusted: the refusal shows, once."""
    untrusted = _obs(_view(**AUTO), running=False, clock_unreadable=True)
    state, actions = _decide(ControlState(), untrusted)
    assert state.refusal is CLOCK
    assert actions == (BREAKER_OK, Publish())
    # No retry storm: the next ticks neither start nor publish again.
    again, actions = _decide(state, untrusted)
    assert (again, actions) == (state, (BREAKER_OK,))
    # The clock reads again: the refusal clears and the automatic start goes ahead.
    state, actions = _decide(state, _obs(_view(**AUTO), running=False))
    assert state.refusal is ErrorState.NONE
    assert actions == (BREAKER_OK, Dismiss(CLOCK), Publish(), AutoStart())


@pytest.mark.parametrize(
    ("state", "options"),
    [
        (ControlState(), {}),
        (ControlState(), {**AUTO, "export_window_start": "13:00:00"}),
        (ControlState(refusal=ErrorState.SOC_AT_MIN), {**AUTO, "soc": "20"}),
    ],
    ids=["auto_off", "outside_the_window", "another_refusal_shown"],
)
def test_no_clock_refusal_when_no_automatic_start_is_due(
    state: ControlState, options: dict[str, Any]
) -> None:
    """Without an automatic start to wait, the untrusted clock records nothing."""
    obs = _obs(_view(**options), running=False, clock_unreadable=True)
    assert _decide(state, obs)[0].refusal is state.refusal


def test_the_clock_is_a_fault_a_start_clears() -> None:
    """Health is error while it shows; a successful start clears the fault it left."""
    health = system_health(CLOCK, is_stale=False, breaker_open=False)
    assert health is SystemHealth.ERROR
    assert CLOCK in START_FAULTS
