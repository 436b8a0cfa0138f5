"""A stop until it is confirmed: quick retries with back-off, then the alarm."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from .supervision import StopReason

# Quick retries of the normal stop after the first send fails, before the alarm.
STOP_RETRIES: Final = 3
# The pause before the first quick retry; it doubles for each one after.
STOP_BACKOFF_SECONDS: Final = 1.0
# The most a pause is stretched at random (a share of it): retries spread out.
STOP_JITTER: Final = 0.5
# After the alarm, the normal stop is sent again this often until confirmed.
STOP_RETRY_INTERVAL: Final = timedelta(seconds=30)


@dataclass(frozen=True, slots=True, kw_only=True)
class StopProgress:
    """A stop not yet confirmed: the round of sends under way, and the alarm."""

    reason: StopReason
    # When this round first sent the normal stop.
    sent_at: datetime
    # Failed sends of the normal stop in this round.
    failures: int = 0
    # When this round's next quick retry is due; None when none is.
    retry_at: datetime | None = None
    # The stop the alarm was raised for: the slow retry owes its confirmation.
    alarm: StopReason | None = None

    def failed(
        self,
        now: datetime,
        *,
        jitter: float,
        backoff_s: float = STOP_BACKOFF_SECONDS,
    ) -> StopProgress:
        """Return the progress after a failed send: a quick retry due, or the alarm."""
        failures = self.failures + 1
        if failures <= STOP_RETRIES:
            pause = backoff_s * 2.0 ** (failures - 1) * (1.0 + jitter)
            due = now + timedelta(seconds=pause)
            return replace(self, failures=failures, retry_at=due)
        alarm = self.alarm or self.reason
        return replace(self, failures=failures, retry_at=None, alarm=alarm)

    def retry_in(self, now: datetime) -> float | None:
        """Return the seconds until the quick retry; None when the alarm is up instead."""
        if self.retry_at is None:
            return None
        return max(0.0, (self.retry_at - now).total_seconds())


def stop_round(
    progress: StopProgress | None, reason: StopReason, now: datetime
) -> StopProgress:
    """Return the progress as a round of the normal stop is first sent."""
    # A raised alarm stays up until some stop is confirmed.
    alarm = None if progress is None else progress.alarm
    return StopProgress(reason=reason, sent_at=now, alarm=alarm)


def stop_owed(progress: StopProgress | None) -> StopReason:
    """Return the reason the slow retry confirms its stop with."""
    if progress is None or progress.alarm is None:
        return StopReason.USER
    return progress.alarm


def stop_given_up(
    progress: StopProgress | None, reason: StopReason, now: datetime
) -> StopProgress:
    """Return the progress when a stop cannot be confirmed now: the alarm is up."""
    progress = progress or StopProgress(reason=reason, sent_at=now)
    return replace(progress, retry_at=None, alarm=progress.alarm or reason)
