"""Flash-wearing writes per local day, against a profile's daily budget."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class FlashLedger:
    """How many flash-wearing writes went out on one local day."""

    day: date | None = None
    used: int = 0

    def used_on(self, day: date) -> int:
        """Return the writes counted on `day` (0 for any other day)."""
        return self.used if self.day == day else 0

    def left(self, day: date, budget: int | None) -> int | None:
        """Return the writes left on `day`, None when the profile sets no budget."""
        return None if budget is None else max(0, budget - self.used_on(day))

    def spend(self, day: date) -> FlashLedger:
        """Return the ledger with one more write counted on `day`."""
        return FlashLedger(day=day, used=self.used_on(day) + 1)

    def to_data(self) -> dict[str, Any]:
        """Return the ledger as stored."""
        return {
            "day": None if self.day is None else self.day.isoformat(),
            "used": self.used,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> FlashLedger:
        """Return a stored ledger; anything unreadable counts as nothing spent."""
        if data is None:
            return cls()
        try:
            day = date.fromisoformat(str(data["day"]))
            used = int(data["used"])
        except (KeyError, TypeError, ValueError):
            return cls()
        return cls(day=day, used=max(0, used))
