"""decide(): every decision of a supervision tick, over a frozen control state."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from ..profiles.base import InverterProfile
from .cadence import MeterCadence
from .control_active import flow_measured_at, supervise
from .control_start import (
    ControlSnapshot,
    Observation,
    StartRequest,
    assess_start,
    inverter_blockers,
)
from .control_state import (
    Action,
    AutoStart,
    ControlState,
    Dismiss,
    Notify,
    Publish,
    RestoreFloor,
    Save,
    Step,
    Stop,
    Warn,
    observation,
    set_fault,
    stop_first,
    view_of,
)
from .errors import ErrorState
from .lag import expected_rise_kw, follow_echo, follow_export
from .latency import (
    FlowWatch,
    WatchAction,
    flow_on,
    latency_seconds,
    may_rest,
    observe,
    watch_action,
)
from .settings import MonitorSettings
from .snapshot import Snapshot, Source, battery_discharge_kw, export_power_kw
from .supervision import (
    AutoStartInputs,
    Session,
    StopReason,
    auto_start_due,
    seconds_between,
)

# A data fault seen while idle is shown to the user once it lasts this long.
NOTIFY_DATA_FAULT_AFTER: Final = timedelta(minutes=2)


def follow_meter(
    state: ControlState,
    cadence: MeterCadence,
    snapshot: Snapshot,
    settings: MonitorSettings,
) -> tuple[ControlState, MeterCadence]:
    """Integrate grid export during a discharge; learn the counter's cadence and lag."""
    session = state.session
    integral = follow_export(
        state.integral,
        None if session is None else session.started_at,
        0.0 if session is None else session.start_exported_kwh,
        snapshot.taken_at,
        export_power_kw(snapshot, settings),
    )
    if integral is not None and session is not None:
        integral, echo = follow_echo(
            integral,
            reported_at(snapshot, Source.GRID_POWER),
            rise_kw(snapshot, settings, state.export_before_start_kw),
            expected_rise_kw(
                session.power_kw,
                state.battery_before_start_kw,
                state.export_before_start_kw,
            ),
        )
        cadence = cadence.learn_echo(echo)
    unshown = 0.0 if integral is None else integral.unshown_seconds
    cadence = cadence.awaiting_echo(unshown)
    state = replace(state, integral=integral)
    reading = snapshot.readings.get(Source.EXPORTED_TODAY)
    value = snapshot.value(Source.EXPORTED_TODAY)
    if value is None or reading is None or not reading.reported_at:
        return state, cadence
    learned = cadence.observe(value, reading.reported_at)
    if integral is not None and learned.last_change_at != cadence.last_change_at:
        learned = learned.learn_lag(integral.lag_seconds(value, snapshot.taken_at))
    return state, learned


def reported_at(snapshot: Snapshot, source: Source) -> datetime | None:
    """Return when a source's reading was last reported, None when unknown."""
    reading = snapshot.readings.get(source)
    return None if reading is None else reading.reported_at


def rise_kw(
    snapshot: Snapshot, settings: MonitorSettings, before_kw: float | None
) -> float | None:
    """Return the export power over the export before the start, None when unknown."""
    export = export_power_kw(snapshot, settings)
    return None if export is None else export - max(0.0, before_kw or 0.0)


def decide(
    state: ControlState,
    snapshot: ControlSnapshot,
    settings: MonitorSettings,
    profile: InverterProfile,
    now: datetime,
) -> Step:
    """Return the state after a supervision tick and what the shell must do, stop first."""
    state, actions = _decide(
        state, observation(state, snapshot, settings, profile, now)
    )
    return state, stop_first(actions)


def _decide(state: ControlState, obs: Observation) -> Step:
    """Decide on one look at the world: notices, then by what runs."""
    state, told = _notifications(state, obs)
    if obs.inverter.stopping or state.pending_stop is not None:
        # A stop is under way, or the slow retry owns an unconfirmed one: never
        # re-arm the inverter's timer or start anything meanwhile.
        return state, told
    if state.session is not None:
        state, actions = supervise(state, obs, state.session)
        return state, told + actions
    if obs.inverter.starting:
        return state, told
    if obs.inverter.maybe_running:
        state, actions = _stop_unsupervised(state, obs)
        return state, told + actions
    state, watched = _check_stopped_flow(state, obs)
    state, cleared = _clear_stale_refusal(state, obs)
    state, refused = _refuse_auto_on_clock(state, obs)
    return state, told + watched + cleared + refused + _auto_start(state, obs)


