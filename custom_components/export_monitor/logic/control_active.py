"""decide() while a discharge runs: stop rules, the SOC floor, the timer, obeying."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ..const import SUPERVISION_INTERVAL
from ..profiles.base import ReadBack, Rearm as RearmMode
from .control_start import (
    Observation,
    alone_bound,
    backstop_backed,
    backstop_fits,
    export_measured,
    floor_now,
)
from .control_state import (
    Action,
    ControlState,
    Notify,
    Publish,
    Rearm,
    Step,
    Stop,
    Warn,
    WriteFloor,
    clear_fault,
    set_fault,
)
from .deadman import (
    BackstopBound,
    RearmAction,
    deadman_power_kw,
    rearm_action,
    timer_changes,
)
from .errors import ErrorState
from .lag import lagged_headroom
from .latency import flow_lost_too_long
from .readings import reserve_age_seconds
from .snapshot import Source, battery_discharge_kw, export_power_kw
from .soc_floor import (
    FloorWrites,
    floor_must_rise,
    floor_reached,
    lower_floor_worth_writing,
    lowered_floor,
)
from .status import MonitorView, is_fault
from .supervision import (
    Session,
    StopReason,
    SupervisionInputs,
    backstop_due,
    backstop_seconds_left,
    discharging,
    obey_check_due,
    rearm_margin_seconds,
    remaining_minutes,
    seconds_between,
    stop_reason,
)


def supervise(state: ControlState, obs: Observation, session: Session) -> Step:
    """Stop when a rule says so; else keep the floor and the inverter's timer."""
    view = obs.view
    inputs = supervision_inputs(state, obs, session)
    reason = stop_reason(inputs, session, obs.cadence, view.settings.min_soc)
    actions: tuple[Action, ...] = ()
    if reason is None:
        state, actions, rests = _sync_cutoff(state, obs, session, inputs.headroom_kwh)
        if rests:
            # The battery rests at its floor: the headroom it allowed is used up.
            reason = StopReason.HEADROOM_EXHAUSTED
    if reason is None:
        state, checked, reason = _check_obeying(state, obs, session)
        actions += checked
    if reason is not None:
        state, stopped = _stop_for(state, obs, reason)
        return state, actions + stopped
    # A floor the inverter takes only at a re-arm is re-armed at once.
    due = backstop_due(session, view.now, _rearm_margin(obs)) or state.cutoff_unapplied
    if session.backstop_minutes is not None and due and not obs.inverter.busy:
        bound = _backstop_bound(state, obs, session)
        left = backstop_seconds_left(session, view.now)
        fits = _rearm_fits(obs, bound) and _rearm_lands(obs, left)
        action = rearm_action(bound, fits, left, obs.reaction_s)
        if action is RearmAction.STOP:
            state, stopped = _stop_for(state, obs, bound.limit)
            return state, actions + stopped
        if action is RearmAction.REARM:
            actions += (Rearm(bound, view.now),)
    return state, (*actions, Publish())


def _rearm_fits(obs: Observation, bound: BackstopBound) -> bool:
    """Return whether a re-arm within the bound can restart the inverter's timer."""
    if not backstop_fits(obs, bound):
        return False
    timer = obs.inverter.timer
    changed_only = obs.profile.backstop.rearm is RearmMode.REWRITE_CHANGED
    # A timer whose unit is not a time: the write itself fails, and says why.
    if not changed_only or timer is None or timer.scale is None:
        return True
    return timer_changes(bound.minutes, timer.scale, timer.step, timer.value)


def _rearm_lands(obs: Observation, left_s: float) -> bool:
    """Return whether a re-arm's activation can go out before the running timer ends.

    Its polled parameters are confirmed first, up to the profile's read-back latency
    (SolarEdge: one 300 s poll when its refresh fails); too late, the timer is left to
    run and the discharge stops just before it ends.
    """
    profile = obs.profile
    params = profile.keepalive[:-1]
    if not any(write.readback is ReadBack.POLLED for write in params):
        return True
    return left_s > profile.readback_latency_s + obs.reaction_s


