"""Table tests of a user's start and of how a stop steps down its ladder."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from custom_components.export_monitor.logic.control_requests import (
    StartVerdict,
    decide_start,
    fallback_rungs,
    quick_retry_in,
    stop_abandoned,
    stop_begun,
    stop_confirmed,
    stop_confirmed_needed,
    stop_send_failed,
)
from custom_components.export_monitor.logic.control_start import (
    Observation,
    StartRequest,
)
from custom_components.export_monitor.logic.control_state import (
    Action,
    ControlState,
    Dismiss,
    Notify,
    Publish,
    RetryStopSlowly,
    ShortenBackstop,
)
from custom_components.export_monitor.logic.errors import ErrorState
from custom_components.export_monitor.logic.latency import FlowWatch
from custom_components.export_monitor.logic.stop_progress import (
    STOP_RETRIES,
    StopProgress,
)
from custom_components.export_monitor.logic.supervision import Session, StopReason
from custom_components.export_monitor.profiles import PROFILES

from .common import NOW, OWED
from .test_control import ARMED, SESSION, _obs, _view

NO_PLAN = _obs(_view())
NO_PLAN = replace(
    NO_PLAN,
    view=replace(
        NO_PLAN.view, snapshot=replace(NO_PLAN.view.snapshot, headroom_kwh=None)
    ),
)

STARTS: dict[
    str, tuple[ControlState, Observation, StartVerdict, ErrorState, tuple[Action, ...]]
] = {
    "begins": (
        ControlState(),
        _obs(running=False),
        StartVerdict.BEGIN,
        ErrorState.NONE,
        (),
    ),
    "closing_aborts": (
        ControlState(),
        _obs(closing=True),
        StartVerdict.ABORT,
        ErrorState.NONE,
        (),
    ),
    "an_unconfirmed_stop_refuses": (
        ControlState(stop=OWED),
        _obs(),
        StartVerdict.REFUSE,
        ErrorState.DISCHARGE_STOP_FAILED,
        (Notify(ErrorState.DISCHARGE_STOP_FAILED), Publish()),
    ),
    "a_running_discharge_is_left": (
        ControlState(session=SESSION),
        _obs(),
        StartVerdict.RUNNING,
        ErrorState.NONE,
        (),
    ),
    "a_start_condition_refuses_quietly": (
        ControlState(),
        _obs(_view(soc="20")),
        StartVerdict.REFUSE,
        ErrorState.SOC_AT_MIN,
        (Publish(),),
    ),
    "a_fault_refuses_and_is_told": (
        ControlState(fault=ErrorState.SOURCE_MISSING),
        _obs(),
        StartVerdict.REFUSE,
        ErrorState.SOURCE_MISSING,
        (Notify(ErrorState.SOURCE_MISSING), Publish()),
    ),
    "no_plan_is_no_data": (
        ControlState(),
        NO_PLAN,
        StartVerdict.REFUSE,
        ErrorState.NO_DATA,
        (Notify(ErrorState.NO_DATA), Publish()),
    ),
}


@pytest.mark.parametrize(
    ("state", "obs", "verdict", "blocker", "actions"), STARTS.values(), ids=list(STARTS)
)
def test_decide_start(
    state: ControlState,
    obs: Observation,
    verdict: StartVerdict,
    blocker: ErrorState,
    actions: tuple[Action, ...],
) -> None:
    """A start begins only when nothing forbids it; a refusal is recorded and shown."""
    new, done, decision = decide_start(state, obs, StartRequest())
    assert (decision.verdict, decision.blocker, done) == (verdict, blocker, actions)
    assert (decision.plan is not None) is (verdict is StartVerdict.BEGIN)
    expected = blocker if verdict is StartVerdict.REFUSE else state.refusal
    assert new.refusal is expected


STOP_DETAILS = (("error", "timed out"),)
ALARM = (
    Notify(ErrorState.DISCHARGE_STOP_FAILED, STOP_DETAILS),
    Publish(),
    ShortenBackstop(),
    RetryStopSlowly(timedelta(seconds=30)),
)


def test_a_new_round_keeps_the_alarm_up() -> None:
    """A stop sent while the alarm is up leaves it up: the slow retry still owes one."""
    state = stop_begun(ControlState(stop=OWED), StopReason.ALLOWANCE_EXCEEDED, NOW)
    assert state.stop == StopProgress(
        reason=StopReason.ALLOWANCE_EXCEEDED, sent_at=NOW, alarm=StopReason.USER
    )
    assert state.pending_stop is StopReason.USER
    fresh = stop_begun(ControlState(), StopReason.USER, NOW)
    assert (fresh.stop is not None, fresh.pending_stop) == (True, None)


def test_failed_sends_are_retried_then_raise_the_alarm() -> None:
    """STOP_RETRIES quick retries, each due later; then the fault, fallbacks, slow retry."""
    state = stop_begun(ControlState(), StopReason.USER, NOW)
    dues = []
    for _ in range(STOP_RETRIES):
        state, actions = stop_send_failed(
            state, StopReason.USER, NOW, STOP_DETAILS, jitter=0.0, backoff_s=1.0
        )
        assert (actions, state.fault, state.pending_stop) == ((), ErrorState.NONE, None)
        assert state.stop is not None
        dues.append(state.stop.retry_at)
    assert dues == [NOW + timedelta(seconds=s) for s in (1, 2, 4)]
    assert quick_retry_in(state, NOW) == 4.0
    state, actions = stop_send_failed(
        state, StopReason.USER, NOW, STOP_DETAILS, jitter=0.0, backoff_s=1.0
    )
    assert (actions, state.fault, state.pending_stop) == (
        ALARM,
        ErrorState.DISCHARGE_STOP_FAILED,
        StopReason.USER,
    )
    assert quick_retry_in(state, NOW) is None
    assert quick_retry_in(ControlState(), NOW) is None


def test_a_failed_send_without_a_round_starts_one() -> None:
    """A failure reported with no round recorded counts as the round's first failure."""
    state, actions = stop_send_failed(
        ControlState(), StopReason.UNLOAD, NOW, (), jitter=0.5, backoff_s=2.0
    )
    assert state.stop == StopProgress(
        reason=StopReason.UNLOAD,
        sent_at=NOW,
        failures=1,
        retry_at=NOW + timedelta(seconds=3),
    )
    assert actions == ()


