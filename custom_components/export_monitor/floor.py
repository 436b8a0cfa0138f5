"""The SOC floor of an entry: what a SOC percent delivers, and the cutoff to write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import CONF_PROFILE, DOMAIN, LOGGER
from .coordinator import ExportMonitorCoordinator
from .logic.snapshot import Snapshot, Source, battery_discharge_kw
from .logic.soc_floor import FloorLearning, delivered_kwh
from .models import ExportMonitorConfigEntry
from .profiles import DEFAULT_PROFILE, PROFILES
from .profiles.base import InverterProfile, Role
from .stored import async_load_stored

STORE_VERSION: Final = 1


def floor_store_key(entry_id: str) -> str:
    """Return the storage key of what an entry learned of its battery."""
    return f"{DOMAIN}.{entry_id}.floor"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Delivered:
    """Battery energy integrated from its power: the total and the last sample."""

    total_kwh: float
    at: datetime
    kw: float


class ExportMonitorFloor:
    """Learns what a SOC percent delivers; says which cutoff bounds a discharge."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ExportMonitorConfigEntry,
        coordinator: ExportMonitorCoordinator,
    ) -> None:
        """Bind to the entry; nothing is read yet."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self._store: Store[dict[str, Any]] = Store(
            hass, STORE_VERSION, floor_store_key(entry.entry_id)
        )
        self.learning = FloorLearning()
        self._delivered: _Delivered | None = None
        # When the running discharge's cutoff was last written, and today's flash writes.
        self.written_at: datetime | None = None
        # The cutoff holds a floor of ours, to be put back to min SOC after a stop;
        # kept in the store, so that a restart still puts it back.
        self._owned = False
        self._writes: tuple[date, int] | None = None

    @property
    def profile(self) -> InverterProfile:
        """Return the entry's inverter profile (the generic shape by default)."""
        key = str(self.entry.options.get(CONF_PROFILE) or DEFAULT_PROFILE)
        return PROFILES.get(key, PROFILES[DEFAULT_PROFILE])

    async def async_load(self) -> None:
        """Read what was learned before; an unreadable store is nothing learned."""
        data = (await async_load_stored(self._store, "a SOC floor")).data
        self.learning = FloorLearning.from_data(data.get("learning"))
        self._owned = data.get("owned") is True

    @property
    def owned(self) -> bool:
        """Return whether the cutoff holds a floor of ours (min SOC is to come back)."""
        return self._owned

    @owned.setter
    def owned(self, owned: bool) -> None:
        """Note whether the cutoff holds a floor of ours, and keep it in the store."""
        if owned != self._owned:
            self._owned = owned
            self._save_soon()

    def _save_soon(self) -> None:
        """Write what was learned and whether a floor is ours, in a task."""
        self.entry.async_create_background_task(
            self.hass,
            self._store.async_save(
                {"learning": self.learning.to_data(), "owned": self._owned}
            ),
            "export_monitor save floor",
        )

    @callback
    def async_start(self) -> None:
        """Learn from every snapshot, owned by the entry."""
        self.entry.async_on_unload(
            self.coordinator.async_add_snapshot_listener(self._async_on_snapshot)
        )

    @callback
    def _async_on_snapshot(self, snapshot: Snapshot) -> None:
        """Measure energy against the SOC; keep a new measurement."""
        soc = snapshot.value(Source.SOC)
        energy = self._energy_kwh(snapshot)
        if soc is None or energy is None:
            return
        before = self.learning.to_data()
        self.learning = self.learning.observe(soc, energy[0], from_battery=energy[1])
        if self.learning.to_data() != before:
            LOGGER.debug("Learned %s kWh per SOC percent", self.learning.to_data())
            self._save_soon()

    def _energy_kwh(self, snapshot: Snapshot) -> tuple[float, bool] | None:
        """Return the energy delivered so far and whether battery power measured it."""
        settings = self.coordinator.settings
        if Source.BATTERY_POWER not in snapshot.readings:
            # No battery sensor: the export counter, a lower bound on battery energy.
            export = snapshot.value(Source.EXPORTED_TODAY)
            return None if export is None else (export, False)
        kw = battery_discharge_kw(snapshot, settings)
        if kw is None:
            return None
        at, last = snapshot.taken_at, self._delivered
        total = 0.0
        if last is not None:
            seconds = (dt_util.as_utc(at) - dt_util.as_utc(last.at)).total_seconds()
            total = delivered_kwh(last.total_kwh, last.kw, kw, seconds)
        self._delivered = _Delivered(total_kwh=total, at=at, kw=kw)
        return total, True

    def writes_left(self, now: datetime) -> int | None:
        """Return today's flash writes left for the cutoff, None when it wears none."""
        profile = self.profile
        cutoff = profile.control(Role.CUTOFF)
        budget = profile.write_budget_per_day
        if cutoff is None or not cutoff.flash or budget is None:
            return None
        day = dt_util.as_local(now).date()
        used = self._writes[1] if self._writes and self._writes[0] == day else 0
        return budget - used

    @callback
    def note_write(self, now: datetime) -> None:
        """Count a cutoff write (today's flash budget) and when it was made."""
        self.written_at = now
        day = dt_util.as_local(now).date()
        used = self._writes[1] if self._writes and self._writes[0] == day else 0
        self._writes = (day, used + 1)
