"""Watch every snapshot: stop, re-arm, check the inverter obeyed, start automatically."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from homeassistant.core import (
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from .actuator import ActuatorError
from .const import LOGGER, SUPERVISION_INTERVAL
from .controller import ExportMonitorController, StartRequest
from .logic.deadman import RearmAction, TimerBound, deadman_power_kw, rearm_action
from .logic.errors import ErrorState
from .logic.lag import ExportIntegral, follow_export, lagged_headroom
from .logic.latency import (
    WatchAction,
    flow_lost_too_long,
    flow_on,
    latency_seconds,
    observe,
    watch_action,
)
from .logic.readings import Reading, reserve_age_seconds
from .logic.snapshot import Snapshot, Source, battery_discharge_kw, export_power_kw
from .logic.soc_floor import floor_reached
from .logic.status import MonitorView, is_fault
from .logic.supervision import (
    AutoStartInputs,
    Session,
    StopReason,
    SupervisionInputs,
    auto_start_due,
    backstop_due,
    discharging,
    obey_check_due,
    remaining_minutes,
    seconds_between,
    stop_reason,
    timer_seconds_left,
)

# A data fault seen while idle is shown to the user once it lasts this long.
NOTIFY_DATA_FAULT_AFTER: Final = timedelta(minutes=2)
RESTART_NOTICE: Final = "discharge_stopped_on_restart"


class ExportMonitorSupervisor:
    """Evaluates the rules on every source update and on a short timer."""

    def __init__(
        self, hass: HomeAssistant, controller: ExportMonitorController
    ) -> None:
        """Bind to the controller it supervises."""
        self.hass = hass
        self.controller = controller
        self.coordinator = controller.coordinator
        self._fault_since: tuple[ErrorState, datetime] | None = None
        self._cutoff_writing = False
        # Grid export integrated since the running discharge started (logic/lag.py).
        self._integral: ExportIntegral | None = None

    @callback
    def async_start(self) -> None:
        """Listen to snapshots and tick; both owned by the entry."""
        entry = self.controller.entry
        entry.async_on_unload(
            self.coordinator.async_add_snapshot_listener(self._async_on_snapshot)
        )
        entry.async_on_unload(
            async_track_time_interval(self.hass, self._async_tick, SUPERVISION_INTERVAL)
        )
        # The running entity's own events: a discharge nobody started is seen at once.
        running = self.controller.inverter.running_entity
        enable = [] if running is None else [running]
        entry.async_on_unload(
            async_track_state_change_event(self.hass, enable, self._async_on_enable)
        )
        entry.async_on_unload(
            async_track_state_report_event(self.hass, enable, self._async_on_enable)
        )

    @callback
    def _async_on_enable(
        self, _event: Event[EventStateChangedData] | Event[EventStateReportedData]
    ) -> None:
        """Evaluate when the enable entity changes or reports."""
        self.async_evaluate()

    @callback
    def _async_tick(self, _now: datetime) -> None:
        """Re-read the sources, which re-evaluates through the snapshot listener."""
        self.coordinator.async_refresh_now()

    @callback
    def _async_on_snapshot(self, snapshot: Snapshot) -> None:
        """Learn the meter cadence and lag, then evaluate."""
        self._follow_meter(snapshot)
        self.async_evaluate()

    def _follow_meter(self, snapshot: Snapshot) -> None:
        """Integrate grid export during a discharge; learn the counter's cadence and lag."""
        controller = self.controller
        session = controller.session
        self._integral = follow_export(
            self._integral,
            None if session is None else session.started_at,
            0.0 if session is None else session.start_exported_kwh,
            snapshot.taken_at,
            export_power_kw(snapshot, self.coordinator.settings),
        )
        reading = snapshot.readings.get(Source.EXPORTED_TODAY)
        value = snapshot.value(Source.EXPORTED_TODAY)
        if value is None or reading is None or not reading.reported_at:
            return
        before = controller.cadence
        cadence = before.observe(value, reading.reported_at)
        if (
            self._integral is not None
            and cadence.last_change_at != before.last_change_at
        ):
            lag = self._integral.lag_seconds(value, snapshot.taken_at)
            cadence = cadence.learn_lag(lag)
        controller.cadence = cadence

    @callback
    def async_evaluate(self) -> None:
        """Apply the rules to the latest view; any exception is a fault and a stop."""
        try:
            self._evaluate()
        except Exception:  # noqa: BLE001 - any failure here must fail closed
            LOGGER.exception("Supervision failed; stopping any discharge")
            self._fail_closed()

    @callback
    def _fail_closed(self) -> None:
        """Stop after an exception in the rules, and say so."""
        controller = self.controller
        controller.set_fault(ErrorState.INTERNAL_ERROR, {})
        if controller.active or controller.unsupervised():
            controller.request_stop(StopReason.INTERNAL_ERROR, force=True)

    def _evaluate(self) -> None:
        """Apply the rules; never skipped while a start or re-arm holds the lock."""
        controller = self.controller
        view = self.coordinator.view()
        self._sync_data_notifications(view)
        self._sync_breaker_notification(view)
        if controller.stopping or controller.pending_stop is not None:
            # A stop is under way, or the slow retry owns an unconfirmed one: never
            # re-arm the inverter's timer or start anything meanwhile.
            return
        if controller.session is not None:
            self._supervise(view, controller.session)
            return
        if controller.starting:
            return
        if controller.unsupervised():
            controller.stop_unsupervised()
            return
        self._check_stopped_flow(view)
        self._clear_stale_refusal(view)
        self._maybe_auto_start(view)

    # -- while active --------------------------------------------------------------

    def _inputs(self, view: MonitorView) -> SupervisionInputs:
        """Collect what the stop rules look at."""
        snapshot = view.snapshot
        exported = snapshot.readings.get(Source.EXPORTED_TODAY)
        return SupervisionInputs(
            now=view.now,
            safe=snapshot.safe,
            headroom_kwh=lagged_headroom(
                snapshot.headroom_kwh,
                snapshot.value(Source.EXPORTED_TODAY),
                self._integral,
            ),
            soc=snapshot.value(Source.SOC),
            exported_today_kwh=snapshot.value(Source.EXPORTED_TODAY),
            export_age_seconds=reserve_age_seconds(exported),
            grid_export_kw=export_power_kw(snapshot, view.settings),
            breaker_can_attempt=view.action_breaker.can_attempt(view.now),
            in_window=view.in_export_window,
            enable_is_on=self._running(view),
            running_readable=self.controller.inverter.readable,
            reaction_seconds=self.controller.reaction_s,
            assumed_max_kw=self._assumed_max_kw(view),
        )

    def _running(self, view: MonitorView) -> bool | None:
        """Return whether the export runs; not yet judged while a polled start lands."""
        inverter = self.controller.inverter
        session = self.controller.session
        running = inverter.is_running()
        # The poll may land in the same tick as the latency ends: one tick of slack.
        latency = inverter.profile.readback_latency_s
        if (
            running is False
            and latency > 0
            and session is not None
            and seconds_between(session.started_at, view.now)
            <= latency + SUPERVISION_INTERVAL.total_seconds()
        ):
            # A polling integration shows the start at its next poll: not yet "off"
            # (the obey check on the power flow still runs).
            return True
        return running

    def _assumed_max_kw(self, view: MonitorView) -> float | None:
        """Return the most the inverter may deliver while the meters cannot show it."""
        controller = self.controller
        session = controller.session
        if session is None:
            return None
        grid = view.snapshot.readings.get(Source.GRID_POWER)
        cap_unmeasured = (
            view.settings.limits.daily_export_cap_kwh is not None and grid is None
        )
        if not cap_unmeasured and self._meters_caught_up(session, grid):
            return None
        return deadman_power_kw(
            session.power_kw, session.power_kw, view.settings.inverter_max_kw
        )

    def _meters_caught_up(self, session: Session, grid: Reading | None) -> bool:
        """Return whether a reading taken after the start shows the export."""
        if grid is not None:
            at = grid.reported_at
            return grid.usable and at is not None and at >= session.started_at
        return self.controller.cadence.seen_since_start()

    def _supervise(self, view: MonitorView, session: Session) -> None:
        """Stop when a rule says so; else keep the inverter's timer armed."""
        reason = stop_reason(
            self._inputs(view), session, self.controller.cadence, view.settings.min_soc
        )
        if reason is None and self._sync_cutoff(view, session):
            # The battery rests at its floor: the headroom it allowed is used up.
            reason = StopReason.HEADROOM_EXHAUSTED
        if reason is None:
            reason = self._check_obeying(view)
        if reason is not None:
            self._stop_for(reason, view)
            return
        # A floor the inverter takes only at a re-arm is re-armed at once.
        due = backstop_due(session, view.now) or self.controller.cutoff_unapplied
        if session.backstop_minutes is not None and due and not self.controller.busy:
            bound = self._timer_bound(view, session)
            action = rearm_action(
                bound,
                self.controller.timer_fits(bound),
                timer_seconds_left(session, view.now),
            )
            if action is RearmAction.REARM:
                self.controller.spawn(
                    self.controller.async_rearm(bound, view.now),
                    "export_monitor re-arm",
                )
            elif action is RearmAction.STOP:
                self._stop_for(bound.limit, view)
                return
        self.controller.async_publish()

    def _timer_bound(self, view: MonitorView, session: Session) -> TimerBound:
        """Return how long the inverter may run alone from now, should HA die."""
        snapshot = view.snapshot
        planned = remaining_minutes(
            session,
            snapshot.headroom_kwh or 0.0,
            snapshot.value(Source.EXPORTED_TODAY) or 0.0,
            view.now,
        )
        limit = (
            StopReason.TARGET_REACHED
            if session.ends_at is None
            else StopReason.DURATION_ELAPSED
        )
        surplus = max(0.0, self.controller.export_before_start_kw or 0.0)
        return self.controller.timer_bound(
            view, session.power_kw, (planned, limit), surplus
        )

    def _stop_for(self, reason: StopReason, view: MonitorView) -> None:
        """Stop, and tell the user at once when a fault caused it."""
        if reason is StopReason.DATA_UNSAFE and view.snapshot.safe:
            # Every source reads fine, but the export counter stopped moving.
            LOGGER.warning("The export counter stopped moving during a discharge")
            self.controller.set_fault(ErrorState.STALE_DATA, {})
        if reason is StopReason.DATA_UNSAFE and is_fault(view.snapshot.data_fault):
            self.controller.notifier.async_raise(view.snapshot.data_fault, {})
        if (
            reason is StopReason.DATA_UNSAFE
            and view.snapshot.data_fault is ErrorState.SOURCE_MISSING
        ):
            reason = StopReason.SOURCE_REMOVED
        if reason is StopReason.INVERTER_NOT_OBEYING:
            self.controller.not_obeying_at += (view.now,)
            self.controller.set_fault(ErrorState.INVERTER_NOT_OBEYING, {})
        # An entity that reads off may be glitching: the off is always sent.
        self.controller.request_stop(reason, force=True)

    def _sync_cutoff(self, view: MonitorView, session: Session) -> bool:
        """Keep the cutoff at the SOC floor: raised at once, lowered when worth a write.

        Return whether the battery rests at a floor that is not to be lowered.
        """
        controller = self.controller
        if self._cutoff_writing:
            return False
        wanted = controller.floor_now(
            view,
            self._inputs(view).headroom_kwh or 0.0,
            session.power_kw,
            max(0.0, controller.export_before_start_kw or 0.0),
        )
        step = controller.actuator.step(controller.cutoff_entity)
        soc = view.snapshot.value(Source.SOC)
        if wanted is None:
            return False
        if not controller.floor.due(session.cutoff_soc, wanted, soc, step, view.now):
            written, min_soc = session.cutoff_soc, view.settings.min_soc
            return floor_reached(soc=soc, written=written, min_soc=min_soc)
        self._cutoff_writing = True
        controller.spawn(
            self._async_write_cutoff(wanted), "export_monitor write cutoff"
        )
        return False

    async def _async_write_cutoff(self, floor: float) -> None:
        """Write the cutoff; without it the inverter's own floor is wrong, so stop."""
        controller = self.controller
        try:
            async with controller.lock:
                cutoff = await controller.async_write_cutoff(floor)
        except ActuatorError as err:
            controller.set_fault(
                ErrorState(str(err.translation_key)),
                dict(err.translation_placeholders or {}),
            )
            controller.request_stop(StopReason.ACTUATOR_UNAVAILABLE)
            return
        finally:
            self._cutoff_writing = False
        controller.update_session(cutoff_soc=cutoff)
        controller.async_publish()

    def _check_obeying(self, view: MonitorView) -> StopReason | None:
        """Return a stop when battery power shows the inverter ignored the start."""
        controller = self.controller
        session = controller.session
        battery = battery_discharge_kw(view.snapshot, view.settings)
        if session is None or battery is None:
            return None
        measured_at = _flow_measured_at(view)
        if discharging(session.power_kw, battery):
            controller.flow_lost_at = None
            if not controller.obey_confirmed:
                controller.obey_confirmed = True
                controller.clear_fault(ErrorState.INVERTER_NOT_OBEYING)
            return None
        if controller.obey_confirmed:
            return self._flow_lost(measured_at)
        if obey_check_due(session.started_at, measured_at):
            return StopReason.INVERTER_NOT_OBEYING
        return None

    def _flow_lost(self, measured_at: datetime) -> StopReason | None:
        """Return a stop when the inverter ended the discharge by itself a while ago."""
        controller = self.controller
        if controller.flow_lost_at is None:
            controller.flow_lost_at = measured_at
        if not flow_lost_too_long(controller.flow_lost_at, measured_at):
            return None
        # Its own timer ran out (a re-write did not re-arm it) or it dropped out of
        # forced discharge: never let the session believe it still runs.
        LOGGER.warning("The inverter ended the forced discharge by itself")
        return StopReason.INVERTER_NOT_OBEYING

    # -- while idle ------------------------------------------------------------------

    def _check_stopped_flow(self, view: MonitorView) -> None:
        """After a stop, watch the power flow end; re-send off while it does not."""
        controller = self.controller
        watch = controller.flow_watch
        if watch is None:
            return
        measured_at = _flow_measured_at(view)
        flowing = flow_on(
            watch,
            battery_discharge_kw(view.snapshot, view.settings),
            export_power_kw(view.snapshot, view.settings),
        )
        watch = observe(watch, flowing, measured_at)
        action = watch_action(watch, flowing, measured_at, view.now)
        controller.flow_watch = watch
        if action is WatchAction.ENDED:
            controller.flow_watch = None
            controller.record_latency(latency_seconds(watch))
        elif action is WatchAction.GIVE_UP:
            controller.flow_watch = None
        elif action is WatchAction.RESEND:
            LOGGER.warning("The inverter kept discharging after it was switched off")
            controller.flow_watch = replace(watch, resent_at=view.now)
            controller.set_fault(
                ErrorState.INVERTER_NOT_OBEYING,
                {"entity_id": controller.enable_entity},
            )
            controller.request_stop(StopReason.INVERTER_NOT_OBEYING, force=True)

    def _clear_stale_refusal(self, view: MonitorView) -> None:
        """Forget a refusal reason once it no longer blocks a start."""
        refusal = self.controller.refusal
        if refusal is ErrorState.NONE:
            return
        if refusal is ErrorState.OUTSIDE_WINDOW and not view.in_export_window:
            return
        if refusal not in view.blockers:
            self.controller.refusal = ErrorState.NONE
            self.controller.notifier.async_clear(refusal)
            self.controller.async_publish()

    def _maybe_auto_start(self, view: MonitorView) -> None:
        """Start by itself inside the window when everything allows it."""
        controller = self.controller
        if not view.settings.auto_discharge or not view.in_export_window:
            return
        # The same checks a start makes, so a doomed attempt is never made (and
        # the error state does not flicker with refusals).
        _, blockers = controller.calculate(StartRequest(origin="auto"))
        due = auto_start_due(
            AutoStartInputs(
                now=view.now,
                enabled=view.settings.auto_discharge,
                in_window=view.in_export_window,
                blockers=tuple(blockers),
                headroom_kwh=_exportable_kwh(view),
                last_stop_at=controller.last_stop_at,
                last_stop_reason=controller.last_stop_reason,
                not_obeying_today=sum(
                    1
                    for at in controller.not_obeying_at
                    if at.date() == view.now.date()
                ),
            )
        )
        # An inverter that ignored a start is retried (each start verified again).
        if due and controller.fault in _RETRIED_FAULTS and not controller.closing:
            controller.spawn(self._async_auto_start(), "export_monitor auto start")

    async def _async_auto_start(self) -> None:
        """Start automatically; a refusal is recorded, not raised."""
        try:
            await self.controller.async_start(StartRequest(origin="auto"))
        except HomeAssistantError as err:
            LOGGER.debug("Automatic start refused: %s", err)

    # -- notifications ----------------------------------------------------------------

    def _sync_data_notifications(self, view: MonitorView) -> None:
        """Show a lasting data fault; dismiss data faults that have cleared."""
        notifier = self.controller.notifier
        fault = view.snapshot.data_fault
        for raised in notifier.raised & _DATA_FAULTS:
            # A fault the controller holds (an entity gone) is cleared by its owner.
            if raised not in (fault, self.controller.fault):
                notifier.async_clear(raised)
        if fault is ErrorState.NONE:
            self._fault_since = None
            return
        if self._fault_since is None or self._fault_since[0] != fault:
            self._fault_since = (fault, view.now)
        since = seconds_between(self._fault_since[1], view.now)
        if since >= NOTIFY_DATA_FAULT_AFTER.total_seconds():
            notifier.async_raise(fault, {})

    def _sync_breaker_notification(self, view: MonitorView) -> None:
        """Show the breaker while it refuses calls; dismiss it once it closes."""
        notifier = self.controller.notifier
        if not view.action_breaker.can_attempt(view.now):
            if ErrorState.CIRCUIT_BREAKER_OPEN not in notifier.raised:
                notifier.async_raise(ErrorState.CIRCUIT_BREAKER_OPEN, {})
        else:
            notifier.async_clear(ErrorState.CIRCUIT_BREAKER_OPEN)

    # -- restart -------------------------------------------------------------------------

    async def async_reconcile(self) -> None:
        """After a restart or reload: adopt a safe discharge, else stop what we find."""
        controller = self.controller
        stored = await controller.async_load_session()
        enable_on = controller.inverter.is_running()
        if stored is None and enable_on is False:
            return
        if stored is None and not controller.inverter.readable:
            await controller.async_reconcile_quietly()
            return
        view = self.coordinator.view()
        if stored is not None and enable_on and self._may_resume(view, stored):
            controller.session = stored
            controller.obey_confirmed = False
            LOGGER.info("Resumed supervising the forced discharge after a restart")
            controller.async_publish()
            return
        controller.session = stored
        await controller.async_stop(StopReason.RESTART)
        readable = controller.inverter.readable
        if enable_on is True or (enable_on is None and (readable or stored)):
            # Only a switch found on (or unreadable) means a discharge was running;
            # an inverter with nothing to read ran one only if a session was stored.
            controller.notifier.async_raise(
                RESTART_NOTICE, {"entity_id": controller.enable_entity}
            )

    def _may_resume(self, view: MonitorView, stored: Session) -> bool:
        """Return whether the user allows resuming and every start condition holds."""
        if not view.settings.resume_when_safe or view.blockers:
            return False
        if dt_util.as_local(stored.started_at).date() != view.now.date():
            # Its counters have reset since: today's figures say nothing about it.
            return False
        plan, blockers = self.controller.calculate(StartRequest(origin="resume"))
        return plan is not None and not blockers


def _flow_measured_at(view: MonitorView) -> datetime:
    """Return when the battery power in hand was measured (now without one)."""
    # A reading from before the grace ended cannot show whether the inverter obeyed:
    # with a slow meter it may predate the command itself.
    reading = view.snapshot.readings.get(Source.BATTERY_POWER)
    if reading is None or not reading.usable or reading.reported_at is None:
        return view.now
    return reading.reported_at


def _exportable_kwh(view: MonitorView) -> float | None:
    """Return what a start could export now: headroom and energy above min SOC."""
    # Bounding by the battery too keeps a battery stopped at min SOC from restarting
    # every few minutes on the little PV it gains (flapping).
    plan = view.snapshot.plan
    return None if plan is None else plan.energy_kwh


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
