"""A user's start and every stop through pure code: may it begin, how a stop steps down."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Final

from ..profiles.base import Role, Write
from .control_start import Observation, StartRequest, assess_start
from .control_state import (
    Action,
    ControlState,
    Notify,
    Publish,
    RetryStopSlowly,
    ShortenBackstop,
    Step,
    clear_fault,
    set_fault,
    view_of,
)
from .deadman import SHORTEST_BACKSTOP_MINUTES
from .errors import ErrorState
from .latency import FlowWatch
from .plan import DischargePlan
from .settings import MonitorSettings
from .snapshot import Snapshot, export_power_kw
from .status import is_fault
from .stop_progress import STOP_RETRY_INTERVAL, stop_given_up, stop_round
from .supervision import Session, StopReason, backstop_seconds_left

# A cutoff this close to a setpoint (min SOC, the SOC) reads as that setpoint.
SETPOINT_TOLERANCE: Final = 0.001


class StartVerdict(StrEnum):
    """What becomes of a start request."""

    ABORT = "abort"  # the entry is closing
    RUNNING = "running"  # a discharge runs already: nothing to do
    REFUSE = "refuse"
    BEGIN = "begin"


@dataclass(frozen=True, slots=True, kw_only=True)
class StartDecision:
    """The verdict on a start request, with its plan or the reason it is refused."""

    verdict: StartVerdict
    plan: DischargePlan | None = None
    blocker: ErrorState = ErrorState.NONE


def decide_start(
    state: ControlState, obs: Observation, request: StartRequest
) -> tuple[ControlState, tuple[Action, ...], StartDecision]:
    """Return whether a start may begin, and the state and actions a refusal leaves."""
    if obs.inverter.closing:
        return state, (), StartDecision(verdict=StartVerdict.ABORT)
    if state.pending_stop is not None:
        return _refuse(state, ErrorState.DISCHARGE_STOP_FAILED)
    if state.session is not None:
        return state, (), StartDecision(verdict=StartVerdict.RUNNING)
    plan, blockers = assess_start(replace(obs, view=view_of(state, obs)), request)
    if plan is None or blockers:
        # No plan comes only with a data fault, which blocks; were there none, no data.
        return _refuse(state, ErrorState(blockers[0] if blockers else "no_data"))
    return state, (), StartDecision(verdict=StartVerdict.BEGIN, plan=plan)


def _refuse(
    state: ControlState, blocker: ErrorState
) -> tuple[ControlState, tuple[Action, ...], StartDecision]:
    """Record a refused start; a fault (not a start condition) is told as well."""
    told: tuple[Action, ...] = (Notify(blocker),) if is_fault(blocker) else ()
    decision = StartDecision(verdict=StartVerdict.REFUSE, blocker=blocker)
    return replace(state, refusal=blocker), (*told, Publish()), decision


def session_floor(session: Session, min_soc: float) -> float | None:
    """Return the floor a session left on the cutoff; None when that is min SOC."""
    if session.cutoff_soc - min_soc > SETPOINT_TOLERANCE:
        return session.cutoff_soc
    return None


def stop_confirmed(
    state: ControlState,
    reason: StopReason,
    sent_at: datetime,
    now: datetime,
    *,
    meters: Snapshot,
    settings: MonitorSettings,
) -> Step:
    """Return the state once a stop is confirmed: no session, the power flow watched."""
    session = state.session
    if session is not None:
        # A re-sent stop (no session left) keeps the watch and latency of the first.
        watch = FlowWatch(
            sent_at=sent_at,
            power_kw=session.power_kw,
            export_at_stop_kw=export_power_kw(meters, settings),
            battery_before_kw=state.battery_before_start_kw,
            floor_soc=session_floor(session, settings.min_soc),
        )
        state = replace(state, flow_watch=watch)
    state = replace(
        state,
        session=None,
        stop=None,
        last_stop_at=now,
        last_stop_reason=reason,
    )
    return clear_fault(state, ErrorState.DISCHARGE_STOP_FAILED)


def stop_confirmed_needed(
    *, force: bool, active: bool, running: bool | None, readable: bool
) -> bool:
    """Return whether a stop must be confirmed; else one off goes out, no alarm."""
    # Nothing readable: only our own session says a discharge runs.
    reads_off = running is False or not readable
    return force or active or not reads_off


def fallback_rungs(
    session: Session | None, ladder: tuple[tuple[Write, ...], ...], now: datetime
) -> tuple[int, ...]:
    """Return the ladder's fallback rungs to send after the normal stop failed."""
    if session is None:
        return ()
    rungs = range(1, len(ladder))
    if session.backstop_minutes is None:
        # No timer runs: every fallback but a timer write (power 0, a safe mode).
        return tuple(
            rung
            for rung in rungs
            if all(write.role is not Role.TIMER for write in ladder[rung])
        )
    if backstop_seconds_left(session, now) <= SHORTEST_BACKSTOP_MINUTES * 60.0:
        # The running timer ends the discharge within a minute; writing the
        # shortest timer would re-arm it for longer than it has left.
        return ()
    return tuple(rungs)


def stop_begun(state: ControlState, reason: StopReason, now: datetime) -> ControlState:
    """Return the state as a round of the normal stop is first sent."""
    return replace(state, stop=stop_round(state.stop, reason, now))


def stop_send_failed(
    state: ControlState,
    reason: StopReason,
    now: datetime,
    details: tuple[tuple[str, str], ...],
    *,
    jitter: float,
    backoff_s: float,
) -> Step:
    """Return the state after a failed send: a quick retry due, or the alarm."""
    progress = state.stop or stop_round(None, reason, now)
    progress = progress.failed(now, jitter=jitter, backoff_s=backoff_s)
    state = replace(state, stop=progress)
    if progress.retry_at is not None:
        return state, ()
    return _alarm(state, details)


def quick_retry_in(state: ControlState, now: datetime) -> float | None:
    """Return the seconds until the stop's quick retry; None when none is due."""
    return None if state.stop is None else state.stop.retry_in(now)


def stop_abandoned(
    state: ControlState,
    reason: StopReason,
    now: datetime,
    details: tuple[tuple[str, str], ...],
) -> Step:
    """Return the state when a stop cannot be confirmed now (a failed start's undo)."""
    state = replace(state, stop=stop_given_up(state.stop, reason, now))
    return _alarm(state, details)


def _alarm(state: ControlState, details: tuple[tuple[str, str], ...]) -> Step:
    """Raise the alarm, send the ladder's fallbacks and keep retrying slowly."""
    state, told = set_fault(state, ErrorState.DISCHARGE_STOP_FAILED, details)
    return state, (*told, ShortenBackstop(), RetryStopSlowly(STOP_RETRY_INTERVAL))
