"""Watch for a breach of the rule, whatever the controller believes, and fail closed."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, EVENT_ALLOWANCE_EXCEEDED, LOGGER
from .controller import ExportMonitorController
from .logic.breach import (
    BreachRecord,
    breach_from_data,
    breach_to_data,
    judge_breach,
    measured_export_kwh,
)
from .logic.snapshot import Snapshot, Source
from .logic.supervision import StopReason
from .notifier import issue_id, notification_id
from .stored import async_load_stored

BREACH: Final = "allowance_exceeded"
BREACH_STORE_VERSION: Final = 1
# Seconds to gather changes of the record into one write of the store.
BREACH_SAVE_DELAY: Final = 5


def breach_store_key(entry_id: str) -> str:
    """Return the storage key of an entry's breach record."""
    return f"{DOMAIN}.{entry_id}.breach"


def _kwh(value: float) -> str:
    """Return an energy for a message, to the watt-hour."""
    return f"{value:.3f}"


def _details(
    record: BreachRecord, exported: float | None, allowance: float | None
) -> dict[str, float]:
    """Return a breach's figures: the export, the allowance it is judged by, the excess."""
    # Judged as the detector judges: an allowance below 0 counts as 0.
    effective = max(0.0, allowance or 0.0)
    if exported is None:
        exported = effective + record.over_kwh
    return {
        "exported_kwh": round(exported, 3),
        "allowance_kwh": round(effective, 3),
        "over_kwh": round(record.over_kwh, 3),
    }


class ExportMonitorBreachDetector:
    """Compares measured export with the allowance on every snapshot; tells and stops."""

    def __init__(
        self, hass: HomeAssistant, controller: ExportMonitorController
    ) -> None:
        """Bind to the entry's controller (to stop) and coordinator (to read)."""
        self.hass = hass
        self.controller = controller
        self.coordinator = controller.coordinator
        entry_id = controller.entry.entry_id
        self._entry_id = entry_id
        self._store: Store[dict[str, Any]] = Store(
            hass, BREACH_STORE_VERSION, breach_store_key(entry_id)
        )
        self._issue_shown = False
        self._failing = False

    async def async_load(self) -> None:
        """Restore today's record; clear what a previous load showed (it comes back)."""
        data = (await async_load_stored(self._store, "a breach record")).data
        self.coordinator.breach = breach_from_data(data.get("record"))
        persistent_notification.async_dismiss(
            self.hass, notification_id(self._entry_id, BREACH)
        )
        ir.async_delete_issue(self.hass, DOMAIN, issue_id(self._entry_id, BREACH))

    @callback
    def async_start(self) -> None:
        """Judge every snapshot from now on, starting with the current one."""
        entry = self.controller.entry
        # A reload must find the day's record: write it out, delayed or not.
        entry.async_on_unload(self._async_save_now)
        entry.async_on_unload(
            self.coordinator.async_add_snapshot_listener(self._async_on_snapshot)
        )
        self._async_on_snapshot(self.coordinator.snapshot)
        self.coordinator.async_publish()

    async def _async_save_now(self) -> None:
        """Write the record at once."""
        await self._store.async_save(self._data())

    @callback
    def _async_on_snapshot(self, snapshot: Snapshot) -> None:
        """Judge the snapshot; an error here never reaches the coordinator's loop."""
        try:
            self._judge(snapshot)
        except Exception:  # noqa: BLE001
            # The listeners run in turn: the supervisor after us must still evaluate.
            if not self._failing:
                LOGGER.exception("Could not judge a snapshot for a breach")
            self._failing = True
            return
        self._failing = False

    def _judge(self, snapshot: Snapshot) -> None:
        """Judge the snapshot; report, tell, stop."""
        previous = self.coordinator.breach
        exported = measured_export_kwh(snapshot.readings.get(Source.EXPORTED_TODAY))
        record, report = judge_breach(
            previous,
            exported,
            snapshot.allowance_kwh,
            dt_util.as_local(snapshot.taken_at),
        )
        self.coordinator.breach = record
        if record.exceeded:
            # The off goes out first; the record, the event and the notices after it.
            self._stop_any_discharge()
        if record != previous:
            # A breach is written at once; later changes of an episode may gather.
            delay = 0 if report else BREACH_SAVE_DELAY
            self._store.async_delay_save(self._data, delay)
        details = _details(record, exported, snapshot.allowance_kwh)
        if report:
            self._report(details)
        self._sync_notification(record, details, refresh=report)
        self._sync_issue(record, refresh=report)

    @callback
    def _data(self) -> dict[str, Any]:
        """Return the record as stored data (called when writing)."""
        record = self.coordinator.breach
        return {"record": None if record is None else breach_to_data(record)}

    def _report(self, details: dict[str, float]) -> None:
        """Fire the event and log the breach."""
        LOGGER.warning(
            "Export today (%.3f kWh) is %.3f kWh beyond the allowance of %.3f kWh",
            details["exported_kwh"],
            details["over_kwh"],
            details["allowance_kwh"],
        )
        self.hass.bus.async_fire(
            EVENT_ALLOWANCE_EXCEEDED, {"entry_id": self._entry_id, **details}
        )

    def _sync_notification(
        self, record: BreachRecord, details: dict[str, float], *, refresh: bool
    ) -> None:
        """Show the notification while over the allowance; dismiss it once within."""
        notifier = self.controller.notifier
        if not record.exceeded:
            notifier.async_clear(BREACH)
            return
        if refresh or BREACH not in notifier.raised:
            notifier.async_raise(
                BREACH, {key: _kwh(value) for key, value in details.items()}
            )

    def _sync_issue(self, record: BreachRecord, *, refresh: bool) -> None:
        """Keep a critical repair for the rest of a day that saw a breach."""
        issue = issue_id(self._entry_id, BREACH)
        if not record.breached_today:
            if self._issue_shown:
                ir.async_delete_issue(self.hass, DOMAIN, issue)
                self._issue_shown = False
            return
        if self._issue_shown and not refresh:
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.CRITICAL,
            translation_key=BREACH,
            translation_placeholders={
                "title": self.controller.entry.title,
                "max_over_kwh": _kwh(record.max_over_kwh),
                "day": record.day.isoformat(),
            },
        )
        self._issue_shown = True

    def _stop_any_discharge(self) -> None:
        """Stop a discharge, ours or one the enable entity shows: fail closed."""
        controller = self.controller
        if controller.state.pending_stop is not None:
            return  # the slow stop retry already owns an unconfirmed stop
        enable_on = controller.inverter.is_running()
        if controller.active or enable_on is not False:
            controller.request_stop(StopReason.ALLOWANCE_EXCEEDED, force=True)
