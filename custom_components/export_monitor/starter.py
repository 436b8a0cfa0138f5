"""Start a discharge through the profile: setpoints, floor, timer, activation; undo on failure."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .actuator import ActuatorError
from .const import DOMAIN, EVENT_DISCHARGE_STARTED, LOGGER
from .logic.control_requests import SETPOINT_TOLERANCE, StartVerdict, decide_start
from .logic.control_start import StartRequest, start_bound, start_floor
from .logic.deadman import BackstopBound
from .logic.errors import START_FAULTS, ErrorState
from .logic.plan import DischargePlan
from .logic.snapshot import Source, battery_discharge_kw, export_power_kw
from .logic.status import MonitorView
from .logic.supervision import Session, StopReason
from .profiles.base import Role, Write
from .profiles.render import WriteValues
from .stopper import error_details

if TYPE_CHECKING:
    from .controller import ExportMonitorController


class ExportMonitorStarter:
    """Starts the discharges of an entry, re-arms their timer and writes their floor."""

    def __init__(self, controller: ExportMonitorController) -> None:
        """Bind to the controller whose state a start changes."""
        self.controller = controller
        self.starting = False
        # The start or re-arm holding the lock: a due stop cancels it.
        self.work: asyncio.Task[Any] | None = None
        # A re-arm spawned and not finished (it may wait for the lock).
        self.rearm_queued = False

    @property
    def busy(self) -> bool:
        """Return whether a start or re-arm is in flight, or a re-arm waits for the lock."""
        return self.rearm_queued or (self.work is not None and not self.work.done())

    @callback
    def spawn_rearm(self, bound: BackstopBound, now: datetime) -> None:
        """Re-arm in a task, one at a time (a re-arm waiting for the lock counts).

        Every source update while one waits for the lock (a floor write in flight)
        would otherwise queue one more.
        """
        if self.rearm_queued:
            return
        self.rearm_queued = True
        self.controller.spawn(
            self._async_rearm_once(bound, now), "export_monitor re-arm"
        )

    async def _async_rearm_once(self, bound: BackstopBound, now: datetime) -> None:
        """Re-arm, then let the next re-arm be spawned."""
        try:
            await self.async_rearm(bound, now)
        finally:
            self.rearm_queued = False

    async def async_start(self, request: StartRequest) -> None:
        """Start a supervised discharge, or raise a translated reason why not."""
        # In its own task, so that a due stop or an unload can cancel it.
        start = self.controller.entry.async_create_task(
            self.controller.hass, self._async_start(request), "export_monitor start"
        )
        await asyncio.wait({start})
        if start.cancelled():
            raise StartAbortedError(
                translation_domain=DOMAIN, translation_key="discharge_start_aborted"
            )
        start.result()

    async def _async_start(self, request: StartRequest) -> None:
        """Start with the lock held, unless something forbids it."""
        controller = self.controller
        async with controller.lock:
            # Read the sources now: the last read may be a supervision interval old,
            # and data that aged past the staleness limit since must refuse the start.
            controller.coordinator.async_refresh_now()
            state, actions, decision = decide_start(
                controller.state, controller.observe(), request
            )
            controller.apply((state, actions))
            if decision.verdict is StartVerdict.ABORT:
                raise StartAbortedError(
                    translation_domain=DOMAIN, translation_key="discharge_start_aborted"
                )
            if decision.verdict is StartVerdict.REFUSE:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key=f"start_blocked_{decision.blocker}",
                )
            if decision.plan is None:
                return  # a discharge runs already
            self.work = asyncio.current_task()
            self.starting = True
            try:
                await self._async_actuate_start(decision.plan, request)
            finally:
                self.work = None
                self.starting = False

    async def _async_actuate_start(
        self, plan: DischargePlan, request: StartRequest
    ) -> None:
        """Write power, cutoff, duration, then enable; undo on any failure."""
        now = dt_util.now()
        view = self.controller.coordinator.view(now)
        self.controller.export_before_start_kw = export_power_kw(
            view.snapshot, view.settings
        )
        self.controller.battery_before_start_kw = battery_discharge_kw(
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
            self.controller.set_fault(
                ErrorState(str(err.translation_key)), error_details(err)
            )
            raise
        self._begin_session(written, request, view)
        self.controller.save_soon()

    def _abort_if_closing(self) -> None:
        """Raise when the entry started closing while the start awaited a write."""
        if self.controller.closing:
            raise StartAbortedError(
                translation_domain=DOMAIN, translation_key="discharge_start_aborted"
            )

    async def _async_write_start(
        self, plan: DischargePlan, view: MonitorView
    ) -> Written:
        """Run the profile's start: setpoints that differ, its timer, activation last."""
        obs = self.controller.observe(view)
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
            backstop_minutes=bound.minutes,
            now=view.now,
        )
        await self.controller.inverter.async_start(values, _before)
        power_entity = self.controller.control(Role.POWER)
        power = (
            None
            if power_entity is None
            else self.controller.actuator.power_kw(power_entity)
        )
        return Written(
            plan=plan,
            # The reserve and the checks use the larger of the plan and the setting.
            power_kw=max(plan.power_kw, power or plan.power_kw),
            cutoff_soc=_or(self.controller.inverter.number(Role.CUTOFF), floor),
            backstop_minutes=self._backstop_minutes(),
        )

    def write_values(
        self,
        *,
        power_kw: float = 0.0,
        cutoff_soc: float = 100.0,
        backstop_minutes: float = 0.0,
        now: datetime | None = None,
    ) -> WriteValues:
        """Return the values a profile's writes are filled in from."""
        return WriteValues(
            now=now or dt_util.now(),
            power_kw=power_kw,
            cutoff_soc=cutoff_soc,
            backstop_minutes=backstop_minutes,
        )

    def _backstop_minutes(self) -> float | None:
        """Return the inverter-side timer armed, in minutes (None: none expires)."""
        return self.controller.inverter.backstop_minutes()

    def _note_cutoff(self, soc: float) -> bool:
        """Record a cutoff write of the floor; False when the cutoff already reads it."""
        cutoff = self.controller.actuator.number_value(self.controller.cutoff_entity)
        if cutoff is not None and abs(cutoff - soc) <= SETPOINT_TOLERANCE:
            return False
        self.controller.floor.note_write(dt_util.now())
        min_soc = self.controller.coordinator.settings.min_soc
        if abs(soc - min_soc) > SETPOINT_TOLERANCE:
            # Ours before it goes out; min SOC makes it the user's only once read back.
            self.controller.floor.owned = True
        return True

    async def async_write_cutoff(self, soc: float) -> float:
        """Write the inverter's cutoff SOC unless it already reads `soc`."""
        if self._note_cutoff(soc):
            # A cutoff below the one asked would let the inverter, alone, go further:
            # it is rounded up to the entity's step and must read back at least that.
            await self.controller.inverter.async_set_cutoff(
                self.write_values(cutoff_soc=soc)
            )
            self.controller.cutoff_unapplied = (
                self.controller.session is not None
                and self.controller.inverter.profile.cutoff_needs_rearm
            )
        return _or(self.controller.inverter.number(Role.CUTOFF), soc)

    async def async_restore_cutoff(self) -> None:
        """Put the user's min SOC back on the cutoff once the discharge is off."""
        if not self.controller.floor.owned:
            return  # the cutoff holds no floor of ours
        try:
            await self.async_write_cutoff(self.controller.coordinator.settings.min_soc)
        except ActuatorError as err:
            # A floor left above min SOC is safe, but keeps the battery from the house.
            # It stays ours: the next stop or start-up tries again.
            LOGGER.warning("Could not put the cutoff back to min SOC: %s", err)
            if (
                self.controller.fault is ErrorState.NONE
            ):  # a fault that stopped it says more
                self.controller.set_fault(
                    ErrorState.CUTOFF_SOC_SET_FAILED, error_details(err)
                )
            return
        self.controller.floor.owned = False
        self.controller.clear_fault(ErrorState.CUTOFF_SOC_SET_FAILED)

    async def async_arm_backstop(self, bound: BackstopBound) -> float | None:
        """Write the inverter-side timer; return the minutes read back (None: no entity)."""
        # A timer read back longer than asked would outlast the headroom.
        # A keep-alive that re-sends the whole command (a service) carries the power.
        session = self.controller.session
        power = 0.0 if session is None else session.power_kw
        await self.controller.inverter.async_keepalive(
            self.write_values(backstop_minutes=bound.minutes, power_kw=power)
        )
        return self._backstop_minutes()

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
        self.controller.session = Session(
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
        self.controller.obey_confirmed = False
        self.controller.cutoff_unapplied = False
        # The counter stood (nearly) still while idle: the gap up to its next step is
        # not a meter interval and would inflate the stop reserve of the new session.
        # Intervals are measured from the first change seen in the session, never
        # from its start, and idle gaps never count as meter intervals.
        self.controller.cadence = self.controller.cadence.begin(now)
        self.controller.refusal = ErrorState.NONE
        self.controller.clear_fault(*START_FAULTS)
        self.controller.hass.bus.async_fire(
            EVENT_DISCHARGE_STARTED,
            {
                "entry_id": self.controller.entry.entry_id,
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
            await self.controller.stopper.async_turn_off(extra=True)
        except ActuatorError as err:
            if self.controller.inverter.is_running() is False:
                # It reads off: should it turn on later, the watcher stops it.
                LOGGER.debug("Undo of a failed start not confirmed: %s", err)
                return
            self.controller.stopper.stop_failed(StopReason.START_FAILED, err)
            return
        await self.controller.stopper.async_put_back()

    async def async_rearm(self, bound: BackstopBound, now: datetime) -> None:
        """Re-arm the inverter's timer as cancellable work; stop when it fails."""
        try:
            async with self.controller.lock:
                if self.controller.session is None or self.controller.stopping:
                    return
                self.work = asyncio.current_task()
                try:
                    minutes = await self.async_arm_backstop(bound)
                finally:
                    self.work = None
        except ActuatorError as err:
            # Without its timer the inverter has no dead-man: stop (with the lock
            # free, so the off goes out at once), then say why.
            self.controller.stopper.request_stop(StopReason.REARM_FAILED)
            self.controller.set_fault(
                ErrorState(str(err.translation_key)), error_details(err)
            )
            return
        self.controller.cutoff_unapplied = False
        self.controller.update_session(backstop_minutes=minutes, backstop_armed_at=now)

    async def async_auto_start(self) -> None:
        """Start automatically; a refusal is recorded, not raised."""
        try:
            await self.async_start(StartRequest(origin="auto"))
        except HomeAssistantError as err:
            LOGGER.debug("Automatic start refused: %s", err)

    async def async_write_floor(self, floor: float) -> None:
        """Write the cutoff; without it the inverter's own floor is wrong, so stop."""
        try:
            async with self.controller.lock:
                if self.controller.session is None:
                    return  # stopped meanwhile (the stop goes first): no floor wanted
                cutoff = await self.async_write_cutoff(floor)
        except ActuatorError as err:
            # The off goes out first, then the user is told.
            self.controller.stopper.request_stop(StopReason.ACTUATOR_UNAVAILABLE)
            self.controller.set_fault(
                ErrorState(str(err.translation_key)), error_details(err)
            )
            return
        finally:
            self.controller.state = replace(self.controller.state, cutoff_writing=False)
        self.controller.update_session(cutoff_soc=cutoff)
        self.controller.async_publish()

    @callback
    def preempt(self) -> None:
        """Cancel the start or re-arm holding the lock, so a stop goes first."""
        work = self.work
        if work is not None and not work.done() and work is not asyncio.current_task():
            work.cancel()


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
