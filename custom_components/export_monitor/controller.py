"""The discharge session: start only when safe, and stop for sure."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import random
from typing import Any, Final, NoReturn

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .actuator import ActuatorError, ExportMonitorActuator
from .const import DOMAIN, EVENT_DISCHARGE_STARTED, EVENT_DISCHARGE_STOPPED, LOGGER
from .coordinator import ExportMonitorCoordinator
from .floor import ExportMonitorFloor
from .inverter import ExportMonitorInverter
from .logic.cadence import MeterCadence
from .logic.control_start import (
    InverterFacts,
    Observation,
    StartRequest,
    TimerControl,
    assess_start,
    start_bound,
    start_floor,
)
from .logic.control_state import (
    Action,
    AutoStart,
    ControlState,
    Dismiss,
    Notify,
    Publish,
    Rearm,
    Save,
    Step,
    Stop,
    Warn,
    WriteFloor,
    clear_fault,
    set_fault,
)
from .logic.deadman import SHORTEST_TIMER_MINUTES, TimerBound, duration_scale
from .logic.errors import ErrorState
from .logic.latency import FlowWatch, reaction_seconds
from .logic.persist import latency_from_data, session_from_data, session_to_data
from .logic.plan import DischargePlan
from .logic.snapshot import Source, battery_discharge_kw, export_power_kw
from .logic.status import ControllerStatus, MonitorView, is_fault
from .logic.supervision import (
    Session,
    StopReason,
    session_export_kwh,
    timer_seconds_left,
)
from .models import ExportMonitorConfigEntry
from .notifier import ExportMonitorNotifier
from .profiles.base import Role, Write
from .profiles.options import controls, profile
from .profiles.render import WriteValues

STORE_VERSION: Final = 1
SETPOINT_TOLERANCE: Final = 0.001
STOP_RETRIES: Final = 3
STOP_BACKOFF_SECONDS: Final = 1.0
STOP_RETRY_INTERVAL: Final = timedelta(seconds=30)
LATENCY_KEY: Final = "worst_stop_latency_s"
# How long an unload or Home Assistant's stop waits for the session to be written.
SAVE_WAIT_SECONDS: Final = 10.0
# How long Home Assistant's stop waits for the discharge to be stopped and written.
SHUTDOWN_WAIT_SECONDS: Final = 30.0


class StateField[T]:
    """A controller attribute kept in its frozen control state."""

    def __set_name__(self, owner: type, name: str) -> None:
        """Remember the state field of the same name."""
        self._name = name

    def __get__(self, controller: ExportMonitorController, owner: type) -> T:
        """Return the field from the controller's state."""
        value: T = getattr(controller.state, self._name)
        return value

    def __set__(self, controller: ExportMonitorController, value: T) -> None:
        """Replace the controller's state with the field changed."""
        changes: dict[str, Any] = {self._name: value}
        controller.state = replace(controller.state, **changes)


def session_store_key(entry_id: str) -> str:
    """Return the storage key of an entry's discharge session."""
    return f"{DOMAIN}.{entry_id}.session"


def stop_backoff_seconds(attempt: int) -> float:
    """Return the pause before stop retry `attempt`: doubling, with jitter."""
    jitter = random.uniform(0.0, 0.5)  # noqa: S311 - spreading retries, not security
    return STOP_BACKOFF_SECONDS * 2.0**attempt * (1.0 + jitter)


