"""Stop a discharge for sure: verified, retried, down the profile's ladder."""

from __future__ import annotations

import asyncio
from datetime import datetime
import random
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .actuator import ActuatorError
from .const import DEFAULT_INVERTER_MAX_POWER_KW, EVENT_DISCHARGE_STOPPED, LOGGER
from .logic.control_requests import (
    fallback_rungs,
    quick_retry_in,
    session_floor,
    stop_abandoned,
    stop_begun,
    stop_confirmed,
    stop_confirmed_needed,
    stop_send_failed,
)
from .logic.control_state import RetryStopSlowly, ShortenBackstop
from .logic.deadman import SHORTEST_BACKSTOP_MINUTES
from .logic.snapshot import Source
from .logic.stop_progress import STOP_BACKOFF_SECONDS, STOP_JITTER, stop_owed
from .logic.supervision import StopReason, session_export_kwh

if TYPE_CHECKING:
    from .controller import ExportMonitorController


def error_details(err: HomeAssistantError) -> dict[str, str]:
    """Return the placeholders of a translated error, for the notification."""
    return dict(err.translation_placeholders or {})


class ExportMonitorStopper:
    """Stops the discharges of an entry, and keeps trying until a stop is confirmed."""

    def __init__(self, controller: ExportMonitorController) -> None:
        """Bind to the controller whose state a stop changes."""
        self.controller = controller
        # Stops requested or under way.
        self.stops = 0
        self._retry_unsub: CALLBACK_TYPE | None = None

    @property
    def stopping(self) -> bool:
        """Return whether a stop is requested or under way."""
        return self.stops > 0

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
        self.stops += 1
        try:
            async with self.controller.lock:
                error = await self._async_stop_locked(reason, force=force)
        finally:
            self.stops -= 1
        if error is not None and raise_on_failure:
            raise error

    async def _async_stop_locked(
        self, reason: StopReason, *, force: bool
    ) -> ActuatorError | None:
        """Stop with the lock held: retry with backoff, then keep trying slowly."""
        controller = self.controller
        inverter = controller.inverter
        if not stop_confirmed_needed(
            force=force,
            active=controller.active,
            running=inverter.is_running(),
            readable=inverter.readable,
        ):
            # Nothing runs: the off still goes out, once, and a failure is no alarm.
            try:
                await self.async_turn_off(extra=True)
            except ActuatorError as err:
                LOGGER.debug("Off for an idle inverter not confirmed: %s", err)
            return None
        sent_at = dt_util.now()
        controller.state = stop_begun(controller.state, reason, sent_at)
        while True:
            try:
                await self.async_turn_off()
            except ActuatorError as err:
                delay = self._send_failed(reason, err)
                if delay is None:
                    return err
                await asyncio.sleep(delay)
                continue
            self._finish_stop(reason, sent_at)
            controller.save_soon()
            await self._async_restore_unwatched()
            return None

    def _send_failed(self, reason: StopReason, error: ActuatorError) -> float | None:
        """Record a failed send; return the pause before the quick retry, None on alarm."""
        now = dt_util.now()
        jitter = random.uniform(0.0, STOP_JITTER)  # noqa: S311 - spreading retries
        # STOP_BACKOFF_SECONDS is read at each call: tests shorten it here.
        step = stop_send_failed(
            self.controller.state,
            reason,
            now,
            tuple(error_details(error).items()),
            jitter=jitter,
            backoff_s=STOP_BACKOFF_SECONDS,
        )
        delay = quick_retry_in(step[0], now)
        if delay is None:
            LOGGER.error("Could not stop the forced discharge: %s", error)
        self.controller.apply(step)
        return delay

    async def async_turn_off(self, *, extra: bool = False) -> None:
        """Send the normal stop and verify it; always sent, even when it reads off."""
        await self.controller.inverter.async_stop(
            self.controller.starter.write_values(), 0, extra=extra
        )

    async def async_reconcile_quietly(self) -> None:
        """At start-up with nothing readable and no session: send the reconcile writes."""
        async with self.controller.lock:
            try:
                await self.controller.inverter.async_reconcile(
                    self.controller.starter.write_values()
                )
            except ActuatorError as err:
                LOGGER.warning("Could not reconcile the inverter at start-up: %s", err)

    def stop_failed(self, reason: StopReason, error: ActuatorError) -> None:
        """Raise the alarm for a stop not confirmed now, and keep retrying it slowly."""
        LOGGER.error("Could not stop the forced discharge: %s", error)
        details = tuple(error_details(error).items())
        self.controller.apply(
            stop_abandoned(self.controller.state, reason, dt_util.now(), details)
        )

    @callback
    def execute(self, action: ShortenBackstop | RetryStopSlowly) -> None:
        """Carry out a stop's fallback: the ladder's second ways, the slow retry."""
        if isinstance(action, ShortenBackstop):
            self.controller.spawn(
                self._async_shorten_backstop(), "export_monitor shorten backstop"
            )
        elif self._retry_unsub is None:
            self._retry_unsub = async_track_time_interval(
                self.controller.hass, self._async_retry_stop, action.every
            )
            self.controller.entry.async_on_unload(self._cancel_retry)

    async def _async_shorten_backstop(self) -> None:
        """Step the stop ladder's fallbacks (the shortest timer first): a second way."""
        inverter = self.controller.inverter
        now = dt_util.now()
        values = self.controller.starter.write_values(
            backstop_minutes=SHORTEST_BACKSTOP_MINUTES
        )
        # The profile's fallbacks, in order (generic: the shortest timer, then power 0).
        ladder = inverter.profile.stop_ladder
        for rung in fallback_rungs(self.controller.session, ladder, now):
            try:
                await inverter.async_stop(values, rung)
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
        if self.controller.lock.locked():
            return
        async with self.controller.lock:
            controller = self.controller
            sent_at = dt_util.now()
            reason = stop_owed(controller.state.stop)
            controller.state = stop_begun(controller.state, reason, sent_at)
            try:
                await self.async_turn_off()
            except ActuatorError:
                return
            self._finish_stop(reason, sent_at)
            self.controller.save_soon()
            await self._async_restore_unwatched()

    async def _async_restore_unwatched(self) -> None:
        """Put min SOC back now, unless the flow is watched: then once it has ended."""
        if self.controller.flow_watch is None:
            await self.async_put_back()

    async def async_after_flow_ended(self) -> None:
        """Our stop's flow has ended: put back what the discharge changed."""
        async with self.controller.lock:
            await self.async_put_back()

    async def async_put_back(self) -> None:
        """With the lock held and nothing running: min SOC, then the profile's set-back.

        The set-back (Sigenergy: the discharging limit to the inverter's maximum)
        failing leaves the discharge stopped: it is logged, no alarm.
        """
        controller = self.controller
        await controller.starter.async_restore_cutoff()
        if not controller.inverter.profile.after_stop:
            return
        settings = controller.coordinator.settings
        rated = settings.inverter_max_kw or DEFAULT_INVERTER_MAX_POWER_KW
        try:
            await controller.inverter.async_after_stop(
                controller.starter.write_values(power_kw=rated)
            )
        except ActuatorError as err:
            LOGGER.warning("Could not set the inverter back after the stop: %s", err)

    def _finish_stop(self, reason: StopReason, sent_at: datetime) -> None:
        """Forget the session, fire the stopped event, watch the power flow end."""
        self._cancel_retry()
        controller = self.controller
        coordinator = controller.coordinator
        session = controller.session
        exported = 0.0
        if session is not None:
            exported = session_export_kwh(
                session, coordinator.snapshot.shown_value(Source.EXPORTED_TODAY)
            )
            # A session restored after a restart left its floor on the cutoff.
            min_soc = coordinator.settings.min_soc
            controller.floor.owned |= session_floor(session, min_soc) is not None
        controller.cadence = controller.cadence.end()
        controller.apply(
            stop_confirmed(
                controller.state,
                reason,
                sent_at,
                dt_util.now(),
                meters=coordinator.snapshot,
                settings=coordinator.settings,
            )
        )
        self.controller.hass.bus.async_fire(
            EVENT_DISCHARGE_STOPPED,
            {
                "entry_id": self.controller.entry.entry_id,
                "reason": reason,
                "exported_kwh": round(exported, 3),
            },
        )
        LOGGER.info("Forced discharge stopped: %s", reason)

    @callback
    def request_stop(self, reason: StopReason, *, force: bool = False) -> None:
        """Stop in the background, ahead of any start or re-arm in flight."""
        if self.stopping:
            return
        self.stops += 1
        self.controller.starter.preempt()
        self.controller.spawn(
            self._async_requested_stop(reason, force=force),
            f"export_monitor stop {reason}",
        )

    async def _async_requested_stop(self, reason: StopReason, *, force: bool) -> None:
        """Run a requested stop; the request counts as stopping until it ends."""
        try:
            await self.async_stop(reason, force=force)
        finally:
            self.stops -= 1