# -- while idle --------------------------------------------------------------------


def _stop_unsupervised(state: ControlState, obs: Observation) -> Step:
    """Turn off a discharge nobody supervises, and say so."""
    entity = obs.inverter.shown_entity
    warned = Warn(f"{entity} is on with no discharge running: turning it off")
    state, told = set_fault(
        state, ErrorState.UNEXPECTED_DISCHARGE, (("entity_id", entity),)
    )
    return state, (warned, *told, Stop(StopReason.UNEXPECTED_DISCHARGE))


def _check_stopped_flow(state: ControlState, obs: Observation) -> Step:
    """After a stop, watch the power flow end; re-send off while it does not."""
    watch = state.flow_watch
    if watch is None:
        return state, ()
    view = obs.view
    measured_at = flow_measured_at(view)
    flowing = flow_on(
        watch,
        battery_discharge_kw(view.snapshot, view.settings),
        export_power_kw(view.snapshot, view.settings),
    )
    watch = observe(watch, flowing, measured_at)
    # The SOC floor stays on the cutoff until the flow is seen to end: a stop the
    # inverter follows late must not find the battery free down to min SOC. A
    # battery resting at that floor shows no flow either way: it proves nothing.
    resting = may_rest(watch, view.snapshot.value(Source.SOC))
    action = watch_action(watch, flowing, measured_at, view.now, resting=resting)
    if action is WatchAction.ENDED:
        state, actions = record_latency(replace(state, flow_watch=None), obs, watch)
        return state, (*actions, RestoreFloor())
    if action is WatchAction.RESTING:
        # The flow's end is measured once; the floor waits for the watch's end.
        state, actions = record_latency(state, obs, watch)
        return replace(state, flow_watch=replace(watch, flowing_seen_at=None)), actions
    if action is WatchAction.GIVE_UP:
        # Still flowing: the floor is the bound left. Not flowing (resting at the
        # floor for the whole watch, too): min SOC comes back.
        return replace(state, flow_watch=None), () if flowing else (RestoreFloor(),)
    if action is WatchAction.WAIT:
        return replace(state, flow_watch=watch), ()
    state = replace(state, flow_watch=replace(watch, resent_at=view.now))
    entity = (("entity_id", obs.inverter.shown_entity),)
    state, told = set_fault(state, ErrorState.INVERTER_NOT_OBEYING, entity)
    warned = Warn("The inverter kept discharging after it was switched off")
    return state, (warned, *told, Stop(StopReason.INVERTER_NOT_OBEYING))


def record_latency(state: ControlState, obs: Observation, watch: FlowWatch) -> Step:
    """Keep a stop's latency; one slower than the reserve assumed is a fault."""
    latency = latency_seconds(watch)
    actions: tuple[Action, ...] = ()
    if latency > obs.reaction_s:
        entity = (("entity_id", obs.inverter.shown_entity),)
        state, told = set_fault(state, ErrorState.INVERTER_NOT_OBEYING, entity)
        actions += (Warn(f"The inverter took {latency:.0f} s to stop"), *told)
    if latency > state.worst_latency_s:
        state = replace(state, worst_latency_s=latency)
        actions += (Save(),)
    return state, actions


def _clear_stale_refusal(state: ControlState, obs: Observation) -> Step:
    """Forget a refusal reason once it no longer blocks a start."""
    refusal = state.refusal
    view = view_of(state, obs)
    if refusal is ErrorState.NONE or refusal in view.blockers:
        return state, ()
    if refusal in inverter_blockers(obs):
        return state, ()
    if refusal is ErrorState.OUTSIDE_WINDOW and not view.in_export_window:
        return state, ()
    return replace(state, refusal=ErrorState.NONE), (Dismiss(refusal), Publish())


