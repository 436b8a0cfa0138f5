"""Around an entry's life: stop what runs before set-up, and after an unconfirmed unload."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.components import persistent_notification
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .actuator import ActuatorError, ExportMonitorActuator
from .const import DOMAIN, EVENT_DISCHARGE_STOPPED, LOGGER
from .controller import STORE_VERSION, session_store_key
from .inverter import ExportMonitorInverter
from .logic.errors import ErrorState
from .logic.supervision import StopReason
from .models import ExportMonitorConfigEntry
from .notifier import ExportMonitorNotifier, issue_id, notification_id
from .profiles.options import controls, profile
from .profiles.render import WriteValues
from .stored import async_load_stored
from .supervisor import RESTART_NOTICE

GUARD_RETRY_INTERVAL: Final = timedelta(seconds=30)
GUARDS: HassKey[dict[str, ExportMonitorGuard]] = HassKey(f"{DOMAIN}_guards")


def _inverter(
    hass: HomeAssistant, entry: ExportMonitorConfigEntry
) -> ExportMonitorInverter:
    """Return the entry's inverter, writing with no breaker (nothing is loaded)."""
    actuator = ExportMonitorActuator(hass, lambda _ok: None)
    return ExportMonitorInverter(
        hass, profile(entry.options), lambda: controls(entry.options), actuator
    )


async def _async_normal_stop(inverter: ExportMonitorInverter) -> None:
    """Send the profile's normal stop (rung 0) and verify it."""
    await inverter.async_stop(WriteValues(now=dt_util.now()))


async def async_stop_before_setup(
    hass: HomeAssistant, entry: ExportMonitorConfigEntry
) -> None:
    """Stop a stored session or an enable entity found on, needing nothing else.

    Runs when set-up cannot go on (a source is missing): a discharge that ran
    through a restart must not wait for the slowest integration to load.
    """
    inverter = _inverter(hass, entry)
    store: Store[dict[str, Any]] = Store(
        hass, STORE_VERSION, session_store_key(entry.entry_id)
    )
    stored = await _async_stored_session(store)
    running = inverter.running_entity
    if running is not None and hass.states.get(running) is None:
        # The inverter's integration is not up yet: turn it off once it appears.
        async_guard(hass, entry, retry=False)
        return
    found_on = inverter.maybe_running()
    if not stored and not found_on:
        return
    try:
        await _async_normal_stop(inverter)
    except ActuatorError as err:
        # The next set-up attempt tries again.
        LOGGER.warning("Could not stop the discharge found at start-up: %s", err)
        return
    await store.async_save({"session": None})
    if found_on:
        hass.bus.async_fire(
            EVENT_DISCHARGE_STOPPED,
            {
                "entry_id": entry.entry_id,
                "reason": StopReason.RESTART,
                "exported_kwh": 0.0,
            },
        )
        notifier = ExportMonitorNotifier(hass, entry.entry_id, entry.title)
        await notifier.async_load()
        notifier.async_raise(RESTART_NOTICE, {"entity_id": inverter.shown_entity})


async def _async_stored_session(store: Store[dict[str, Any]]) -> bool:
    """Return whether a session is stored (any, even one that cannot be read)."""
    # What cannot be read may have said that something runs: stop it to be sure.
    return (await async_load_stored(store, "a discharge session")).holds("session")


@callback
def async_guard(
    hass: HomeAssistant, entry: ExportMonitorConfigEntry, *, retry: bool
) -> None:
    """Keep the enable entity off while the entry does not supervise it."""
    async_release_guard(hass, entry.entry_id)
    guard = ExportMonitorGuard(hass, entry, retry=retry)
    hass.data.setdefault(GUARDS, {})[entry.entry_id] = guard
    guard.async_start()


@callback
def async_release_guard(hass: HomeAssistant, entry_id: str) -> None:
    """Drop an entry's guard: its controller takes over, or the entry is gone."""
    guard = hass.data.get(GUARDS, {}).pop(entry_id, None)
    if guard is not None:
        guard.async_cancel()


class ExportMonitorGuard:
    """Turns an enable entity off when it appears, or retries an unconfirmed stop."""

    def __init__(
        self, hass: HomeAssistant, entry: ExportMonitorConfigEntry, *, retry: bool
    ) -> None:
        """Bind to the entry's enable entity; `retry` keeps trying every 30 s."""
        self._hass = hass
        self._entry_id = entry.entry_id
        self._inverter = _inverter(hass, entry)
        self._enable = self._inverter.running_entity or self._inverter.shown_entity
        self._retry = retry
        self._unsubs: list[CALLBACK_TYPE] = []

    @callback
    def async_start(self) -> None:
        """Follow the enable entity, and retry on a timer when asked to."""
        self._unsubs.append(
            async_track_state_change_event(
                self._hass, [self._enable], self._async_on_enable
            )
        )
        if self._retry:
            self._unsubs.append(
                async_track_time_interval(
                    self._hass, self._async_on_timer, GUARD_RETRY_INTERVAL
                )
            )

    @callback
    def async_cancel(self) -> None:
        """Stop following the entity."""
        while self._unsubs:
            self._unsubs.pop()()

    @callback
    def _async_on_enable(self, event: Event[EventStateChangedData]) -> None:
        """Turn the entity off when it appears, or when it reads on or unknown."""
        new_state = event.data["new_state"]
        if new_state is None:
            return
        if self._retry and not self._inverter.maybe_running():
            return
        if not self._retry:
            self.async_cancel()  # one shot: the entity has appeared
        self._hass.async_create_task(self._async_turn_off(), "export_monitor guard")

    async def _async_on_timer(self, _now: datetime) -> None:
        """Retry the unconfirmed stop."""
        await self._async_turn_off()

    async def _async_turn_off(self) -> None:
        """Send the off; done once confirmed (or after one try when not retrying)."""
        try:
            await _async_normal_stop(self._inverter)
        except ActuatorError as err:
            LOGGER.debug("Guard could not turn %s off: %s", self._enable, err)
            if self._retry:
                return
        else:
            LOGGER.info("%s turned off while its monitor is not loaded", self._enable)
            self._dismiss_stop_failed()
        guards = self._hass.data.get(GUARDS, {})
        if guards.get(self._entry_id) is self:
            del guards[self._entry_id]
        self.async_cancel()

    def _dismiss_stop_failed(self) -> None:
        """Withdraw the stop-failed notice and repair, now that the stop is confirmed."""
        condition = ErrorState.DISCHARGE_STOP_FAILED
        persistent_notification.async_dismiss(
            self._hass, notification_id(self._entry_id, condition)
        )
        ir.async_delete_issue(self._hass, DOMAIN, issue_id(self._entry_id, condition))
