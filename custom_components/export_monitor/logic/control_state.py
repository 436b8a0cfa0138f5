"""The frozen control state, the actions decide() returns, and fault bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..profiles.base import InverterProfile
from .control_start import ControlSnapshot, Observation
from .deadman import BackstopBound
from .errors import ErrorState
from .lag import ExportIntegral
from .latency import FlowWatch, reaction_seconds
from .settings import MonitorSettings
from .snapshot import Snapshot, Source
from .status import ControllerStatus, MonitorView
from .stop_progress import StopProgress
from .supervision import Session, StopReason, session_export_kwh


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlState:
    """Everything the controller knows of its discharge, as one frozen value."""

    session: Session | None = None
    fault: ErrorState = ErrorState.NONE
    refusal: ErrorState = ErrorState.NONE
    stop: StopProgress | None = None  # a stop under way or not yet confirmed
    last_stop_at: datetime | None = None
    last_stop_reason: StopReason | None = None
    export_before_start_kw: float | None = None
    battery_before_start_kw: float | None = None
    obey_confirmed: bool = False
    flow_lost_at: datetime | None = None
    not_obeying_at: tuple[datetime, ...] = ()
    flow_watch: FlowWatch | None = None
    # A floor written while running that the inverter takes only at a re-arm.
    cutoff_unapplied: bool = False
    cutoff_writing: bool = False
    # The slowest stop seen (command to flow ended), kept across restarts.
    worst_latency_s: float = 0.0
    # Grid export integrated since the running discharge started (logic/lag.py).
    integral: ExportIntegral | None = None
    fault_since: tuple[ErrorState, datetime] | None = None

    @property
    def pending_stop(self) -> StopReason | None:
        """Return the stop whose alarm is up: the slow retry owes its confirmation."""
        return None if self.stop is None else self.stop.alarm


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop the discharge; `force` sends the off whatever the inverter reads."""

    reason: StopReason
    force: bool = True


@dataclass(frozen=True, slots=True)
class Rearm:
    """Re-arm the inverter-side timer within the bound (decided at `at`)."""

    bound: BackstopBound
    at: datetime


@dataclass(frozen=True, slots=True)
class WriteFloor:
    """Write the SOC floor to the inverter's cutoff."""

    soc: float


@dataclass(frozen=True, slots=True)
class RestoreFloor:
    """Put min SOC back on the cutoff: the flow has ended after a stop."""


@dataclass(frozen=True, slots=True)
class ShortenBackstop:
    """Send the stop ladder's fallbacks: the normal stop was not confirmed."""


@dataclass(frozen=True, slots=True)
class RetryStopSlowly:
    """Send the normal stop again this often until it is confirmed."""

    every: timedelta


@dataclass(frozen=True, slots=True)
class AutoStart:
    """Start a discharge automatically."""


@dataclass(frozen=True, slots=True)
class Notify:
    """Tell the user of a condition (a notification and, for faults, an issue)."""

    condition: str
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Dismiss:
    """Take back what the user was told of a condition."""

    condition: str


@dataclass(frozen=True, slots=True)
class Warn:
    """Log a warning."""

    message: str


@dataclass(frozen=True, slots=True)
class Save:
    """Write the control state that outlives a restart."""


@dataclass(frozen=True, slots=True)
class Publish:
    """Send the controller's status to the entities."""


type Action = (
    Stop
    | Rearm
    | WriteFloor
    | RestoreFloor
    | ShortenBackstop
    | RetryStopSlowly
    | AutoStart
    | Notify
    | Dismiss
    | Warn
    | Save
    | Publish
)
type Step = tuple[ControlState, tuple[Action, ...]]


def stop_first(actions: tuple[Action, ...]) -> tuple[Action, ...]:
    """Return the actions with the stop first, the rest in their order.

    The off goes out before anything is told (a notification, a repair, the
    entities' states): that work must not delay it.
    """
    stops = tuple(action for action in actions if isinstance(action, Stop))
    return stops + tuple(action for action in actions if not isinstance(action, Stop))


def set_fault(
    state: ControlState, fault: ErrorState, details: tuple[tuple[str, str], ...] = ()
) -> Step:
    """Record an actuation fault and tell the user."""
    # While a stop is unconfirmed, that stays the fault shown and blocking.
    if state.pending_stop is None or fault is ErrorState.DISCHARGE_STOP_FAILED:
        state = replace(state, fault=fault)
    return state, (Notify(fault, details), Publish())


def clear_fault(state: ControlState, *faults: ErrorState) -> Step:
    """Clear actuation faults that no longer hold, and refusals they caused."""
    if state.fault in faults:
        state = replace(state, fault=ErrorState.NONE)
    if state.refusal in faults:
        state = replace(state, refusal=ErrorState.NONE)
    return state, (*(Dismiss(fault) for fault in faults), Publish())


def view_of(state: ControlState, obs: Observation) -> MonitorView:
    """Return the observed view with the controller's status as the state has it."""
    status = obs.view.controller
    if (status.fault, status.refusal) == (state.fault, state.refusal):
        return obs.view
    status = replace(status, fault=state.fault, refusal=state.refusal)
    return replace(obs.view, controller=status)


def status_of(state: ControlState, meters: Snapshot) -> ControllerStatus:
    """Return the controller's status as the state has it, for the view."""
    session = state.session
    exported = None
    if session is not None:
        exported = session_export_kwh(session, meters.value(Source.EXPORTED_TODAY))
    return ControllerStatus(
        active=session is not None or state.pending_stop is not None,
        fault=state.fault,
        refusal=state.refusal,
        exported_this_session_kwh=exported,
    )


def observation(
    state: ControlState,
    snapshot: ControlSnapshot,
    settings: MonitorSettings,
    profile: InverterProfile,
    now: datetime,
) -> Observation:
    """Return one look at the world from decide()'s arguments."""
    view = MonitorView(
        snapshot=snapshot.meters,
        settings=settings,
        controller=status_of(state, snapshot.meters),
        read_breaker=snapshot.read_breaker,
        action_breaker=snapshot.action_breaker,
        now=now,
    )
    return Observation(
        view=view,
        inverter=snapshot.inverter,
        cadence=snapshot.cadence,
        profile=profile,
        reaction_s=reaction_seconds(state.worst_latency_s),
    )
