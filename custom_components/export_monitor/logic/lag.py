"""Delayed meters: export integrated from grid power, and how far the counter lags it.

With a grid power sensor the export of a running discharge is estimated as the larger of
the export counter and (the counter when the discharge started + the export power
integrated since, each interval at the larger of its two samples). When the counter
changes, the time since the integral reached that value is the counter's lag; the
largest recent lag is learned (persisted with the meter cadence) and widens the stop
reserve, so a value that arrives minutes late under a fresh timestamp is covered.

When grid power comes from the same late feed as the counter, the two agree and that lag
is nought. The feed's own lag is then the time from our start to the first grid reading
that shows the discharge's export (its echo), counted up to the report before it. The
echo is judged against the rise the start should cause: the setpoint less what the battery
already gave before it (house load it covered) and any import it must cover first, so a
battery busy before the start does not read as a late feed (expected_rise_kw). Until the
echo comes, the time from the start to grid power's last report counts as the lag
(unshown_seconds): a feed that never shows the start is at least that late.

Why the lag is measured against the counter's own value and the step is reserved too
(issue 10): a counter in steps that reports D late shows floor(export D ago), so its
lag sample is D plus the truncated fraction over the power then. One reading cannot
tell truncation from delay: a sample taken when the fraction was nought is the whole
delay, and later the same counter may hide just under a step more. The reserve's
step + lag x power (logic/supervision.py) is then exact, at any later power; a lag
taken against value + step (or kept as energy net of the step) would fall short by
about a step x (later power / power at learning).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final

# Integral samples kept: enough to find a lag of this many seconds.
MAX_LAG_SECONDS: Final = 1800.0
# Grid power shows a start once its export rose by this share of the rise expected.
ECHO_SHARE: Final = 0.5
# The rise expected is never taken below this share of the setpoint: a smaller one
# could not be told from a load switching off or a cloud passing.
ECHO_FLOOR_SHARE: Final = 0.5


def _seconds(start: datetime, end: datetime) -> float:
    """Return the real seconds from `start` to `end` (across clock changes)."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportIntegral:
    """Export since the discharge started, integrated from grid power samples."""

    started_at: datetime
    start_counter_kwh: float
    integrated_kwh: float = 0.0
    last_at: datetime | None = None
    last_kw: float = 0.0
    # (moment, integrated kWh): when the integral reached what.
    track: tuple[tuple[datetime, float], ...] = ()
    # Grid power's last report seen, and whether it has shown this start yet.
    report_at: datetime | None = None
    echoed: bool = False

    @property
    def unshown_seconds(self) -> float:
        """Return how long after the start grid power last reported without showing it."""
        if self.echoed or self.report_at is None:
            return 0.0
        return max(0.0, _seconds(self.started_at, self.report_at))

    @property
    def estimate_kwh(self) -> float:
        """Return the export today the integral implies."""
        return self.start_counter_kwh + self.integrated_kwh

    def sample(self, at: datetime, export_kw: float) -> ExportIntegral:
        """Return the integral after a grid power sample (export positive) at `at`."""
        kw = max(0.0, export_kw)
        if self.last_at is None:
            return replace(self, last_at=at, last_kw=kw, track=((at, 0.0),))
        seconds = _seconds(self.last_at, at)
        if seconds <= 0:
            return replace(self, last_kw=max(self.last_kw, kw))
        energy = self.integrated_kwh + max(self.last_kw, kw) * seconds / 3600.0
        track = tuple(
            (moment, kwh)
            for moment, kwh in self.track
            if _seconds(moment, at) <= MAX_LAG_SECONDS
        )
        return replace(
            self,
            integrated_kwh=energy,
            last_at=at,
            last_kw=kw,
            track=(*track, (at, energy)),
        )

    def lag_seconds(self, counter_kwh: float, at: datetime) -> float | None:
        """Return how long ago the integral reached the counter's value; None if never."""
        target = counter_kwh - self.start_counter_kwh
        if target <= 0:
            return None
        previous: tuple[datetime, float] | None = None
        for sample in self.track:
            if sample[1] >= target:
                reached = (
                    sample[0]
                    if previous is None
                    else _crossing(previous, sample, target)
                )
                return max(0.0, _seconds(reached, at))
            previous = sample
        return None


def expected_rise_kw(
    setpoint_kw: float, battery_before_kw: float | None, export_before_kw: float | None
) -> float:
    """Return how far grid export should rise over its level before a start.

    The discharge adds the setpoint less the battery's discharge before the start (the
    house load it covered) and less any import it must cover first; never more than
    the setpoint, never below ECHO_FLOOR_SHARE of it. Unknown powers count as none.
    """
    covered = max(0.0, battery_before_kw or 0.0)
    imported = max(0.0, -(export_before_kw or 0.0))
    rise = setpoint_kw - covered - imported
    return min(setpoint_kw, max(ECHO_FLOOR_SHARE * setpoint_kw, rise))


def follow_echo(
    integral: ExportIntegral,
    reported_at: datetime | None,
    rise_kw: float | None,
    expected_kw: float,
) -> tuple[ExportIntegral, float | None]:
    """Return the integral after a grid reading, and the feed's lag once it shows the start.

    `rise_kw` is the export power over the export before the start; it shows the start
    once it reaches ECHO_SHARE of `expected_kw` (expected_rise_kw). The lag counts from
    the start to the report before the one that showed the rise (never more than the
    feed's delay; the counter's interval in the reserve covers the rest).
    """
    previous = integral.report_at
    if integral.echoed or reported_at is None or reported_at == previous:
        return integral, None
    integral = replace(integral, report_at=reported_at)
    after_start = _seconds(integral.started_at, reported_at) >= 0
    if rise_kw is None or not after_start or rise_kw < ECHO_SHARE * expected_kw:
        return integral, None
    since = integral.started_at if previous is None else previous
    return replace(integral, echoed=True), max(
        0.0, _seconds(integral.started_at, since)
    )


def _crossing(
    before: tuple[datetime, float], after: tuple[datetime, float], target: float
) -> datetime:
    """Return when the integral reached `target` between two samples (linear)."""
    share = (target - before[1]) / (after[1] - before[1])
    return before[0] + timedelta(seconds=share * _seconds(before[0], after[0]))


def follow_export(
    integral: ExportIntegral | None,
    started_at: datetime | None,
    start_counter_kwh: float,
    now: datetime,
    export_kw: float | None,
) -> ExportIntegral | None:
    """Return the integral of the running discharge after a look at grid power."""
    if started_at is None:
        return None
    if integral is None or integral.started_at != started_at:
        integral = ExportIntegral(
            started_at=started_at, start_counter_kwh=start_counter_kwh
        )
    return integral if export_kw is None else integral.sample(now, export_kw)


def lagged_headroom(
    headroom_kwh: float | None,
    counter_kwh: float | None,
    integral: ExportIntegral | None,
) -> float | None:
    """Return the headroom less what the integral shows beyond the counter."""
    if headroom_kwh is None or counter_kwh is None or integral is None:
        return headroom_kwh
    return headroom_kwh - max(0.0, integral.estimate_kwh - counter_kwh)