class ExportMonitorController:
    """Owns the one discharge session of an entry: start, stop, persistence."""

    session = StateField[Session | None]()
    fault = StateField[ErrorState]()
    refusal = StateField[ErrorState]()
    pending_stop = StateField[StopReason | None]()
    last_stop_at = StateField[datetime | None]()
    last_stop_reason = StateField[StopReason | None]()
    export_before_start_kw = StateField[float | None]()
    battery_before_start_kw = StateField[float | None]()
    flow_watch = StateField[FlowWatch | None]()
    obey_confirmed = StateField[bool]()
    cutoff_unapplied = StateField[bool]()
    worst_latency_s = StateField[float]()

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ExportMonitorConfigEntry,
        coordinator: ExportMonitorCoordinator,
    ) -> None:
        """Bind to the entry; nothing is read or written yet."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.actuator = ExportMonitorActuator(
            hass, lambda ok: coordinator.async_record_action(success=ok)
        )
        self.inverter = ExportMonitorInverter(
            hass,
            profile(entry.options),
            lambda: controls(self.entry.options),
            self.actuator,
        )
        self.notifier = ExportMonitorNotifier(hass, entry.entry_id, entry.title)
        self.floor = ExportMonitorFloor(hass, entry, coordinator)
        self._store: Store[dict[str, Any]] = Store(
            hass, STORE_VERSION, session_store_key(entry.entry_id)
        )
        self.lock = asyncio.Lock()
        self.state = ControlState()
        self.closing = False
        self.starting = False
        self._stops = 0
        # The start or re-arm holding the lock: a due stop cancels it.
        self._work: asyncio.Task[Any] | None = None
        self._retry_unsub: CALLBACK_TYPE | None = None

    @property
    def cadence(self) -> MeterCadence:
        """Return what is learned of the export meter (owned by the coordinator)."""
        return self.coordinator.cadence

    @cadence.setter
    def cadence(self, cadence: MeterCadence) -> None:
        """Keep a new cadence (persisted with the counter history)."""
        self.coordinator.async_set_cadence(cadence)

    # -- entities we drive ---------------------------------------------------

    def _control(self, role: Role) -> str | None:
        """Return the entity chosen for a role, None when not set."""
        return controls(self.entry.options).get(role)

    @property
    def enable_entity(self) -> str:
        """Return the control that runs the forced discharge, as the user knows it."""
        return self.inverter.shown_entity

    @property
    def active(self) -> bool:
        """Return whether a discharge runs or is still being stopped."""
        return self.session is not None or self.pending_stop is not None

    @property
    def stopping(self) -> bool:
        """Return whether a stop is requested or under way."""
        return self._stops > 0

    @property
    def busy(self) -> bool:
        """Return whether a start or re-arm is in flight."""
        return self._work is not None and not self._work.done()

    def unsupervised(self) -> bool:
        """Return whether the enable entity may discharge with nobody supervising it."""
        if self.session is not None or self.pending_stop is not None:
            return False
        if self.starting or self.stopping:
            return False
        return self.inverter.maybe_running()

    # -- status ----------------------------------------------------------------

    @callback
    def async_publish(self) -> None:
        """Send the controller's status to the coordinator's view."""
        exported = None
        if self.session is not None:
            exported = session_export_kwh(
                self.session,
                self.coordinator.snapshot.value(Source.EXPORTED_TODAY),
            )
        self.coordinator.async_set_controller_status(
            ControllerStatus(
                active=self.active,
                fault=self.fault,
                refusal=self.refusal,
                exported_this_session_kwh=exported,
            )
        )

    @callback
    def set_fault(self, fault: ErrorState, placeholders: dict[str, str]) -> None:
        """Record an actuation fault and tell the user."""
        self.apply(set_fault(self.state, fault, tuple(placeholders.items())))

    @callback
    def clear_fault(self, *faults: ErrorState) -> None:
        """Clear actuation faults that no longer hold, and refusals they caused."""
        self.apply(clear_fault(self.state, *faults))

    @callback
    def apply(self, step: Step) -> None:
        """Take the state a decision returned, then carry out its actions in order."""
        self.state, actions = step
        for action in actions:
            self._execute(action)

    @callback
    def _execute(self, action: Action) -> None:
        """Carry out one action of a decision."""
        match action:
            case Stop(reason=reason, force=force):
                self.request_stop(reason, force=force)
            case Rearm(bound=bound, at=at):
                self.spawn(self.async_rearm(bound, at), "export_monitor re-arm")
            case WriteFloor(soc=soc):
                self.spawn(self._async_write_floor(soc), "export_monitor write cutoff")
            case AutoStart():
                self.spawn(self._async_auto_start(), "export_monitor auto start")
            case Notify(condition=condition, details=details):
                self.notifier.async_raise(condition, dict(details))
            case Dismiss(condition=condition):
                self.notifier.async_clear(condition)
            case Warn(message=message):
                LOGGER.warning("%s", message)
            case Save():
                self._save_soon()
            case Publish():
                self.async_publish()

    async def _async_auto_start(self) -> None:
        """Start automatically; a refusal is recorded, not raised."""
        try:
            await self.async_start(StartRequest(origin="auto"))
        except HomeAssistantError as err:
            LOGGER.debug("Automatic start refused: %s", err)

    async def _async_write_floor(self, floor: float) -> None:
        """Write the cutoff; without it the inverter's own floor is wrong, so stop."""
        try:
            async with self.lock:
                cutoff = await self.async_write_cutoff(floor)
        except ActuatorError as err:
            self.set_fault(ErrorState(str(err.translation_key)), _details(err))
            self.request_stop(StopReason.ACTUATOR_UNAVAILABLE)
            return
        finally:
            self.state = replace(self.state, cutoff_writing=False)
        self.update_session(cutoff_soc=cutoff)
        self.async_publish()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run a coroutine owned by the entry."""
        self.entry.async_create_background_task(self.hass, coro, name)

    # -- persistence -------------------------------------------------------------

    async def async_load_session(self) -> Session | None:
        """Return the session stored before a restart; None when absent or unreadable."""
        try:
            data = await self._store.async_load()
        except NotImplementedError:
            # Written by a newer version of the integration: do not guess at it.
            LOGGER.warning("Ignoring a discharge session stored by a newer version")
            return None
        if not isinstance(data, dict):
            return None
        self.worst_latency_s = latency_from_data(data.get(LATENCY_KEY))
        return session_from_data(data.get("session"))

    @callback
    def _session_data(self) -> dict[str, Any]:
        """Return the current session (or its absence) and the worst stop latency."""
        session = None if self.session is None else session_to_data(self.session)
        return {"session": session, LATENCY_KEY: self.worst_latency_s}

    @callback
    def _save_soon(self) -> None:
        """Write the session in a task, outside the lock: a slow disk must not delay a stop."""
        # The Store keeps the latest data: whichever write runs last writes that.
        self.spawn(self._store.async_save(self._session_data()), "export_monitor save")

    async def async_flush(self) -> None:
        """Write the session now, waiting a bounded time (unload, shutdown)."""
        save = self.hass.async_create_background_task(
            self._store.async_save(self._session_data()), "export_monitor save"
        )
        await asyncio.wait({save}, timeout=SAVE_WAIT_SECONDS)

    @property
    def reaction_s(self) -> float:
        """Return how late a stop may land, from the worst latency seen."""
        return reaction_seconds(self.worst_latency_s)

    # -- start -------------------------------------------------------------------

    def observe(self, view: MonitorView | None = None) -> Observation:
        """Return one look at the world for a decision: the view and the inverter."""
        view = view or self.coordinator.view()
        return Observation(
            view=view,
            inverter=self._facts(view),
            cadence=self.cadence,
            profile=self.inverter.profile,
            reaction_s=self.reaction_s,
        )

    def _facts(self, view: MonitorView) -> InverterFacts:
        """Return what the inverter, its helpers and the work in flight show now."""
        inverter, actuator = self.inverter, self.actuator
        timer_entity = self._control(Role.TIMER)
        timer = None
        if timer_entity is not None:
            timer = TimerControl(
                scale=duration_scale(actuator.unit(timer_entity)),
                step=actuator.step(timer_entity),
                value=actuator.number_value(timer_entity),
            )
        capacity = view.settings.battery_capacity_kwh
        return InverterFacts(
            running=inverter.is_running(),
            running_changed_at=inverter.running_changed_at,
            maybe_running=inverter.maybe_running(),
            readable=inverter.readable,
            timed=inverter.timed,
            timer=timer,
            cutoff_step=actuator.step(self.cutoff_entity),
            kwh_per_percent=self.floor.learning.kwh_per_percent(capacity),
            floor_written_at=self.floor.written_at,
            floor_writes_left=self.floor.writes_left(view.now),
            shown_entity=self.enable_entity,
            raised=self.notifier.raised,
            busy=self.busy,
            starting=self.starting,
            stopping=self.stopping,
            closing=self.closing,
        )

    def calculate(
        self, request: StartRequest
    ) -> tuple[DischargePlan | None, list[str]]:
        """Return the plan a start would use and everything blocking it."""
        return assess_start(self.observe(), request)

    @property
    def cutoff_entity(self) -> str:
        """Return the number entity holding the battery's discharge cutoff SOC."""
        return self._control(Role.CUTOFF) or ""

    async def async_start(self, request: StartRequest) -> None:
        """Start a supervised discharge, or raise a translated reason why not."""
        # In its own task, so that a due stop or an unload can cancel it.
        start = self.entry.async_create_task(
            self.hass, self._async_start(request), "export_monitor start"
        )
        await asyncio.wait({start})
        if start.cancelled():
            raise StartAbortedError(
                translation_domain=DOMAIN, translation_key="discharge_start_aborted"
            )
        start.result()

    async def _async_start(self, request: StartRequest) -> None:
        """Start with the lock held, unless something forbids it."""
        async with self.lock:
            if self.closing:
                raise StartAbortedError(
                    translation_domain=DOMAIN, translation_key="discharge_start_aborted"
                )
            if self.pending_stop is not None:
                self._refuse(ErrorState.DISCHARGE_STOP_FAILED)
            if self.active:
                return
            plan, blockers = self.calculate(request)
            if blockers or plan is None:
                self._refuse(ErrorState(blockers[0]))
            self._work = asyncio.current_task()
            self.starting = True
            try:
                await self._async_actuate_start(plan, request)
            finally:
                self._work = None
                self.starting = False

    def _refuse(self, blocker: ErrorState) -> NoReturn:
        """Record a refused start, tell the user of faults, and raise."""
        self.refusal = blocker
        if is_fault(blocker):
            self.notifier.async_raise(blocker, {})
        self.async_publish()
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key=f"start_blocked_{blocker}"
        )

    async def _async_actuate_start(
        self, plan: DischargePlan, request: StartRequest
    ) -> None:
        """Write power, cutoff, duration, then enable; undo on any failure."""
        now = dt_util.now()
        view = self.coordinator.view(now)
        self.export_before_start_kw = export_power_kw(view.snapshot, view.settings)
        self.battery_before_start_kw = battery_discharge_kw(
            view.snapshot, view.settings
        )
        try:
            written = await self._async_write_start(plan, view)
            self._abort_if_closing()
        except StartAbortedError:
            await self._async_ensure_off()
            raise
        except ActuatorError as err:
            await self._async_ensure_off()
            self.set_fault(ErrorState(str(err.translation_key)), _details(err))
            raise
        self._begin_session(written, request, view)
        self._save_soon()

    def _abort_if_closing(self) -> None:
        """Raise when the entry started closing while the start awaited a write."""
        if self.closing:
            raise StartAbortedError(
                translation_domain=DOMAIN, translation_key="discharge_start_aborted"
            )

    async def _async_write_start(
        self, plan: DischargePlan, view: MonitorView
    ) -> Written:
        """Run the profile's start: setpoints that differ, its timer, activation last."""
        obs = self.observe(view)
        bound = start_bound(obs, plan)
        # The SOC floor, not min SOC: should HA die, the battery stops within headroom.
        floor = start_floor(obs, plan)

        def _before(write: Write) -> None:
            """Abort when closing; note the floor's cutoff write as it goes out."""
            self._abort_if_closing()
            if write.role is Role.CUTOFF:
                self._note_cutoff(floor)

        values = self.write_values(
            power_kw=plan.power_kw,
            cutoff_soc=floor,
            timer_minutes=bound.minutes,
            now=view.now,
        )
        await self.inverter.async_start(values, _before)
        power_entity = self._control(Role.POWER)
        power = None if power_entity is None else self.actuator.power_kw(power_entity)
        return Written(
            plan=plan,
            # The reserve and the checks use the larger of the plan and the setting.
            power_kw=max(plan.power_kw, power or plan.power_kw),
            cutoff_soc=_or(self.inverter.number(Role.CUTOFF), floor),
            backstop_minutes=self._timer_minutes(),
        )

    def write_values(
        self,
        *,
        power_kw: float = 0.0,
        cutoff_soc: float = 100.0,
        timer_minutes: float = 0.0,
        now: datetime | None = None,
    ) -> WriteValues:
        """Return the values a profile's writes are filled in from."""
        return WriteValues(
            now=now or dt_util.now(),
            power_kw=power_kw,
            cutoff_soc=cutoff_soc,
            timer_minutes=timer_minutes,
        )

    def _timer_minutes(self) -> float | None:
        """Return the inverter-side timer as it reads, in minutes (None: no entity)."""
        timer_entity = self._control(Role.TIMER)
        value = self.inverter.number(Role.TIMER)
        if timer_entity is None or value is None:
            return None
        return value * (duration_scale(self.actuator.unit(timer_entity)) or 1.0)

    def _note_cutoff(self, soc: float) -> bool:
        """Record a cutoff write of the floor; False when the cutoff already reads it."""
        cutoff = self.actuator.number_value(self.cutoff_entity)
        if cutoff is not None and abs(cutoff - soc) <= SETPOINT_TOLERANCE:
            return False
        self.floor.note_write(dt_util.now())
        self.floor.owned = (
            abs(soc - self.coordinator.settings.min_soc) > SETPOINT_TOLERANCE
        )
        return True

    async def async_write_cutoff(self, soc: float) -> float:
        """Write the inverter's cutoff SOC unless it already reads `soc`."""
        if self._note_cutoff(soc):
            # A cutoff below the one asked would let the inverter, alone, go further:
            # it is rounded up to the entity's step and must read back at least that.
            await self.inverter.async_set_cutoff(self.write_values(cutoff_soc=soc))
            self.cutoff_unapplied = (
                self.session is not None and self.inverter.profile.cutoff_needs_rearm
            )
        return _or(self.inverter.number(Role.CUTOFF), soc)

    async def _async_restore_cutoff(self) -> None:
        """Put the user's min SOC back on the cutoff once the discharge is off."""
        if not self.floor.owned:
            return  # the cutoff holds no floor of ours
        try:
            await self.async_write_cutoff(self.coordinator.settings.min_soc)
        except ActuatorError as err:
            # A floor left above min SOC is safe, but keeps the battery from the house.
            LOGGER.warning("Could not put the cutoff back to min SOC: %s", err)
            if self.fault is ErrorState.NONE:  # a fault that stopped it says more
                self.set_fault(ErrorState.CUTOFF_SOC_SET_FAILED, _details(err))

    async def async_arm_backstop(self, bound: TimerBound) -> float | None:
        """Write the inverter-side timer; return the minutes read back (None: no entity)."""
        # A timer read back longer than asked would outlast the headroom.
        await self.inverter.async_keepalive(
            self.write_values(timer_minutes=bound.minutes)
        )
        return self._timer_minutes()

    def _begin_session(
        self, written: Written, request: StartRequest, view: MonitorView
    ) -> None:
        """Record the new session, clear old faults, fire the started event."""
        now = view.now
        plan, backstop = written.plan, written.backstop_minutes
        ends_at = None
        if request.duration_minutes is not None:
            # In UTC: local wall-clock arithmetic is an hour off over a clock change.
            ends_at = dt_util.as_utc(now) + timedelta(minutes=request.duration_minutes)
        self.session = Session(
            started_at=now,
            origin=request.origin,
            power_kw=written.power_kw,
            cutoff_soc=written.cutoff_soc,
            start_exported_kwh=view.snapshot.value(Source.EXPORTED_TODAY) or 0.0,
            target_export_kwh=request.target_export_kwh,
            ends_at=ends_at,
            # The window bounds automatic discharges only; a user's start runs on.
            started_in_window=request.origin == "auto" and view.in_export_window,
            backstop_minutes=backstop,
            backstop_armed_at=None if backstop is None else now,
        )
        self.obey_confirmed = False
        self.cutoff_unapplied = False
        # The counter stood (nearly) still while idle: the gap up to its next step is
        # not a meter interval and would inflate the stop reserve of the new session.
        # Intervals are measured from the first change seen in the session, never
        # from its start, and idle gaps never count as meter intervals.
        self.cadence = self.cadence.begin(now)
        self.refusal = ErrorState.NONE
        self.clear_fault(*_START_FAULTS)
        self.hass.bus.async_fire(
            EVENT_DISCHARGE_STARTED,
            {
                "entry_id": self.entry.entry_id,
                "power_kw": plan.power_kw,
                "duration_minutes": round(
                    request.duration_minutes or plan.duration_minutes, 1
                ),
                "reason": request.origin,
            },
        )
        LOGGER.info("Forced discharge started at %.2f kW", plan.power_kw)

    async def _async_ensure_off(self) -> None:
        """After a failed start, turn the enable entity off, whatever it reads."""
        # A switch that updates on its next poll still reads off after a turn-on
        # it took: the off goes out anyway.
        try:
            await self._async_turn_off(extra=True)
        except ActuatorError as err:
            if self.inverter.is_running() is False:
                # It reads off: should it turn on later, the watcher stops it.
                LOGGER.debug("Undo of a failed start not confirmed: %s", err)
                return
            self.pending_stop = StopReason.START_FAILED
            self._stop_failed(err)
            return
        await self._async_restore_cutoff()

    # -- stop ----------------------------------------------------------------------

    async def async_stop(
        self,
        reason: StopReason,
        *,
        force: bool = False,
        raise_on_failure: bool = False,
    ) -> None:
        """Stop the discharge (verified, retried) and tell why.

        A caller waiting for the answer (a user) passes `raise_on_failure`: a stop
        that could not be confirmed then raises, while the slow retry goes on.
        `force` treats the discharge as running whatever the entity reads.
        """
        self._stops += 1
        try:
            async with self.lock:
                error = await self._async_stop_locked(reason, force=force)
        finally:
            self._stops -= 1
        if error is not None and raise_on_failure:
            raise error

    async def _async_stop_locked(
        self, reason: StopReason, *, force: bool
    ) -> ActuatorError | None:
        """Stop with the lock held: retry with backoff, then keep trying slowly."""
        # Nothing readable: only our own session says a discharge runs.
        enable_off = self.inverter.is_running() is False or not self.inverter.readable
        if not force and not self.active and enable_off:
            # Nothing runs: the off still goes out, once, and a failure is no alarm.
            try:
                await self._async_turn_off(extra=True)
            except ActuatorError as err:
                LOGGER.debug("Off for an idle inverter not confirmed: %s", err)
            return None
        error: ActuatorError | None = None
        sent_at = dt_util.now()
        for attempt in range(STOP_RETRIES + 1):
            try:
                await self._async_turn_off()
            except ActuatorError as err:
                error = err
                if attempt < STOP_RETRIES:
                    await asyncio.sleep(stop_backoff_seconds(attempt))
                continue
            self._finish_stop(reason, sent_at)
            self._save_soon()
            await self._async_restore_cutoff()
            return None
        self.pending_stop = self.pending_stop or reason
        if error is not None:
            self._stop_failed(error)
        return error

    async def _async_turn_off(self, *, extra: bool = False) -> None:
        """Send the normal stop and verify it; always sent, even when it reads off."""
        await self.inverter.async_stop(self.write_values(), 0, extra=extra)

    async def async_reconcile_quietly(self) -> None:
        """At start-up with nothing readable and no session: send the reconcile writes."""
        async with self.lock:
            try:
                await self.inverter.async_reconcile(self.write_values())
            except ActuatorError as err:
                LOGGER.warning("Could not reconcile the inverter at start-up: %s", err)

    def _stop_failed(self, error: ActuatorError) -> None:
        """Raise the alarm and keep retrying the stop at a bounded rate."""
        LOGGER.error("Could not stop the forced discharge: %s", error)
        self.set_fault(ErrorState.DISCHARGE_STOP_FAILED, _details(error))
        self.spawn(self._async_shorten_timer(), "export_monitor shorten timer")
        if self._retry_unsub is None:
            self._retry_unsub = async_track_time_interval(
                self.hass, self._async_retry_stop, STOP_RETRY_INTERVAL
            )
            self.entry.async_on_unload(self._cancel_retry)

    async def _async_shorten_timer(self) -> None:
        """Step the stop ladder's fallbacks (the shortest timer first): a second way."""
        session = self.session
        if session is None:
            return
        if timer_seconds_left(session, dt_util.now()) <= SHORTEST_TIMER_MINUTES * 60.0:
            return  # writing would re-arm the timer for longer than it has left
        values = self.write_values(timer_minutes=SHORTEST_TIMER_MINUTES)
        # The profile's fallbacks, in order (generic: the shortest timer, then power 0).
        for rung in range(1, self.inverter.rungs):
            try:
                await self.inverter.async_stop(values, rung)
            except ActuatorError as err:
                LOGGER.debug("Stop fallback %s failed as well: %s", rung, err)

    @callback
    def _cancel_retry(self) -> None:
        """Stop the slow stop-retry timer."""
        if self._retry_unsub is not None:
            self._retry_unsub()
            self._retry_unsub = None

    async def _async_retry_stop(self, _now: datetime) -> None:
        """Try the failed stop once more."""
        if self.lock.locked():
            return
        async with self.lock:
            sent_at = dt_util.now()
            try:
                await self._async_turn_off()
            except ActuatorError:
                return
            self._finish_stop(self.pending_stop or StopReason.USER, sent_at)
            self._save_soon()
            await self._async_restore_cutoff()

    def _finish_stop(self, reason: StopReason, sent_at: datetime) -> None:
        """Forget the session, fire the stopped event, watch the power flow end."""
        self._cancel_retry()
        now = dt_util.now()
        exported = 0.0
        if self.session is not None:
            exported = session_export_kwh(
                self.session,
                self.coordinator.snapshot.shown_value(Source.EXPORTED_TODAY),
            )
            # A re-sent stop keeps the watch (and the latency) of the first one.
            self.flow_watch = FlowWatch(
                sent_at=sent_at,
                power_kw=self.session.power_kw,
                export_at_stop_kw=export_power_kw(
                    self.coordinator.snapshot, self.coordinator.settings
                ),
                battery_before_kw=self.battery_before_start_kw,
            )
        if self.session is not None:
            # A session restored after a restart left its floor on the cutoff.
            min_soc = self.coordinator.settings.min_soc
            self.floor.owned |= self.session.cutoff_soc - min_soc > SETPOINT_TOLERANCE
        self.session = None
        self.cadence = self.cadence.end()
        self.pending_stop = None
        self.last_stop_at = now
        self.last_stop_reason = reason
        self.clear_fault(ErrorState.DISCHARGE_STOP_FAILED)
        self.hass.bus.async_fire(
            EVENT_DISCHARGE_STOPPED,
            {
                "entry_id": self.entry.entry_id,
                "reason": reason,
                "exported_kwh": round(exported, 3),
            },
        )
        LOGGER.info("Forced discharge stopped: %s", reason)

    # -- setup and teardown --------------------------------------------------------

    async def async_shutdown(self, reason: StopReason = StopReason.UNLOAD) -> None:
        """Refuse new starts, abort one in flight, stop first, then write the session."""
        self.closing = True
        in_flight = self.starting
        self._preempt()
        await self.async_stop(reason, force=in_flight)
        await self.async_flush()

    async def async_on_hass_stop(self, _event: Event) -> None:
        """Home Assistant stops: stop the discharge, waiting a bounded time."""
        shutdown = self.hass.async_create_background_task(
            self.async_shutdown(StopReason.SHUTDOWN), "export_monitor shutdown"
        )
        await asyncio.wait({shutdown}, timeout=SHUTDOWN_WAIT_SECONDS)

    @callback
    def request_stop(self, reason: StopReason, *, force: bool = False) -> None:
        """Stop in the background, ahead of any start or re-arm in flight."""
        if self.stopping:
            return
        self._stops += 1
        self._preempt()
        self.spawn(
            self._async_requested_stop(reason, force=force),
            f"export_monitor stop {reason}",
        )

    async def _async_requested_stop(self, reason: StopReason, *, force: bool) -> None:
        """Run a requested stop; the request counts as stopping until it ends."""
        try:
            await self.async_stop(reason, force=force)
        finally:
            self._stops -= 1

    @callback
    def _preempt(self) -> None:
        """Cancel the start or re-arm holding the lock, so a stop goes first."""
        work = self._work
        if work is not None and not work.done() and work is not asyncio.current_task():
            work.cancel()

    async def async_rearm(self, bound: TimerBound, now: datetime) -> None:
        """Re-arm the inverter's timer as cancellable work; stop when it fails."""
        async with self.lock:
            if self.session is None or self.stopping:
                return
            self._work = asyncio.current_task()
            try:
                minutes = await self.async_arm_backstop(bound)
            except ActuatorError as err:
                # Without its timer the inverter has no dead-man: stop, and say why.
                self.set_fault(ErrorState(str(err.translation_key)), _details(err))
                self.request_stop(StopReason.REARM_FAILED)
                return
            finally:
                self._work = None
        self.cutoff_unapplied = False
        self.update_session(backstop_minutes=minutes, backstop_armed_at=now)

    @callback
    def update_session(self, **changes: Any) -> None:
        """Replace fields of the running session."""
        if self.session is not None:
            self.session = replace(self.session, **changes)


_START_FAULTS: Final = (
    ErrorState.DISCHARGE_POWER_SET_FAILED,
    ErrorState.CUTOFF_SOC_SET_FAILED,
    ErrorState.DURATION_SET_FAILED,
    ErrorState.DISCHARGE_START_FAILED,
    # A stalled export counter stopped the last discharge; a new start tries again.
    ErrorState.STALE_DATA,
    ErrorState.UNEXPECTED_DISCHARGE,
    ErrorState.INTERNAL_ERROR,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Written:
    """The setpoints a start left on the inverter, as read back."""

    plan: DischargePlan
    power_kw: float
    cutoff_soc: float
    backstop_minutes: float | None


def _or(value: float | None, default: float) -> float:
    """Return a value read, or the default when nothing was read."""
    return default if value is None else value


class StartAbortedError(HomeAssistantError):
    """A start was cut short: a stop was due, or the entry is closing."""


def _details(err: HomeAssistantError) -> dict[str, str]:
    """Return the placeholders of a translated error, for the notification."""
    return dict(err.translation_placeholders or {})
