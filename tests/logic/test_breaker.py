"""Tests of the circuit breaker with an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import reduce
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st
import pytest

from custom_components.export_monitor.logic.breaker import BreakerState, CircuitBreaker

from .common import NOW

SECOND = timedelta(seconds=1)


def _fail(breaker: CircuitBreaker, times: list[datetime]) -> CircuitBreaker:
    """Record one failure at each of `times`."""
    return reduce(lambda b, t: b.record_failure(t), times, breaker)


def _failures(count: int) -> CircuitBreaker:
    """Return a fresh breaker after `count` failures, all at NOW."""
    return _fail(CircuitBreaker(), [NOW] * count)


def test_fresh_breaker_is_closed() -> None:
    """A new breaker is closed, lets calls through and has no failures."""
    breaker = CircuitBreaker()
    assert (
        breaker.state(NOW),
        breaker.can_attempt(NOW),
        breaker.failure_count,
        breaker.last_failure_time,
    ) == (BreakerState.CLOSED, True, 0, None)


CLOSED_COUNTS = {f"{n}_failures": n for n in range(1, 5)}


@pytest.mark.parametrize("count", list(CLOSED_COUNTS.values()), ids=list(CLOSED_COUNTS))
def test_stays_closed_below_five_failures(count: int) -> None:
    """Up to four consecutive failures keep the breaker closed."""
    breaker = _failures(count)
    assert (breaker.state(NOW), breaker.can_attempt(NOW), breaker.failure_count) == (
        BreakerState.CLOSED,
        True,
        count,
    )


def test_opens_at_the_fifth_failure() -> None:
    """The fifth consecutive failure opens the breaker at that moment."""
    breaker = _failures(5)
    assert (
        breaker.state(NOW),
        breaker.can_attempt(NOW),
        breaker.failure_count,
        breaker.opened_at,
        breaker.last_failure_time,
    ) == (BreakerState.OPEN, False, 5, NOW, NOW)


def test_last_failure_time_follows_each_failure() -> None:
    """Each failure records its own time."""
    breaker = _fail(CircuitBreaker(), [NOW, NOW + 3 * SECOND])
    assert breaker.last_failure_time == NOW + 3 * SECOND


def test_success_resets_the_count() -> None:
    """A success between failures restarts the count: five more are needed."""
    breaker = _fail(_failures(4).record_success(), [NOW + SECOND] * 4)
    assert (breaker.state(NOW + SECOND), breaker.failure_count) == (
        BreakerState.CLOSED,
        4,
    )


AFTER_OPENING = {
    "at_opening": (timedelta(0), BreakerState.OPEN, False),
    "just_before_cool_down": (timedelta(seconds=59.999), BreakerState.OPEN, False),
    "exactly_at_cool_down": (timedelta(seconds=60), BreakerState.HALF_OPEN, True),
    "after_cool_down": (timedelta(minutes=10), BreakerState.HALF_OPEN, True),
}


@pytest.mark.parametrize(
    ("elapsed", "state", "can_attempt"),
    list(AFTER_OPENING.values()),
    ids=list(AFTER_OPENING),
)
def test_half_opens_after_exactly_sixty_seconds(
    elapsed: timedelta, state: BreakerState, can_attempt: bool
) -> None:
    """An open breaker refuses calls; exactly 60 s after opening it allows a try."""
    breaker = _failures(5)
    assert (breaker.state(NOW + elapsed), breaker.can_attempt(NOW + elapsed)) == (
        state,
        can_attempt,
    )


def test_failure_when_half_open_reopens_with_new_time() -> None:
    """A failed try while half-open opens the breaker again from that moment."""
    retry = NOW + 90 * SECOND
    breaker = _failures(5).record_failure(retry)
    assert (
        breaker.state(retry + 59 * SECOND),
        breaker.state(retry + 60 * SECOND),
        breaker.opened_at,
        breaker.failure_count,
        breaker.last_failure_time,
    ) == (BreakerState.OPEN, BreakerState.HALF_OPEN, retry, 6, retry)


def test_success_when_half_open_closes() -> None:
    """A successful try while half-open closes and clears the breaker."""
    breaker = _failures(5).record_success()
    assert breaker == CircuitBreaker()


def test_failure_while_open_does_not_extend_the_pause() -> None:
    """A failure recorded while still open counts but keeps the original opening time."""
    breaker = _failures(5).record_failure(NOW + 30 * SECOND)
    assert (
        breaker.opened_at,
        breaker.failure_count,
        breaker.state(NOW + 60 * SECOND),
    ) == (NOW, 6, BreakerState.HALF_OPEN)


events = st.lists(
    st.tuples(st.booleans(), st.floats(0, 120)),
    max_size=40,
)


def _replay(steps: list[tuple[bool, float]]) -> list[tuple[CircuitBreaker, datetime]]:
    """Record each (failed, seconds later) step; return the breaker after each."""

    def step(
        history: list[tuple[CircuitBreaker, datetime]], event: tuple[bool, float]
    ) -> list[tuple[CircuitBreaker, datetime]]:
        breaker, now = history[-1]
        failed, wait = event
        now += timedelta(seconds=wait)
        after = breaker.record_failure(now) if failed else breaker.record_success()
        return [*history, (after, now)]

    return reduce(step, steps, [(CircuitBreaker(), NOW)])


def _unjustly_open(history: list[tuple[CircuitBreaker, datetime]]) -> list[object]:
    """List the moments at which the breaker is open without cause."""
    return [
        (breaker, now)
        for breaker, now in history
        if breaker.state(now) is BreakerState.OPEN
        and not (
            breaker.failure_count >= 5
            and breaker.opened_at is not None
            and now - breaker.opened_at < timedelta(seconds=60)
        )
    ]


@given(events)
def test_open_only_after_five_failures_and_within_cool_down(
    steps: list[tuple[bool, float]],
) -> None:
    """The breaker is open only with >= 5 failures and < 60 s since it opened."""
    assert _unjustly_open(_replay(steps)) == []


@given(st.integers(0, 20), st.floats(0, 59.999))
def test_consecutive_failures_open_exactly_at_five(count: int, wait: float) -> None:
    """Consecutive failures in quick succession open the breaker iff there are >= 5."""
    breaker = _failures(count)
    later = NOW + timedelta(seconds=wait)
    assert (breaker.state(later) is BreakerState.OPEN) == (count >= 5)


def test_cool_down_counts_real_time_across_the_autumn_clock_change() -> None:
    """Opened at 01:59:30 BST, the breaker is half-open 60 real seconds later (01:00:30 GMT)."""
    london = ZoneInfo("Europe/London")
    opened = datetime(2026, 10, 25, 1, 59, 30, tzinfo=london)
    later = datetime(2026, 10, 25, 1, 0, 30, fold=1, tzinfo=london)
    breaker = CircuitBreaker(failure_count=5, opened_at=opened)
    assert breaker.state(later) is BreakerState.HALF_OPEN
