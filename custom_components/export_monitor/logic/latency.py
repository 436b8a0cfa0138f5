"""Stop latency: watch the power flow end after a stop, measure how long it took."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from .supervision import (
    OBEY_GRACE,
    OBEY_SHARE,
    REACTION_SECONDS,
    discharging,
    seconds_between,
)

# The pause before the first stop retry, at its longest (backoff with jitter).
RETRY_BACKOFF_SECONDS: Final = 1.5
# After a stop, the flow is checked until seen ended, re-sending off this often.
RESEND_EVERY: Final = timedelta(seconds=60)
WATCH_SPAN: Final = timedelta(minutes=10)
# A confirmed discharge whose flow is gone this long has been ended by the inverter.
FLOW_LOST_GRACE: Final = timedelta(seconds=60)
# A SOC this close above the floor may be the battery resting at it: a SOC sensor
# reports whole percent at its coarsest, so a reading up to 1 % above says nothing.
REST_MARGIN_PCT: Final = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowWatch:
    """A stop sent, the flow it must end, and the last reading still showing it."""

    sent_at: datetime
    power_kw: float
    export_at_stop_kw: float | None
    battery_before_kw: float | None
    flowing_seen_at: datetime | None = None
    resent_at: datetime | None = None
    # The SOC floor on the cutoff when the stop went out (None: min SOC was).
    floor_soc: float | None = None


class WatchAction(StrEnum):
    """What to do about a stop whose flow is being watched."""

    WAIT = "wait"
    ENDED = "ended"
    # No flow, but the battery may rest at the floor: the latency is known, the
    # floor stays (no proof the inverter left forced discharge).
    RESTING = "resting"
    RESEND = "resend"
    GIVE_UP = "give_up"


def reaction_seconds(worst_latency_seconds: float) -> float:
    """Return how late a stop may land: the worst latency seen (10 s at least), retry."""
    return max(REACTION_SECONDS, worst_latency_seconds) + RETRY_BACKOFF_SECONDS


def flow_on(
    watch: FlowWatch, battery_kw: float | None, export_kw: float | None
) -> bool | None:
    """Return whether the forced discharge still flows; None when nothing shows it."""
    if battery_kw is not None and export_kw is not None:
        # Battery power that feeds the house is not the forced discharge.
        return discharging(watch.power_kw, min(battery_kw, export_kw))
    share = (1 - OBEY_SHARE) * watch.power_kw
    if battery_kw is not None:
        # Without grid power, the battery feeding the house is its own load as before.
        return battery_kw - max(0.0, watch.battery_before_kw or 0.0) >= share
    if export_kw is not None and watch.export_at_stop_kw is not None:
        return export_kw > watch.export_at_stop_kw - share
    return None


def observe(watch: FlowWatch, flowing: bool | None, measured_at: datetime) -> FlowWatch:
    """Return the watch after a reading: the latest moment the flow was seen on."""
    if flowing and seconds_between(watch.sent_at, measured_at) >= 0:
        return replace(watch, flowing_seen_at=measured_at)
    return watch


def latency_seconds(watch: FlowWatch) -> float:
    """Return the stop's latency: until the last reading that still showed the flow."""
    if watch.flowing_seen_at is None:
        return 0.0
    return max(0.0, seconds_between(watch.sent_at, watch.flowing_seen_at))


def may_rest(watch: FlowWatch, soc: float | None) -> bool:
    """Return whether the battery may rest at the floor held at the stop.

    Resting there, it shows no flow whether the inverter left forced discharge or
    not: no flow then proves nothing (an unknown SOC may be resting too).
    """
    floor = watch.floor_soc
    return floor is not None and (soc is None or soc <= floor + REST_MARGIN_PCT)


def watch_action(
    watch: FlowWatch,
    flowing: bool | None,
    measured_at: datetime,
    now: datetime,
    *,
    resting: bool = False,
) -> WatchAction:
    """Return what a reading (measured at `measured_at`) means for the stop.

    `resting`: the battery may rest at the SOC floor, so no flow is no proof.
    """
    measured = seconds_between(watch.sent_at, measured_at)
    ended = flowing is False and measured >= 0
    if ended and not resting:
        return WatchAction.ENDED
    if seconds_between(watch.sent_at, now) >= WATCH_SPAN.total_seconds():
        return WatchAction.GIVE_UP
    if ended:
        return WatchAction.RESTING
    # A reading from before the grace ended cannot show the inverter disobeyed.
    if not flowing or measured < OBEY_GRACE.total_seconds():
        return WatchAction.WAIT
    if watch.resent_at is None:
        return WatchAction.RESEND
    since = seconds_between(watch.resent_at, now)
    return (
        WatchAction.RESEND
        if since >= RESEND_EVERY.total_seconds()
        else WatchAction.WAIT
    )


def flow_lost_too_long(lost_at: datetime, measured_at: datetime) -> bool:
    """Return whether a discharge's flow has been gone for longer than the grace."""
    return seconds_between(lost_at, measured_at) >= FLOW_LOST_GRACE.total_seconds()
