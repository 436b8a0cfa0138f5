"""Table tests of a stop's progress: quick retries with back-off, the alarm, the slow retry."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.export_monitor.logic.stop_progress import (
    STOP_BACKOFF_SECONDS,
    STOP_JITTER,
    STOP_RETRIES,
    StopProgress,
    stop_given_up,
    stop_owed,
    stop_round,
)
from custom_components.export_monitor.logic.supervision import StopReason

from .common import NOW, OWED

FIRST = StopProgress(reason=StopReason.USER, sent_at=NOW)


def test_each_quick_retry_waits_twice_as_long_then_the_alarm() -> None:
    """1 s, 2 s, 4 s after each failed send; the fourth failure raises the alarm."""
    progress = FIRST
    pauses = []
    for _ in range(STOP_RETRIES + 1):
        progress = progress.failed(NOW, jitter=0.0)
        pauses.append(progress.retry_in(NOW))
    assert pauses == [1.0, 2.0, 4.0, None]
    assert (progress.failures, progress.retry_at) == (STOP_RETRIES + 1, None)
    assert (progress.alarm, progress.sent_at) == (StopReason.USER, NOW)


def test_a_retry_due_already_is_sent_at_once() -> None:
    """A retry whose time has passed waits no more (never a negative pause)."""
    progress = FIRST.failed(NOW, jitter=0.0)
    assert progress.retry_in(NOW + timedelta(seconds=5)) == 0.0


def test_the_first_alarm_stays_the_one_owed() -> None:
    """A later round that fails too leaves the reason the alarm was first raised for."""
    progress = stop_round(
        StopProgress(
            reason=StopReason.START_FAILED, sent_at=NOW, alarm=StopReason.USER
        ),
        StopReason.ALLOWANCE_EXCEEDED,
        NOW,
    )
    for _ in range(STOP_RETRIES + 1):
        progress = progress.failed(NOW, jitter=0.0)
    assert (progress.reason, progress.alarm) == (
        StopReason.ALLOWANCE_EXCEEDED,
        StopReason.USER,
    )


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    jitter=st.floats(min_value=0.0, max_value=STOP_JITTER),
    failures=st.integers(min_value=0, max_value=STOP_RETRIES - 1),
)
def test_jitter_only_stretches_the_pause(jitter: float, failures: int) -> None:
    """A pause lies between the doubled back-off and half as much again."""
    progress = StopProgress(reason=StopReason.USER, sent_at=NOW, failures=failures)
    pause = progress.failed(NOW, jitter=jitter).retry_in(NOW)
    assert pause is not None
    base = STOP_BACKOFF_SECONDS * 2.0**failures
    assert base - 1e-6 <= pause <= base * (1.0 + STOP_JITTER) + 1e-6


def test_a_round_starts_afresh_but_keeps_the_alarm() -> None:
    """A new round has no failures and no retry due; an alarm up stays up."""
    failing = OWED.failed(NOW, jitter=0.0)
    later = NOW + timedelta(seconds=30)
    assert stop_round(failing, StopReason.UNLOAD, later) == StopProgress(
        reason=StopReason.UNLOAD, sent_at=later, alarm=StopReason.USER
    )
    assert stop_round(None, StopReason.UNLOAD, later).alarm is None


@pytest.mark.parametrize(
    ("progress", "owed"),
    [
        (None, StopReason.USER),
        (StopProgress(reason=StopReason.UNLOAD, sent_at=NOW), StopReason.USER),
        (
            StopProgress(
                reason=StopReason.UNLOAD, sent_at=NOW, alarm=StopReason.REARM_FAILED
            ),
            StopReason.REARM_FAILED,
        ),
    ],
    ids=["nothing_recorded", "no_alarm", "alarm_up"],
)
def test_the_slow_retry_confirms_the_stop_owed(
    progress: StopProgress | None, owed: StopReason
) -> None:
    """The slow retry's confirmed stop carries the alarm's reason (else a user's)."""
    assert stop_owed(progress) is owed


def test_giving_up_raises_the_alarm_and_cancels_a_quick_retry() -> None:
    """A stop given up owes its reason, unless an earlier alarm is still owed."""
    waiting = FIRST.failed(NOW, jitter=0.0)
    given_up = stop_given_up(waiting, StopReason.START_FAILED, NOW)
    assert (given_up.retry_at, given_up.alarm) == (None, StopReason.START_FAILED)
    assert stop_given_up(OWED, StopReason.START_FAILED, NOW).alarm is StopReason.USER
    assert stop_given_up(None, StopReason.START_FAILED, NOW) == StopProgress(
        reason=StopReason.START_FAILED, sent_at=NOW, alarm=StopReason.START_FAILED
    )