def _rearm_margin(obs: Observation) -> float:
    """Return how long before its end the timer is re-armed on this inverter."""
    profile = obs.profile
    # Each keep-alive write, and a floor write that may hold the lock, read back in turn.
    writes = len(profile.keepalive) + 1
    return rearm_margin_seconds(obs.reaction_s, writes * profile.readback_latency_s)


def supervision_inputs(
    state: ControlState, obs: Observation, session: Session
) -> SupervisionInputs:
    """Collect what the stop rules look at."""
    view = obs.view
    snapshot = view.snapshot
    exported = snapshot.readings.get(Source.EXPORTED_TODAY)
    return SupervisionInputs(
        now=view.now,
        safe=snapshot.safe,
        headroom_kwh=lagged_headroom(
            snapshot.headroom_kwh, snapshot.value(Source.EXPORTED_TODAY), state.integral
        ),
        soc=snapshot.value(Source.SOC),
        exported_today_kwh=snapshot.value(Source.EXPORTED_TODAY),
        export_age_seconds=reserve_age_seconds(exported),
        grid_export_kw=export_power_kw(snapshot, view.settings),
        breaker_can_attempt=view.action_breaker.can_attempt(view.now),
        in_window=view.in_export_window,
        enable_is_on=_running(obs, session),
        running_readable=obs.inverter.readable,
        reaction_seconds=obs.reaction_s,
        assumed_max_kw=_assumed_max_kw(obs, session),
    )


def _running(obs: Observation, session: Session) -> bool | None:
    """Return whether the export runs; not yet judged while a polled start lands."""
    running = obs.inverter.running
    if running is not False or obs.profile.readback_latency_s <= 0:
        return running
    # The poll may land in the same tick as the latency ends: one tick of slack.
    latency = obs.profile.readback_latency_s + SUPERVISION_INTERVAL.total_seconds()
    changed_at = obs.inverter.running_changed_at
    # A polling integration shows the start at its next poll: not yet "off". One
    # that never changed since the start never showed it: not "switched off
    # elsewhere"; whether the inverter took it, the power flow judges (obey check).
    landing = seconds_between(session.started_at, obs.view.now) <= latency
    return landing or (changed_at is not None and changed_at <= session.started_at)


def _assumed_max_kw(obs: Observation, session: Session) -> float | None:
    """Return the most the inverter may deliver while the meters cannot show it."""
    view = obs.view
    grid = view.snapshot.readings.get(Source.GRID_POWER)
    cap_unmeasured = view.settings.limits.daily_export_cap_kwh is not None and (
        grid is None
    )
    if grid is not None:
        caught_up = export_measured(view, session.started_at)
    else:
        caught_up = obs.cadence.seen_since_start()
    if not cap_unmeasured and caught_up:
        return None
    return deadman_power_kw(
        session.power_kw, session.power_kw, view.settings.inverter_max_kw
    )


def _backstop_bound(
    state: ControlState, obs: Observation, session: Session
) -> BackstopBound:
    """Return how long the inverter may run alone from now, should HA die."""
    snapshot = obs.view.snapshot
    planned = remaining_minutes(
        session,
        snapshot.headroom_kwh or 0.0,
        snapshot.value(Source.EXPORTED_TODAY) or 0.0,
        obs.view.now,
    )
    limit = (
        StopReason.TARGET_REACHED
        if session.ends_at is None
        else StopReason.DURATION_ELAPSED
    )
    surplus = max(0.0, state.export_before_start_kw or 0.0)
    return alone_bound(
        obs, session.power_kw, (planned, limit), surplus, session.started_at
    )


def _sync_cutoff(
    state: ControlState, obs: Observation, session: Session, headroom: float | None
) -> tuple[ControlState, tuple[Action, ...], bool]:
    """Keep the cutoff at the SOC floor: raised at once, lowered when worth a write.

    The flag says whether the battery rests at a floor that is not to be lowered.
    """
    if state.cutoff_writing:
        return state, (), False
    surplus = max(0.0, state.export_before_start_kw or 0.0)
    wanted = floor_now(
        obs, headroom or 0.0, session.power_kw, surplus, session.started_at
    )
    soc = obs.view.snapshot.value(Source.SOC)
    # No floor without a SOC (and no SOC stops the discharge as unsafe data).
    if wanted is None or not _floor_due(obs, session.cutoff_soc, wanted, soc):
        min_soc = obs.view.settings.min_soc
        rests = floor_reached(soc=soc, written=session.cutoff_soc, min_soc=min_soc)
        return state, (), rests
    if not floor_must_rise(session.cutoff_soc, wanted):
        wanted = lowered_floor(session.cutoff_soc, wanted, obs.inverter.cutoff_step)
    return replace(state, cutoff_writing=True), (WriteFloor(wanted),), False


