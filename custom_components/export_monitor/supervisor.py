"""Watch every snapshot: stop, re-arm, check the inverter obeyed, start automatically."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from homeassistant.core import (
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
    async_track_time_interval,
)

from .const import LOGGER, SUPERVISION_INTERVAL
from .controller import ExportMonitorController
from .logic.control import decide, follow_meter, may_resume
from .logic.errors import ErrorState
from .logic.snapshot import Snapshot
from .logic.supervision import Session, StopReason

RESTART_NOTICE: Final = "discharge_stopped_on_restart"


class ExportMonitorSupervisor:
    """Runs decide() on every source update and on a short timer; the controller acts."""

    def __init__(
        self, hass: HomeAssistant, controller: ExportMonitorController
    ) -> None:
        """Bind to the controller it supervises."""
        self.hass = hass
        self.controller = controller
        self.coordinator = controller.coordinator

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
        controller = self.controller
        controller.state, controller.cadence = follow_meter(
            controller.state, controller.cadence, snapshot, self.coordinator.settings
        )
        self.async_evaluate()

    @callback
    def async_evaluate(self) -> None:
        """Decide on the latest view and act; any exception is a fault and a stop."""
        controller = self.controller
        try:
            view = self.coordinator.view()
            snapshot = controller.control_snapshot(view)
            profile = controller.inverter.profile
            state = controller.state
            controller.apply(decide(state, snapshot, view.settings, profile, view.now))
        except Exception:  # noqa: BLE001 - any failure here must fail closed
            LOGGER.exception("Supervision failed; stopping any discharge")
            self._fail_closed()

    @callback
    def _fail_closed(self) -> None:
        """Stop after an exception in the rules, then say so."""
        controller = self.controller
        if controller.active or controller.unsupervised():
            controller.request_stop(StopReason.INTERNAL_ERROR, force=True)
        controller.set_fault(ErrorState.INTERNAL_ERROR, {})

    # -- restart -------------------------------------------------------------------------

    async def async_reconcile(self) -> None:
        """After a restart or reload: adopt a safe discharge, else stop what we find."""
        controller = self.controller
        stored = await controller.async_load_session()
        enable_on = controller.inverter.is_running()
        # A session, even one that cannot be read, on an inverter whose fallback exports
        # with its controls reading off (Fox: Feed-in First once its watchdog ran out).
        ran_unseen = controller.session_found and controller.inverter.fallback_exports
        if stored is None and enable_on is False and not ran_unseen:
            # Nothing runs; a floor of ours left on the cutoff (a restore that failed or
            # never ran before the restart) gives the user's min SOC back.
            await controller.async_restore_floor()
            return
        if stored is None and not controller.inverter.readable:
            await controller.stopper.async_reconcile_quietly()
            return
        if stored is not None and enable_on and self._may_resume(stored):
            controller.session = stored
            controller.obey_confirmed = False
            LOGGER.info("Resumed supervising the forced discharge after a restart")
            controller.async_publish()
            return
        controller.session = stored
        # Without a session to stop, what ran unseen is stopped as running.
        await controller.async_stop(StopReason.RESTART, force=ran_unseen)
        readable = controller.inverter.readable
        if (
            enable_on is True
            or ran_unseen
            or (enable_on is None and (readable or stored))
        ):
            # Only a switch found on (or unreadable) means a discharge was running;
            # an inverter with nothing to read ran one only if a session was stored.
            controller.notifier.async_raise(
                RESTART_NOTICE, {"entity_id": controller.enable_entity}
            )

    def _may_resume(self, stored: Session) -> bool:
        """Return whether the user allows resuming and every start condition holds."""
        return may_resume(self.controller.observe(), stored)