def _refuse_auto_on_clock(state: ControlState, obs: Observation) -> Step:
    """Show why the automatic start waits: the slot's clock shows no time to trust.

    Recorded once as the refusal (no notification: GivTCP's first poll often ends
    it); the automatic start is not tried while it lasts, and it clears by itself.
    """
    view = view_of(state, obs)
    if not (view.settings.auto_discharge and view.in_export_window):
        return state, ()
    if state.refusal is not ErrorState.NONE or not inverter_blockers(obs):
        return state, ()
    return replace(state, refusal=ErrorState.INVERTER_CLOCK_UNREADABLE), (Publish(),)


def _auto_start(state: ControlState, obs: Observation) -> tuple[Action, ...]:
    """Start by itself inside the window when everything allows it."""
    view = view_of(state, obs)
    if not view.settings.auto_discharge or not view.in_export_window:
        return ()
    # The same checks a start makes, so a doomed attempt is never made (and
    # the error state does not flicker with refusals).
    _, blockers = assess_start(replace(obs, view=view), StartRequest(origin="auto"))
    plan = view.snapshot.plan
    due = auto_start_due(
        AutoStartInputs(
            now=view.now,
            enabled=view.settings.auto_discharge,
            in_window=view.in_export_window,
            blockers=tuple(blockers),
            # Bounding by the battery too keeps a battery stopped at min SOC from
            # restarting every few minutes on the little PV it gains (flapping).
            headroom_kwh=None if plan is None else plan.energy_kwh,
            last_stop_at=state.last_stop_at,
            last_stop_reason=state.last_stop_reason,
            not_obeying_today=sum(
                1 for at in state.not_obeying_at if at.date() == view.now.date()
            ),
        )
    )
    # An inverter that ignored a start is retried (each start verified again).
    retried = state.fault in _RETRIED_FAULTS and not obs.inverter.closing
    return (AutoStart(),) if due and retried else ()


# -- notifications -------------------------------------------------------------------


def _notifications(state: ControlState, obs: Observation) -> Step:
    """Show a lasting data fault and an open breaker; dismiss what has cleared."""
    view = obs.view
    raised = obs.inverter.raised
    fault = view.snapshot.data_fault
    actions: tuple[Action, ...] = tuple(
        # A fault the controller holds (an entity gone) is cleared by its owner.
        Dismiss(cleared)
        for cleared in sorted(raised & _DATA_FAULTS)
        if cleared not in (fault, state.fault)
    )
    if fault is ErrorState.NONE:
        state = replace(state, fault_since=None)
    elif state.fault_since is None or state.fault_since[0] != fault:
        state = replace(state, fault_since=(fault, view.now))
    since = state.fault_since
    if since is not None and seconds_between(since[1], view.now) >= _NOTIFY_AFTER_S:
        actions += (Notify(since[0]),)
    if view.action_breaker.can_attempt(view.now):
        actions += (Dismiss(ErrorState.CIRCUIT_BREAKER_OPEN),)
    elif ErrorState.CIRCUIT_BREAKER_OPEN not in raised:
        actions += (Notify(ErrorState.CIRCUIT_BREAKER_OPEN),)
    return state, actions


def may_resume(obs: Observation, stored: Session) -> bool:
    """Return whether the user allows resuming a stored session and every check holds."""
    view = obs.view
    if not view.settings.resume_when_safe or view.blockers:
        return False
    if stored.started_at.astimezone(view.now.tzinfo).date() != view.now.date():
        # Its counters have reset since: today's figures say nothing about it.
        return False
    plan, blockers = assess_start(obs, StartRequest(origin="resume"))
    return plan is not None and not blockers


_NOTIFY_AFTER_S: Final = NOTIFY_DATA_FAULT_AFTER.total_seconds()
_RETRIED_FAULTS: Final = frozenset({ErrorState.NONE, ErrorState.INVERTER_NOT_OBEYING})
_DATA_FAULTS: Final = frozenset(
    {
        ErrorState.NO_DATA,
        ErrorState.SOC_READ_FAILED,
        ErrorState.PV_READ_FAILED,
        ErrorState.EXPORT_READ_FAILED,
        ErrorState.STALE_DATA,
        ErrorState.COUNTER_WENT_BACKWARDS,
        ErrorState.COUNTER_NOT_RESET,
        ErrorState.IMPLAUSIBLE_COUNTER,
        ErrorState.SOURCE_MISSING,
        ErrorState.INTERNAL_ERROR,
    }
)
