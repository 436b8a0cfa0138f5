"""Keep the compliance history: listen to snapshots and session events, store, close at midnight."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, EVENT_DISCHARGE_STARTED, EVENT_DISCHARGE_STOPPED, LOGGER
from .coordinator import ExportMonitorCoordinator
from .logic.breach import measured_export_kwh
from .logic.history import (
    DaySample,
    History,
    closed_part,
    closed_to_data,
    history_from_stored,
    open_to_data,
    record_sample,
    record_start,
    record_stop,
    record_to_data,
    roll,
)
from .logic.snapshot import Snapshot, Source
from .models import ExportMonitorConfigEntry
from .stored import async_load_stored

HISTORY_STORE_VERSION: Final = 1
HISTORY_STORE_MINOR_VERSION: Final = 1
# Seconds to gather today's updates into one small write; the closed days (up to
# 400, a few hundred kB) are written only when a day closes, to spare SD cards.
TODAY_SAVE_DELAY: Final = 60
CLOSED_SAVE_DELAY: Final = 5


def history_store_key(entry_id: str) -> str:
    """Return the storage key of an entry's closed compliance records."""
    return f"{DOMAIN}.{entry_id}.history"


def today_store_key(entry_id: str) -> str:
    """Return the storage key of an entry's open (today's) compliance record."""
    return f"{DOMAIN}.{entry_id}.history_today"


def sample_of(snapshot: Snapshot) -> DaySample:
    """Return the figures of a snapshot the history keeps."""
    return DaySample(
        at=snapshot.taken_at,
        allowance_kwh=snapshot.allowance_kwh,
        # As the breach detector measures it: a counter held after a drop counts.
        exported_kwh=measured_export_kwh(snapshot.readings.get(Source.EXPORTED_TODAY)),
        pv_kwh=snapshot.value(Source.PV_TODAY),
    )


class ExportMonitorHistory:
    """One entry's daily compliance records, kept in a Store."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ExportMonitorConfigEntry,
        coordinator: ExportMonitorCoordinator,
    ) -> None:
        """Set up empty; async_load restores the stored days."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.history = History()
        self._closed_store = _store(hass, history_store_key(entry.entry_id))
        self._today_store = _store(hass, today_store_key(entry.entry_id))
        self._today_save_pending = False
        self._cancel_midnight: CALLBACK_TYPE = lambda: None
        self._failing = False

    async def async_load(self) -> None:
        """Restore the stored days and close any that ended while we were away."""
        closed = await async_load_stored(self._closed_store, "a compliance history")
        today = await async_load_stored(self._today_store, "a compliance history")
        self.history = history_from_stored(closed.data, today.data)
        # Rolls to today: a day that ended while we were away is closed, partial.
        self._set(record_sample(self.history, sample_of(self.coordinator.snapshot)))

    @callback
    def async_start(self) -> None:
        """Listen to session events and local midnight; all owned by the entry."""
        entry = self.entry
        entry.async_on_unload(
            self.hass.bus.async_listen(EVENT_DISCHARGE_STARTED, self._async_on_started)
        )
        entry.async_on_unload(
            self.hass.bus.async_listen(EVENT_DISCHARGE_STOPPED, self._async_on_stopped)
        )
        self._async_schedule_midnight()
        entry.async_on_unload(self._async_cancel_midnight)

    @callback
    def async_follow_snapshots(self) -> None:
        """Listen to snapshots; called after the supervisor, so supervision comes first."""
        self.entry.async_on_unload(
            self.coordinator.async_add_snapshot_listener(self._async_on_snapshot)
        )

    async def async_save(self) -> None:
        """Write the history now (on unload, so a reload reads it back)."""
        self._today_save_pending = False
        await self._closed_store.async_save(closed_to_data(self.history))
        await self._today_store.async_save(open_to_data(self.history))

    def days(self, count: int) -> list[dict[str, Any]]:
        """Return the newest `count` records, newest first."""
        return [record_to_data(record) for record in self.history.days[:count]]

    @callback
    def _async_on_snapshot(self, snapshot: Snapshot) -> None:
        """Add a new snapshot's figures to its day; an error here never reaches the caller."""
        try:
            history = record_sample(self.history, sample_of(snapshot))
        except Exception:  # noqa: BLE001
            # The coordinator calls its listeners in turn: a record is not worth
            # a missed evaluation. Log once until it works again.
            if not self._failing:
                LOGGER.exception(
                    "Could not record a snapshot in the compliance history"
                )
            self._failing = True
            return
        if self._failing:
            LOGGER.info("The compliance history records snapshots again")
            self._failing = False
        self._set(history)

    def _ours(self, event: Event[Any]) -> bool:
        """Return whether a session event is this entry's."""
        return bool(event.data.get("entry_id") == self.entry.entry_id)

    @callback
    def _async_on_started(self, event: Event[Any]) -> None:
        """Count a session of ours."""
        if self._ours(event):
            self._set(record_start(self.history, dt_util.now()))

    @callback
    def _async_on_stopped(self, event: Event[Any]) -> None:
        """Count a stop of ours by reason, with what the session exported."""
        if not self._ours(event):
            return
        self._set(
            record_stop(
                self.history,
                dt_util.now(),
                str(event.data.get("reason")),
                float(event.data.get("exported_kwh") or 0.0),
            )
        )

    @callback
    def _async_schedule_midnight(self) -> None:
        """Arm a timer for the next local midnight (DST-aware)."""
        tomorrow = dt_util.now().date() + timedelta(days=1)
        self._cancel_midnight = async_track_point_in_time(
            self.hass, self._async_at_midnight, dt_util.start_of_local_day(tomorrow)
        )

    @callback
    def _async_at_midnight(self, _now: datetime) -> None:
        """Close the day that ended and open the new one, then re-arm."""
        self._set(roll(self.history, dt_util.now()))
        self._async_schedule_midnight()

    @callback
    def _async_cancel_midnight(self) -> None:
        """Cancel the midnight timer."""
        self._cancel_midnight()

    @callback
    def _set(self, history: History) -> None:
        """Keep a changed history and schedule the writes of the parts that changed."""
        if history == self.history:
            return
        closed_changed = closed_part(history) != closed_part(self.history)
        self.history = history
        if closed_changed:
            self._closed_store.async_delay_save(self._closed_data, CLOSED_SAVE_DELAY)
        # Schedule once, never postpone: samples every few seconds would push it back all day.
        if not self._today_save_pending:
            self._today_save_pending = True
            self._today_store.async_delay_save(self._today_data, TODAY_SAVE_DELAY)

    @callback
    def _closed_data(self) -> dict[str, Any]:
        """Return the closed days' stored form (called when writing)."""
        return closed_to_data(self.history)

    @callback
    def _today_data(self) -> dict[str, Any]:
        """Return the open day's stored form (called when writing)."""
        self._today_save_pending = False
        return open_to_data(self.history)


def _store(hass: HomeAssistant, key: str) -> Store[dict[str, Any]]:
    """Return one of the history's versioned stores."""
    return Store(
        hass, HISTORY_STORE_VERSION, key, minor_version=HISTORY_STORE_MINOR_VERSION
    )
