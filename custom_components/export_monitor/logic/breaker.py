"""A circuit breaker with an injected clock: closed, open, half-open."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

FAILURE_THRESHOLD: Final = 5
COOL_DOWN: Final = timedelta(seconds=60)


class BreakerState(StrEnum):
    """The breaker's position."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitBreaker:
    """Counts consecutive failures; opens after a threshold, retries after a pause."""

    failure_count: int = 0
    opened_at: datetime | None = None
    last_failure_time: datetime | None = None

    def state(self, now: datetime) -> BreakerState:
        """Return the position at `now`."""
        if self.opened_at is None:
            return BreakerState.CLOSED
        # Real elapsed time: aware local times subtract by the wall clock.
        if now.astimezone(UTC) - self.opened_at.astimezone(UTC) >= COOL_DOWN:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def can_attempt(self, now: datetime) -> bool:
        """Return whether a call may be tried at `now`."""
        return self.state(now) is not BreakerState.OPEN

    def record_success(self) -> CircuitBreaker:
        """Return the breaker after a successful call: closed and cleared."""
        return CircuitBreaker()

    def record_failure(self, now: datetime) -> CircuitBreaker:
        """Return the breaker after a failed call at `now`."""
        count = self.failure_count + 1
        reopen = self.state(now) is BreakerState.HALF_OPEN
        opened_at = self.opened_at
        if reopen or (opened_at is None and count >= FAILURE_THRESHOLD):
            opened_at = now
        return replace(
            self, failure_count=count, opened_at=opened_at, last_failure_time=now
        )
