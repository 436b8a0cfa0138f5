"""The inverter's own timer (the dead-man): how long it may run alone, and read-back rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import math
from typing import Final

from .supervision import (
    BACKSTOP_MAX_MINUTES,
    MIDNIGHT_GUARD_SECONDS,
    StopReason,
    seconds_to_local_midnight,
)

# Without a declared inverter maximum, assume it may deliver this much more than planned:
# an inverter left at a higher setting, or one that ignores the power write.
INVERTER_POWER_FACTOR: Final = 1.5
SHORTEST_BACKSTOP_MINUTES: Final = 1.0
# Minutes per unit of a duration entity; any other unit is refused.
MINUTES_PER_UNIT: Final[dict[str, float]] = {"s": 1.0 / 60.0, "min": 1.0, "h": 60.0}
# Floating-point slack when comparing values read back with values written.
_EPSILON: Final = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class BackstopBound:
    """The longest the inverter may run alone, and the limit that sets it."""

    minutes: float
    limit: StopReason


def duration_scale(unit: str | None) -> float | None:
    """Return minutes per unit of a duration entity, None when the unit is not time."""
    return None if unit is None else MINUTES_PER_UNIT.get(unit.strip())


def deadman_power_kw(
    planned_kw: float, estimate_kw: float, inverter_max_kw: float | None
) -> float:
    """Return the highest export power while the inverter runs alone."""
    assumed = inverter_max_kw or planned_kw * INVERTER_POWER_FACTOR
    return max(assumed, estimate_kw)


def backstop_bound(
    *,
    headroom_kwh: float,
    reserve_kwh: float,
    power_kw: float,
    now: datetime,
    plan: tuple[float, StopReason] | None = None,
) -> BackstopBound:
    """Return how long the inverter may run alone: headroom, local midnight and plan."""
    bounds = [
        ((headroom_kwh - reserve_kwh) / power_kw * 60.0, StopReason.HEADROOM_EXHAUSTED),
        (
            (seconds_to_local_midnight(now) - MIDNIGHT_GUARD_SECONDS) / 60.0,
            StopReason.MIDNIGHT,
        ),
    ]
    if plan is not None:
        bounds.append(plan)
    minutes, limit = min(bounds, key=lambda bound: bound[0])
    return BackstopBound(minutes=max(0.0, minutes), limit=limit)


def backstop_setting(
    bound_minutes: float, minutes_per_unit: float, step: float | None
) -> float | None:
    """Return the timer to write in the entity's unit, None when under one minute.

    Rounded down to the entity's step (whole units without one), so an entity that
    rounds to its step never arms a longer timer than the bound.
    """
    units = min(bound_minutes, BACKSTOP_MAX_MINUTES) / minutes_per_unit
    grain = _grain(step)
    units = math.floor(units / grain + _EPSILON) * grain
    if units * minutes_per_unit < SHORTEST_BACKSTOP_MINUTES - _EPSILON:
        return None
    return units


def changed_backstop_setting(
    bound_minutes: float,
    minutes_per_unit: float,
    step: float | None,
    current: float | None,
) -> float | None:
    """Return the timer to write, changed from the value the entity holds now.

    Some inverters re-arm their timer only when its value changes: writing the same
    value again would let it run out while the discharge is believed to go on. So a
    timer equal to the current one is written one step shorter. At the shortest timer
    the same value is written again; the flow check notices an inverter that then
    ends the discharge by itself.
    """
    setting = backstop_setting(bound_minutes, minutes_per_unit, step)
    grain = _grain(step)
    if setting is None or current is None or abs(current - setting) > grain / 2:
        return setting
    shorter = setting - grain
    if shorter * minutes_per_unit < SHORTEST_BACKSTOP_MINUTES - _EPSILON:
        return setting
    return shorter


def timer_changes(
    bound_minutes: float,
    minutes_per_unit: float,
    step: float | None,
    current: float | None,
) -> bool:
    """Return whether a re-arm within the bound writes a value other than `current`.

    On an inverter whose timer restarts only on a changed value, a re-arm that can
    only write the value it holds re-arms nothing: it is not sent, and the running
    timer ends the discharge.
    """
    setting = changed_backstop_setting(bound_minutes, minutes_per_unit, step, current)
    if setting is None:
        return False
    return current is None or abs(current - setting) > _grain(step) / 2


def _grain(step: float | None) -> float:
    """Return the granularity a timer is written in: its step, whole units without."""
    return step if step is not None and step > 0 else 1.0


class RearmAction(StrEnum):
    """What to do when the inverter's timer is due to be re-armed."""

    REARM = "rearm"
    STOP = "stop"
    WAIT = "wait"


def rearm_action(
    bound: BackstopBound,
    backstop_fits: bool,
    timer_left_seconds: float,
    lead_seconds: float = 0.0,
) -> RearmAction:
    """Return whether to re-arm the timer, stop now, or let the running timer end.

    A running timer that would outlast the bound stops at once. One within it is the
    dead-man still: when no timer fits (under a minute of headroom, the entity's
    step, or no changed value), it is left to run, and the discharge is stopped
    `lead_seconds` before it ends (so the stop, not the timer, ends it). When the day
    or the plan ends within a minute, the running timer is left to end with it.
    """
    if bound.minutes >= SHORTEST_BACKSTOP_MINUTES and backstop_fits:
        return RearmAction.REARM
    if timer_left_seconds > bound.minutes * 60.0 + _EPSILON:
        return RearmAction.STOP
    short = bound.minutes < SHORTEST_BACKSTOP_MINUTES
    if short and bound.limit is not StopReason.HEADROOM_EXHAUSTED:
        return RearmAction.WAIT  # the day or the plan ends within a minute anyway
    ending = timer_left_seconds <= lead_seconds + _EPSILON
    return RearmAction.STOP if ending else RearmAction.WAIT


def readback_problem(
    actual: float | None,
    wanted: float,
    step: float,
    *,
    at_most: float | None = None,
    at_least: float | None = None,
) -> str | None:
    """Return why a value read back is not acceptable, None when it is."""
    if actual is None:
        return f"read back nothing, wanted {wanted}"
    if at_most is not None and actual > at_most + _EPSILON:
        return f"read back {actual}, more than {at_most}"
    if at_least is not None and actual < at_least - _EPSILON:
        return f"read back {actual}, less than {at_least}"
    if abs(actual - wanted) > step / 2.0 + _EPSILON:
        return f"read back {actual}, wanted {wanted}"
    return None
