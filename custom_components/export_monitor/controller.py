"""The discharge session: start only when safe, and stop for sure."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .actuator import ExportMonitorActuator
from .const import DOMAIN, LOGGER
from .coordinator import ExportMonitorCoordinator
from .floor import ExportMonitorFloor
from .inverter import ExportMonitorInverter, flash_store_key
from .logic.cadence import MeterCadence
from .logic.control_start import (
    BackstopControl,
    ControlSnapshot,
    InverterFacts,
    Observation,
    StartRequest,
    assess_start,
)
from .logic.control_state import (
    Action,
    AutoStart,
    ControlState,
    Dismiss,
    Notify,
    Publish,
    Rearm,
    RestoreFloor,
    RetryStopSlowly,
    Save,
    ShortenBackstop,
    Step,
    Stop,
    Warn,
    WriteFloor,
    clear_fault,
    observation,
    set_fault,
    status_of,
)
from .logic.deadman import duration_scale
from .logic.errors import ErrorState
from .logic.latency import FlowWatch
from .logic.persist import latency_from_data, session_from_data, session_to_data
from .logic.plan import DischargePlan
from .logic.status import MonitorView
from .logic.supervision import Session, StopReason
from .models import ExportMonitorConfigEntry
from .notifier import ExportMonitorNotifier
from .profiles.base import Role
from .profiles.options import controls, profile
from .starter import ExportMonitorStarter
from .stopper import ExportMonitorStopper
from .stored import async_load_stored

STORE_VERSION: Final = 1
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


class ExportMonitorController:
    """Owns the one discharge session of an entry: start, stop, persistence."""

    session = StateField[Session | None]()
    fault = StateField[ErrorState]()
    refusal = StateField[ErrorState]()
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
            flash_store_key(entry.entry_id),
        )
        self.notifier = ExportMonitorNotifier(hass, entry.entry_id, entry.title)
        self.floor = ExportMonitorFloor(hass, entry, coordinator)
        self._store: Store[dict[str, Any]] = Store(
            hass, STORE_VERSION, session_store_key(entry.entry_id)
        )
        # A session was stored before the restart, even one that cannot be read.
        self.session_found = False
        self.lock = asyncio.Lock()
        self.state = ControlState()
        self.closing = False
        self.starter = ExportMonitorStarter(self)
        self.stopper = ExportMonitorStopper(self)

    @property
    def cadence(self) -> MeterCadence:
        """Return what is learned of the export meter (owned by the coordinator)."""
        return self.coordinator.cadence

    @cadence.setter
    def cadence(self, cadence: MeterCadence) -> None:
        """Keep a new cadence (persisted with the counter history)."""
        self.coordinator.async_set_cadence(cadence)

    # -- entities we drive ---------------------------------------------------

    def control(self, role: Role) -> str | None:
        """Return the entity chosen for a role, None when not set."""
        return controls(self.entry.options).get(role)

    @property
    def enable_entity(self) -> str:
        """Return the control that runs the forced discharge, as the user knows it."""
        return self.inverter.shown_entity

    @property
    def active(self) -> bool:
        """Return whether a discharge runs or is still being stopped."""
        return self.session is not None or self.state.pending_stop is not None

    @property
    def stopping(self) -> bool:
        """Return whether a stop is requested or under way."""
        return self.stopper.stopping

    @property
    def starting(self) -> bool:
        """Return whether a start is under way."""
        return self.starter.starting

    @property
    def busy(self) -> bool:
        """Return whether a start or re-arm is in flight."""
        return self.starter.busy

    def unsupervised(self) -> bool:
        """Return whether the enable entity may discharge with nobody supervising it."""
        if self.session is not None or self.state.pending_stop is not None:
            return False
        if self.starting or self.stopping:
            return False
        return self.inverter.maybe_running()

    # -- status ----------------------------------------------------------------

    @callback
    def async_publish(self) -> None:
        """Send the controller's status to the coordinator's view."""
        self.coordinator.async_set_controller_status(
            status_of(self.state, self.coordinator.snapshot)
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
                self.starter.spawn_rearm(bound, at)
            case WriteFloor(soc=soc):
                floor = self.starter.async_write_floor(soc)
                self.spawn(floor, "export_monitor write cutoff")
            case RestoreFloor():
                restore = self.stopper.async_after_flow_ended()
                self.spawn(restore, "export_monitor restore floor")
            case ShortenBackstop() | RetryStopSlowly():
                self.stopper.execute(action)
            case AutoStart():
                self.spawn(self.starter.async_auto_start(), "export_monitor auto start")
            case Notify(condition=condition, details=details):
                self.notifier.async_raise(condition, dict(details))
            case Dismiss(condition=condition):
                self.notifier.async_clear(condition)
            case Warn(message=message):
                LOGGER.warning("%s", message)
            case Save():
                self.save_soon()
            case Publish():
                self.async_publish()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run a coroutine owned by the entry."""
        self.entry.async_create_background_task(self.hass, coro, name)

    # -- persistence -------------------------------------------------------------

    async def async_load_session(self) -> Session | None:
        """Return the session stored before a restart; None when absent or unreadable."""
        stored = await async_load_stored(self._store, "a discharge session")
        self.session_found = stored.holds("session")
        self.worst_latency_s = latency_from_data(stored.data.get(LATENCY_KEY))
        return session_from_data(stored.data.get("session"))

    @callback
    def _session_data(self) -> dict[str, Any]:
        """Return the current session (or its absence) and the worst stop latency."""
        session = None if self.session is None else session_to_data(self.session)
        return {"session": session, LATENCY_KEY: self.worst_latency_s}

    @callback
    def save_soon(self) -> None:
        """Write the session in a task, outside the lock: a slow disk must not delay a stop."""
        # The Store keeps the latest data: whichever write runs last writes that.
        self.spawn(self._store.async_save(self._session_data()), "export_monitor save")

    async def async_flush(self) -> None:
        """Write the session now, waiting a bounded time (unload, shutdown)."""
        save = self.hass.async_create_background_task(
            self._store.async_save(self._session_data()), "export_monitor save"
        )
        await asyncio.wait({save}, timeout=SAVE_WAIT_SECONDS)

    # -- start -------------------------------------------------------------------

    def observe(self, view: MonitorView | None = None) -> Observation:
        """Return one look at the world for a decision: the view and the inverter."""
        view = view or self.coordinator.view()
        return observation(
            self.state,
            self.control_snapshot(view),
            view.settings,
            self.inverter.profile,
            view.now,
        )

    def control_snapshot(self, view: MonitorView) -> ControlSnapshot:
        """Return what decide() reads now: the meters, the inverter, the breakers."""
        return ControlSnapshot(
            meters=view.snapshot,
            inverter=self._facts(view),
            cadence=self.cadence,
            read_breaker=view.read_breaker,
            action_breaker=view.action_breaker,
        )

    def _facts(self, view: MonitorView) -> InverterFacts:
        """Return what the inverter, its helpers and the work in flight show now."""
        inverter, actuator = self.inverter, self.actuator
        timer_entity = self.control(Role.TIMER)
        timer = None
        if timer_entity is not None:
            timer = BackstopControl(
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
            clock_unreadable=inverter.clock_unreadable(view.now),
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
        return self.control(Role.CUTOFF) or ""

    # -- start and stop ------------------------------------------------------------

    async def async_start(self, request: StartRequest) -> None:
        """Start a supervised discharge, or raise a translated reason why not."""
        await self.starter.async_start(request)

    async def async_stop(
        self,
        reason: StopReason,
        *,
        force: bool = False,
        raise_on_failure: bool = False,
    ) -> None:
        """Stop the discharge (verified, retried) and tell why."""
        await self.stopper.async_stop(
            reason, force=force, raise_on_failure=raise_on_failure
        )

    async def async_restore_floor(self) -> None:
        """With nothing running, put min SOC back on a cutoff left holding our floor."""
        async with self.lock:
            await self.starter.async_restore_cutoff()

    @callback
    def request_stop(self, reason: StopReason, *, force: bool = False) -> None:
        """Stop in the background, ahead of any start or re-arm in flight."""
        self.stopper.request_stop(reason, force=force)

    # -- setup and teardown --------------------------------------------------------

    async def async_shutdown(self, reason: StopReason = StopReason.UNLOAD) -> None:
        """Refuse new starts, abort one in flight, stop first, then write the session."""
        self.closing = True
        in_flight = self.starting
        self.starter.preempt()
        await self.async_stop(reason, force=in_flight)
        await self.async_flush()

    async def async_on_hass_stop(self, _event: Event) -> None:
        """Home Assistant stops: stop the discharge, waiting a bounded time."""
        shutdown = self.hass.async_create_background_task(
            self.async_shutdown(StopReason.SHUTDOWN), "export_monitor shutdown"
        )
        await asyncio.wait({shutdown}, timeout=SHUTDOWN_WAIT_SECONDS)

    @callback
    def update_session(self, **changes: Any) -> None:
        """Replace fields of the running session."""
        if self.session is not None:
            self.session = replace(self.session, **changes)
