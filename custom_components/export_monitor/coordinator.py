"""Read the sources into an immutable view: pushed by state events, checked by a heartbeat."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from time import monotonic
from types import MappingProxyType
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
    async_track_time_interval,
)
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .const import (
    CONF_BATTERY_POWER_ENTITY,
    CONF_EXPORT_ENERGY_TODAY_ENTITY,
    CONF_FORECAST_TODAY_ENTITY,
    CONF_GRID_POWER_ENTITY,
    CONF_PV_ENERGY_TODAY_ENTITY,
    CONF_SOC_ENTITY,
    DOMAIN,
    HEARTBEAT_INTERVAL,
    LOGGER,
)
from .logic.breach import BreachRecord
from .logic.breaker import CircuitBreaker
from .logic.cadence import MeterCadence, cadence_from_data, declared
from .logic.counters import CounterTrack, track_from_data, track_to_data
from .logic.errors import ErrorState
from .logic.freshness import Freshness, distrusted_after
from .logic.readings import RawState
from .logic.settings import MonitorSettings, settings_from_options
from .logic.snapshot import DAILY_COUNTERS, Snapshot, Source, build_snapshot
from .logic.status import ControllerStatus, MonitorView
from .models import ExportMonitorConfigEntry
from .stored import async_load_stored

SOURCE_OPTIONS: Final[Mapping[Source, str]] = MappingProxyType(
    {
        Source.SOC: CONF_SOC_ENTITY,
        Source.PV_TODAY: CONF_PV_ENERGY_TODAY_ENTITY,
        Source.EXPORTED_TODAY: CONF_EXPORT_ENERGY_TODAY_ENTITY,
        Source.GRID_POWER: CONF_GRID_POWER_ENTITY,
        Source.BATTERY_POWER: CONF_BATTERY_POWER_ENTITY,
        Source.FORECAST_TODAY: CONF_FORECAST_TODAY_ENTITY,
    }
)

type SnapshotListener = Callable[[Snapshot], None]

COUNTER_STORE_VERSION: Final = 1
# Seconds to gather counter changes into one write of the store.
COUNTER_SAVE_DELAY: Final = 10
# What is learned of the export meter, stored beside the counter tracks.
CADENCE_KEY: Final = "export_cadence"


def counter_store_key(entry_id: str) -> str:
    """Return the storage key of an entry's daily counter history."""
    return f"{DOMAIN}.{entry_id}.counters"


def _failed(previous: Snapshot, now: datetime) -> Snapshot:
    """Return an unsafe snapshot after an exception: no allowance, no plan."""
    return replace(
        previous,
        taken_at=now,
        data_fault=ErrorState.INTERNAL_ERROR,
        allowance_kwh=None,
        headroom_kwh=None,
        plan=None,
    )


def configured_sources(options: Mapping[str, Any]) -> dict[Source, str]:
    """Return the entity id of each configured source."""
    return {
        source: str(options[key])
        for source, key in SOURCE_OPTIONS.items()
        if options.get(key)
    }


def integration_loaded(hass: HomeAssistant, entity_id: str) -> bool:
    """Return whether the config entry providing `entity_id` is loaded (True if none)."""
    entity = er.async_get(hass).async_get(entity_id)
    if entity is None or entity.config_entry_id is None:
        return True
    entry = hass.config_entries.async_get_entry(entity.config_entry_id)
    return entry is None or entry.state is ConfigEntryState.LOADED


def _text(value: Any) -> str | None:
    """Return an attribute as text, None when absent."""
    return None if value is None else str(value)