def _floor_due(
    obs: Observation, written: float, wanted: float, soc: float | None
) -> bool:
    """Return whether the cutoff on the inverter should be written now."""
    if floor_must_rise(written, wanted):
        return True
    writes = FloorWrites(
        written=written,
        written_at=obs.inverter.floor_written_at,
        writes_left=obs.inverter.floor_writes_left,
        only_deadman=not backstop_backed(obs),
    )
    return soc is not None and lower_floor_worth_writing(
        writes, wanted=wanted, soc=soc, step=obs.inverter.cutoff_step, now=obs.view.now
    )


def _check_obeying(
    state: ControlState, obs: Observation, session: Session
) -> tuple[ControlState, tuple[Action, ...], StopReason | None]:
    """Return a stop when battery power shows the inverter ignored the start."""
    view = obs.view
    battery = battery_discharge_kw(view.snapshot, view.settings)
    if battery is None:
        return state, (), None
    measured_at = flow_measured_at(view)
    if discharging(session.power_kw, battery):
        state = replace(state, flow_lost_at=None)
        if state.obey_confirmed:
            return state, (), None
        state, cleared = clear_fault(
            replace(state, obey_confirmed=True), ErrorState.INVERTER_NOT_OBEYING
        )
        return state, cleared, None
    if state.obey_confirmed:
        return _flow_lost(state, measured_at)
    if obey_check_due(session.started_at, measured_at):
        return state, (), StopReason.INVERTER_NOT_OBEYING
    return state, (), None


def _flow_lost(
    state: ControlState, measured_at: datetime
) -> tuple[ControlState, tuple[Action, ...], StopReason | None]:
    """Return a stop when the inverter ended the discharge by itself a while ago."""
    lost_at = state.flow_lost_at or measured_at
    state = replace(state, flow_lost_at=lost_at)
    if not flow_lost_too_long(lost_at, measured_at):
        return state, (), None
    # Its own timer ran out (a re-write did not re-arm it) or it dropped out of
    # forced discharge: never let the session believe it still runs.
    warned = Warn("The inverter ended the forced discharge by itself")
    return state, (warned,), StopReason.INVERTER_NOT_OBEYING


def _stop_for(state: ControlState, obs: Observation, reason: StopReason) -> Step:
    """Stop, and tell the user at once when a fault caused it."""
    snapshot = obs.view.snapshot
    actions: tuple[Action, ...] = ()
    if reason is StopReason.DATA_UNSAFE and snapshot.safe:
        # Every source reads fine, but the export counter stopped moving.
        state, told = set_fault(state, ErrorState.STALE_DATA)
        actions += (Warn("The export counter stopped moving during a discharge"), *told)
    if reason is StopReason.DATA_UNSAFE and is_fault(snapshot.data_fault):
        actions += (Notify(snapshot.data_fault),)
    if (
        reason is StopReason.DATA_UNSAFE
        and snapshot.data_fault is ErrorState.SOURCE_MISSING
    ):
        reason = StopReason.SOURCE_REMOVED
    if reason is StopReason.INVERTER_NOT_OBEYING:
        not_obeying = (*state.not_obeying_at, obs.view.now)
        state = replace(state, not_obeying_at=not_obeying)
        state, told = set_fault(state, ErrorState.INVERTER_NOT_OBEYING)
        actions += told
    # An entity that reads off may be glitching: the off is always sent.
    return state, (*actions, Stop(reason))


def flow_measured_at(view: MonitorView) -> datetime:
    """Return when the battery power in hand was measured (now without one)."""
    # A reading from before the grace ended cannot show whether the inverter obeyed:
    # with a slow meter it may predate the command itself.
    reading = view.snapshot.readings.get(Source.BATTERY_POWER)
    if reading is None or not reading.usable or reading.reported_at is None:
        return view.now
    return reading.reported_at
