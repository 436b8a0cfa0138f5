"""Table and property tests of the day's count of flash-wearing writes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.export_monitor.logic.flash import FlashLedger

TODAY = date(2026, 6, 15)


def test_spending_counts_per_local_day() -> None:
    """Writes count on their day; a new day starts from nothing."""
    ledger = FlashLedger().spend(TODAY).spend(TODAY)
    assert ledger.used_on(TODAY) == 2
    assert ledger.left(TODAY, 27) == 25
    tomorrow = TODAY + timedelta(days=1)
    assert ledger.left(tomorrow, 27) == 27
    assert ledger.spend(tomorrow) == FlashLedger(day=tomorrow, used=1)


def test_no_budget_leaves_no_limit() -> None:
    """A profile with no budget is never limited, but its writes are counted."""
    assert FlashLedger(day=TODAY, used=500).left(TODAY, None) is None


def test_an_overspent_day_has_nothing_left() -> None:
    """Stops go out beyond the budget; what is left never goes negative."""
    assert FlashLedger(day=TODAY, used=30).left(TODAY, 27) == 0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, FlashLedger()),
        ({"day": TODAY.isoformat(), "used": 3}, FlashLedger(day=TODAY, used=3)),
        ({"day": TODAY.isoformat(), "used": -3}, FlashLedger(day=TODAY, used=0)),
        ({"day": None, "used": 3}, FlashLedger()),
        ({"day": "yesterday", "used": 3}, FlashLedger()),
        ({"used": 3}, FlashLedger()),
        ({"day": TODAY.isoformat(), "used": "many"}, FlashLedger()),
    ],
    ids=["none", "stored", "negative", "no_day", "bad_day", "missing", "bad_count"],
)
def test_from_stored_data(data: dict[str, Any] | None, expected: FlashLedger) -> None:
    """What was stored reads back; anything unreadable is nothing spent."""
    assert FlashLedger.from_data(data) == expected


@given(st.dates(), st.integers(0, 1000))
def test_stored_and_read_back(day: date, used: int) -> None:
    """A ledger survives its storage unchanged."""
    ledger = FlashLedger(day=day, used=used)
    assert FlashLedger.from_data(ledger.to_data()) == ledger


def test_an_empty_ledger_is_stored() -> None:
    """A ledger with no day is stored with none, and read back as empty."""
    assert FlashLedger.from_data(FlashLedger().to_data()) == FlashLedger()
