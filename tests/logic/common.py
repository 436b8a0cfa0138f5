"""Shared clock and raw-state builders for the pure-core tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from custom_components.export_monitor.logic.readings import RawState
from custom_components.export_monitor.logic.stop_progress import StopProgress
from custom_components.export_monitor.logic.supervision import StopReason

NOW: Final = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
# A stop whose alarm is up: the slow retry owes its confirmation.
OWED: Final = StopProgress(reason=StopReason.USER, sent_at=NOW, alarm=StopReason.USER)


def raw(state: str, unit: str | None, age: float = 0.0) -> RawState:
    """Build a raw state reported `age` seconds before NOW."""
    return RawState(state=state, unit=unit, reported_at=NOW - timedelta(seconds=age))