def test_an_abandoned_stop_raises_the_alarm_at_once() -> None:
    """A failed start's undo not confirmed: the alarm, fallbacks and the slow retry."""
    state, actions = stop_abandoned(
        ControlState(), StopReason.START_FAILED, NOW, STOP_DETAILS
    )
    assert (actions, state.fault, state.pending_stop) == (
        ALARM,
        ErrorState.DISCHARGE_STOP_FAILED,
        StopReason.START_FAILED,
    )


@pytest.mark.parametrize(
    ("facts", "needed"),
    [
        ({"force": True, "active": False, "running": False, "readable": True}, True),
        ({"force": False, "active": True, "running": False, "readable": True}, True),
        ({"force": False, "active": False, "running": True, "readable": True}, True),
        ({"force": False, "active": False, "running": None, "readable": True}, True),
        ({"force": False, "active": False, "running": False, "readable": True}, False),
        ({"force": False, "active": False, "running": None, "readable": False}, False),
    ],
    ids=["forced", "active", "reads_on", "unknown", "reads_off", "unreadable_idle"],
)
def test_stop_confirmed_needed(facts: dict[str, Any], needed: bool) -> None:
    """Only an inverter that reads off (or reads nothing) with no session is idle."""
    assert stop_confirmed_needed(**facts) is needed


NEARLY_OUT = replace(ARMED, backstop_armed_at=NOW - timedelta(minutes=9, seconds=30))


@pytest.mark.parametrize(
    ("session", "rungs"),
    [
        (None, ()),
        (SESSION, (2,)),
        (ARMED, (1, 2)),
        (NEARLY_OUT, ()),
    ],
    ids=["no_session", "no_timer_armed", "timer_running", "timer_nearly_out"],
)
def test_fallback_rungs(session: Session | None, rungs: tuple[int, ...]) -> None:
    """Without a timer, power 0 still goes out; a timer about to end is left to end it."""
    assert fallback_rungs(session, PROFILES["generic"].stop_ladder, NOW) == rungs


def test_a_confirmed_stop_forgets_the_session_and_watches_the_flow() -> None:
    """A confirmed stop ends the session, clears the stop fault, watches the flow end."""
    view = _view(grid="-2")  # importing is positive: 2 kW exported
    sent_at = NOW - timedelta(seconds=5)
    state = ControlState(
        session=SESSION,
        stop=OWED,
        fault=ErrorState.DISCHARGE_STOP_FAILED,
        battery_before_start_kw=0.5,
    )
    new, actions = stop_confirmed(
        state,
        StopReason.USER,
        sent_at,
        NOW,
        meters=view.snapshot,
        settings=view.settings,
    )
    assert (new.session, new.pending_stop, new.fault) == (None, None, ErrorState.NONE)
    assert (new.last_stop_at, new.last_stop_reason) == (NOW, StopReason.USER)
    assert new.flow_watch == FlowWatch(
        sent_at=sent_at, power_kw=3.0, export_at_stop_kw=2.0, battery_before_kw=0.5
    )
    assert actions == (Dismiss(ErrorState.DISCHARGE_STOP_FAILED), Publish())
    floored = replace(state, session=replace(SESSION, cutoff_soc=42.0))
    watched, _ = stop_confirmed(
        floored,
        StopReason.USER,
        sent_at,
        NOW,
        meters=view.snapshot,
        settings=view.settings,
    )
    assert watched.flow_watch is not None
    assert watched.flow_watch.floor_soc == 42.0  # the floor stays for the watch


def test_a_stop_sent_again_keeps_the_first_watch() -> None:
    """With no session left, a re-sent stop keeps the flow watch it had."""
    view = _view()
    watch = FlowWatch(
        sent_at=NOW, power_kw=3.0, export_at_stop_kw=None, battery_before_kw=None
    )
    later = NOW + timedelta(seconds=30)
    new, _ = stop_confirmed(
        ControlState(flow_watch=watch),
        StopReason.INVERTER_NOT_OBEYING,
        later,
        later,
        meters=view.snapshot,
        settings=view.settings,
    )
    assert new.flow_watch is watch
    assert new.last_stop_reason is StopReason.INVERTER_NOT_OBEYING