class ExportMonitorCoordinator(DataUpdateCoordinator[MonitorView]):
    """Owns the latest snapshot, the breakers and the view the entities show."""

    config_entry: ExportMonitorConfigEntry

    def __init__(self, hass: HomeAssistant, entry: ExportMonitorConfigEntry) -> None:
        """Set up from the entry's options; nothing is read yet."""
        super().__init__(
            hass, LOGGER, config_entry=entry, name=DOMAIN, always_update=True
        )
        self.settings: MonitorSettings = settings_from_options(entry.options)
        self.sources: dict[Source, str] = configured_sources(entry.options)
        self.read_breaker = CircuitBreaker()
        self.action_breaker = CircuitBreaker()
        self.controller_status = ControllerStatus()
        self.counters: Mapping[Source, CounterTrack] = {}
        # Kept by the breach detector (breach.py): the day's export beyond the allowance.
        self.breach: BreachRecord | None = None
        self._counter_store: Store[dict[str, Any]] = Store(
            hass, COUNTER_STORE_VERSION, counter_store_key(entry.entry_id)
        )
        self._counter_save_pending = False
        # Sources seen stale: not quiet until they report again (logic/freshness.py).
        self._distrusted: dict[Source, datetime] = {}
        # Sources seen re-writing an unchanged value: not change-only sensors.
        self._re_reporting: set[Source] = set()
        # Each source's last report and the monotonic time it was first seen (#17).
        self._received: dict[Source, tuple[datetime, float]] = {}
        self.cadence: MeterCadence = self._declared(MeterCadence())
        # A first look without the counters' history and without saving: a save
        # pending before async_load_counters would be loaded instead of the store.
        self.snapshot: Snapshot = build_snapshot(
            self._raw_states(), self.settings, dt_util.now()
        )
        self._snapshot_listeners: list[SnapshotListener] = []
        # Heartbeats so far: a sensor showing an age writes it once per beat.
        self.beats = 0
        self._was_safe = True
        self._read_failed = False

    def _raw_states(self) -> dict[Source, RawState | None]:
        """Collect the raw state of every configured source."""
        raw: dict[Source, RawState | None] = {}
        for source, entity_id in self.sources.items():
            state = self.hass.states.get(entity_id)
            if state is not None and state.last_reported > state.last_updated:
                self._re_reporting.add(source)
            raw[source] = (
                None
                if state is None
                else RawState(
                    state=state.state,
                    unit=state.attributes.get("unit_of_measurement"),
                    reported_at=state.last_reported,
                    last_reset=_text(state.attributes.get("last_reset")),
                    received_age_seconds=self._received_age(
                        source, state.last_reported
                    ),
                )
            )
        return raw

    def _received_age(self, source: Source, reported_at: datetime) -> float:
        """Return the monotonic seconds since this report was first seen.

        A wall clock stepped back would make every report look new; the monotonic
        clock does not step. Each report is read as it arrives (state events).
        """
        now = monotonic()
        seen = self._received.get(source)
        if seen is None or seen[0] != reported_at:
            self._received[source] = (reported_at, now)
            return 0.0
        return now - seen[1]

    def _read(self) -> Snapshot:
        """Build a snapshot from the current states; persist changed counter tracks."""
        now = dt_util.now()
        try:
            snapshot = build_snapshot(
                self._raw_states(), self.settings, now, self.counters, self._freshness()
            )
        except Exception:  # noqa: BLE001 - any failure here must fail closed
            if not self._read_failed:
                LOGGER.exception("Reading the sources failed; the data count as unsafe")
            self._read_failed = True
            return _failed(self.snapshot, now)
        self._read_failed = False
        self._distrusted = distrusted_after(self._distrusted, snapshot.readings, now)
        if snapshot.counters != self.counters:
            self.counters = snapshot.counters
            self._schedule_counter_save()
        return snapshot

    def _freshness(self) -> Freshness:
        """Return what the freshness rule needs: the discharge, the meter, the integrations."""
        return Freshness(
            discharging_since=self.cadence.session_since,
            power_kw=self.settings.discharge_power_kw,
            capacity_kwh=self.settings.battery_capacity_kwh,
            cadence=self.cadence,
            distrusted=frozenset(self._distrusted),
            re_reporting=frozenset(self._re_reporting),
            not_loaded=frozenset(
                source
                for source, entity_id in self.sources.items()
                if not integration_loaded(self.hass, entity_id)
            ),
        )

    def _schedule_counter_save(self) -> None:
        """Write the counter history soon, once for a burst of changes."""
        # Schedule once, never postpone: counters that change every few seconds
        # would otherwise push the write back all day.
        if not self._counter_save_pending:
            self._counter_save_pending = True
            self._counter_store.async_delay_save(self._counter_data, COUNTER_SAVE_DELAY)

    @callback
    def async_set_cadence(self, cadence: MeterCadence) -> None:
        """Keep what is learned of the export meter, persisted with the counters."""
        if cadence.to_data() != self.cadence.to_data():
            self._schedule_counter_save()
        self.cadence = cadence

    async def async_load_counters(self) -> None:
        """Restore the daily counters' history, so a restart cannot reuse yesterday's."""
        data = (await async_load_stored(self._counter_store, "daily counters")).data
        tracks = {
            source: track
            for source in DAILY_COUNTERS
            if (track := track_from_data(data.get(source))) is not None
        }
        self.counters = tracks
        self.cadence = self._declared(cadence_from_data(data.get(CADENCE_KEY)))
        self.snapshot = self._read()

    def _declared(self, cadence: MeterCadence) -> MeterCadence:
        """Return the cadence with what the options declare of the meter."""
        meter = self.settings.meter
        return declared(
            cadence, meter.interval_seconds, meter.resolution_kwh, meter.delay_seconds
        )

    @callback
    def _counter_data(self) -> dict[str, Any]:
        """Return the counter tracks as stored data (called when writing)."""
        self._counter_save_pending = False
        data: dict[str, Any] = {
            source: track_to_data(track) for source, track in self.counters.items()
        }
        data[CADENCE_KEY] = self.cadence.to_data()
        return data

    @property
    def over_export_today_kwh(self) -> float:
        """Return today's largest measured export beyond the allowance (0 normally)."""
        return self.view().over_export_today_kwh

    def view(self, now: datetime | None = None) -> MonitorView:
        """Return the view of the latest snapshot and controller status."""
        return MonitorView(
            snapshot=self.snapshot,
            settings=self.settings,
            controller=self.controller_status,
            read_breaker=self.read_breaker,
            action_breaker=self.action_breaker,
            now=now or dt_util.now(),
            breach=self.breach,
        )

    async def _async_update_data(self) -> MonitorView:
        """Read once; a bad source makes an unsafe snapshot, never a failure."""
        self.snapshot = self._read()
        return self.view()

    @callback
    def async_start(self) -> None:
        """Subscribe to the sources and start the heartbeat; all owned by the entry."""
        entity_ids = list(self.sources.values())
        entry = self.config_entry
        entry.async_on_unload(
            async_track_state_change_event(
                self.hass, entity_ids, self._async_on_source_changed
            )
        )
        entry.async_on_unload(
            async_track_state_report_event(
                self.hass, entity_ids, self._async_on_source_reported
            )
        )
        entry.async_on_unload(
            async_track_time_interval(
                self.hass, self._async_heartbeat, HEARTBEAT_INTERVAL
            )
        )

    @callback
    def async_add_snapshot_listener(self, listener: SnapshotListener) -> CALLBACK_TYPE:
        """Call `listener` with every new snapshot; return the unsubscribe."""
        self._snapshot_listeners.append(listener)
        return lambda: self._snapshot_listeners.remove(listener)

    @callback
    def _async_on_source_changed(self, event: Event[EventStateChangedData]) -> None:
        """Re-read when a source changes."""
        self.async_refresh_now()

    @callback
    def _async_on_source_reported(self, event: Event[EventStateReportedData]) -> None:
        """Re-read when a source re-reports the same value."""
        self.async_refresh_now()

    @callback
    def _async_heartbeat(self, now: datetime) -> None:
        """Re-check ages on a fixed beat and count read failures in the breaker."""
        self.beats += 1
        self.async_refresh_now()
        if self.snapshot.safe:
            self.read_breaker = self.read_breaker.record_success()
        else:
            self.read_breaker = self.read_breaker.record_failure(dt_util.now())
        self.async_publish()

    @callback
    def async_refresh_now(self) -> None:
        """Read every source, tell the listeners, then publish the view."""
        self.snapshot = self._read()
        for listener in list(self._snapshot_listeners):
            listener(self.snapshot)
        # Logged after the listeners: a stop they make due goes out first.
        self._log_transition()
        self.async_publish()

    @callback
    def async_publish(self) -> None:
        """Push the current view to the entities."""
        self.async_set_updated_data(self.view())

    @callback
    def async_set_controller_status(self, status: ControllerStatus) -> None:
        """Record the controller's status and publish it."""
        self.controller_status = status
        self.async_publish()

    @callback
    def async_record_action(self, *, success: bool) -> None:
        """Record an actuator call's outcome in the action breaker."""
        breaker = self.action_breaker
        self.action_breaker = (
            breaker.record_success()
            if success
            else breaker.record_failure(dt_util.now())
        )

    def _log_transition(self) -> None:
        """Log once when the data become unsafe and once when they recover."""
        safe = self.snapshot.safe
        if safe == self._was_safe:
            return
        self._was_safe = safe
        if safe:
            LOGGER.info("Export monitor sources are usable again")
        else:
            LOGGER.warning(
                "Export monitor sources are not usable: %s",
                self.snapshot.data_fault,
            )
