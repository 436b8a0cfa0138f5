"""Supervision of a running discharge: when to stop, re-arm, and whether the inverter obeyed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
import math
from typing import Final

from .cadence import MOVING_EXPORT_KW, MeterCadence

# Seconds between our evaluations plus one actuator timeout: how late a stop can land.
REACTION_SECONDS: Final = 10.0
# Stop this long before local midnight, when the daily counters reset.
MIDNIGHT_GUARD_SECONDS: Final = 30.0
BACKSTOP_MAX_MINUTES: Final = 15
# The inverter gets this long to show power flow follow a command.
OBEY_GRACE: Final = timedelta(seconds=90)
# Below this share of the setpoint the battery is not taken to be discharging.
OBEY_SHARE: Final = 0.25
IDLE_DISCHARGE_KW: Final = 0.2
AUTO_RESTART_PAUSE: Final = timedelta(minutes=5)
# After a start the inverter ignored: automatic retries, each after a longer pause.
RETRY_PAUSES: Final = (
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=45),
)
MIN_WORTHWHILE_KWH: Final = 0.1
# The inverter's timer is re-armed at least this long before it would end.
REARM_MARGIN_SECONDS: Final = 120.0


class StopReason(StrEnum):
    """Why a discharge session ended."""

    USER = "user"
    HEADROOM_EXHAUSTED = "headroom_exhausted"
    TARGET_REACHED = "target_reached"
    DURATION_ELAPSED = "duration_elapsed"
    SOC_AT_MIN = "soc_at_min"
    DATA_UNSAFE = "data_unsafe"
    CIRCUIT_BREAKER_OPEN = "circuit_breaker_open"
    WINDOW_ENDED = "window_ended"
    MIDNIGHT = "midnight"
    SWITCHED_OFF_ELSEWHERE = "switched_off_elsewhere"
    INVERTER_NOT_OBEYING = "inverter_not_obeying"
    RESTART = "restart"
    UNLOAD = "unload"
    SOURCE_REMOVED = "source_removed"
    ACTUATOR_UNAVAILABLE = "actuator_unavailable"
    START_FAILED = "start_failed"
    ALLOWANCE_EXCEEDED = "allowance_exceeded"
    UNEXPECTED_DISCHARGE = "unexpected_discharge"
    INTERNAL_ERROR = "internal_error"
    SHUTDOWN = "shutdown"
    REARM_FAILED = "rearm_failed"


# Stops after which no automatic restart happens until the user acts.
LATCHING_STOPS: Final = frozenset(
    {StopReason.USER, StopReason.INVERTER_NOT_OBEYING, StopReason.SOURCE_REMOVED}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """One supervised forced discharge."""

    started_at: datetime
    origin: str
    power_kw: float
    cutoff_soc: float
    start_exported_kwh: float
    target_export_kwh: float | None = None
    ends_at: datetime | None = None
    started_in_window: bool = True
    backstop_minutes: float | None = None
    backstop_armed_at: datetime | None = None


def seconds_between(start: datetime, end: datetime) -> float:
    """Return the real seconds from `start` to `end`, across summer-time changes."""
    # Python subtracts two local times of the same zone on the wall clock: an hour
    # off when the clocks change in between. UTC has no clock changes.
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisionInputs:
    """What supervision looks at, taken from one snapshot."""

    now: datetime
    safe: bool
    headroom_kwh: float | None
    soc: float | None
    exported_today_kwh: float | None
    export_age_seconds: float | None
    grid_export_kw: float | None
    breaker_can_attempt: bool
    in_window: bool
    enable_is_on: bool | None
    reaction_seconds: float = REACTION_SECONDS
    # The profile has a readable running state; a service-only inverter has none
    # (None then means "not readable", and the power flow is the proof instead).
    running_readable: bool = True
    # The most the inverter may deliver, while the meters cannot yet show what it
    # does (before the first reading after a start, or a cap without grid power).
    assumed_max_kw: float | None = None


def export_power_estimate_kw(
    setpoint_kw: float, grid_export_kw: float | None, counter_rate_kw: float | None
) -> float:
    """Return a cautious export power: the largest of setpoint, meter and counter rate."""
    candidates = [setpoint_kw]
    candidates += [p for p in (grid_export_kw, counter_rate_kw) if p is not None]
    return max(candidates)


def reserve_kwh(
    power_kw: float,
    cadence: MeterCadence,
    export_age_seconds: float,
    reaction_seconds: float = REACTION_SECONDS,
) -> float:
    """Return the energy that may leave before a stop decided now takes effect.

    reserve = power_kw x horizon / 3600 + one counter step (cadence.step_kwh), where
    horizon = max(meter interval, export_age_seconds) + reaction_seconds + how late
    the meter's values arrive (the declared delay or the worst lag learned, logic/lag.py). Pass as export_age_seconds the larger of the export value's report
    age and the time it has stood still during the discharge (cadence.since_change);
    reaction_seconds is the stop latency.
    """
    horizon = max(cadence.interval_seconds, export_age_seconds)
    horizon += reaction_seconds + cadence.lag_seconds
    return power_kw * horizon / 3600.0 + cadence.step_kwh


def deadman_reserve_kwh(
    past_kw: float,
    alone_kw: float,
    cadence: MeterCadence,
    export_age_seconds: float,
    reaction_seconds: float = REACTION_SECONDS,
) -> float:
    """Return the energy the inverter's own timer must leave to what is not yet seen.

    Like reserve_kwh, but the export the meter has not shown yet (its interval or
    age, and its lag) already happened, at the power the meters show (`past_kw`);
    only the write that arms the timer (reaction_seconds) lies ahead, at the most
    the inverter may deliver alone (`alone_kw`). With past_kw = alone_kw this is
    reserve_kwh.
    """
    past = max(cadence.interval_seconds, export_age_seconds) + cadence.lag_seconds
    energy = min(past_kw, alone_kw) * past + alone_kw * reaction_seconds
    return energy / 3600.0 + cadence.step_kwh


def seconds_to_local_midnight(now: datetime) -> float:
    """Return the real seconds until the next local midnight (DST-aware)."""
    midnight = datetime.combine(now.date() + timedelta(days=1), time(), now.tzinfo)
    return seconds_between(now, midnight)


def stop_reason(
    inputs: SupervisionInputs,
    session: Session,
    cadence: MeterCadence,
    min_soc: float,
) -> StopReason | None:
    """Return why the session must stop now, or None to continue."""
    if not inputs.safe or inputs.headroom_kwh is None or inputs.soc is None:
        return StopReason.DATA_UNSAFE
    if counter_stalled(inputs, session, cadence):
        return StopReason.DATA_UNSAFE
    if inputs.enable_is_on is None and inputs.running_readable:
        return StopReason.ACTUATOR_UNAVAILABLE
    if not inputs.breaker_can_attempt:
        return StopReason.CIRCUIT_BREAKER_OPEN
    if _near_midnight(inputs.now, session.started_at.date()):
        return StopReason.MIDNIGHT
    if inputs.soc <= min_soc:
        return StopReason.SOC_AT_MIN
    if _headroom_spent(inputs.headroom_kwh, inputs, session, cadence):
        return StopReason.HEADROOM_EXHAUSTED
    return _planned_end(inputs, session)


def day_ending(now: datetime) -> bool:
    """Return whether the local day ends within the midnight guard."""
    return seconds_to_local_midnight(now) <= MIDNIGHT_GUARD_SECONDS


def _near_midnight(now: datetime, session_day: date) -> bool:
    """Return whether the local day is ending (or has ended) for this session."""
    return now.date() != session_day or day_ending(now)


def _headroom_spent(
    headroom_kwh: float,
    inputs: SupervisionInputs,
    session: Session,
    cadence: MeterCadence,
) -> bool:
    """Return whether the headroom would run out before the next chance to stop."""
    power = export_power_estimate_kw(
        session.power_kw, inputs.grid_export_kw, cadence.rate_kw
    )
    power = max(power, inputs.assumed_max_kw or 0.0)
    standing = standing_seconds(cadence, inputs.now, inputs.grid_export_kw)
    age = max(inputs.export_age_seconds or 0.0, standing)
    reserve = reserve_kwh(power, cadence, age, inputs.reaction_seconds)
    return headroom_kwh <= reserve


def standing_seconds(
    cadence: MeterCadence, now: datetime, grid_export_kw: float | None
) -> float:
    """Return how long the counter stood still while export may have gone uncounted."""
    if grid_export_kw is not None and grid_export_kw < MOVING_EXPORT_KW:
        # The grid meter shows no export: a counter standing still is right.
        return 0.0
    return cadence.since_change(now)


def counter_stalled(
    inputs: SupervisionInputs, session: Session, cadence: MeterCadence
) -> bool:
    """Return whether the export counter stands still while the discharge exports."""
    # Measured export power when there is a grid sensor; else the setpoint (the
    # counter may then move slower under a house load: a stop, never a breach).
    export = inputs.grid_export_kw
    return cadence.stalled(inputs.now, session.power_kw if export is None else export)


def _planned_end(inputs: SupervisionInputs, session: Session) -> StopReason | None:
    """Return the end the user planned (target, duration, window) or an outside stop."""
    exported = session_export_kwh(session, inputs.exported_today_kwh)
    if session.target_export_kwh is not None and exported >= session.target_export_kwh:
        return StopReason.TARGET_REACHED
    if (
        session.ends_at is not None
        and seconds_between(session.ends_at, inputs.now) >= 0
    ):
        return StopReason.DURATION_ELAPSED
    if session.started_in_window and not inputs.in_window:
        return StopReason.WINDOW_ENDED
    if inputs.enable_is_on is False:
        return StopReason.SWITCHED_OFF_ELSEWHERE
    return None


def session_export_kwh(session: Session, exported_today_kwh: float | None) -> float:
    """Return what the session has exported so far by the meter."""
    if exported_today_kwh is None:
        return 0.0
    return max(0.0, exported_today_kwh - session.start_exported_kwh)


def remaining_minutes(
    session: Session,
    headroom_kwh: float,
    exported_today_kwh: float,
    now: datetime,
    *,
    export_power_kw: float | None = None,
) -> float:
    """Return the planned minutes left: headroom, target and end time all bound it."""
    power = max(session.power_kw, export_power_kw or 0.0)
    bounds = [headroom_kwh / power * 60.0]
    if session.target_export_kwh is not None:
        left = session.target_export_kwh - session_export_kwh(
            session, exported_today_kwh
        )
        bounds.append(left / session.power_kw * 60.0)
    if session.ends_at is not None:
        bounds.append(seconds_between(now, session.ends_at) / 60.0)
    return max(0.0, min(bounds))


def backstop_minutes(remaining: float) -> int:
    """Return the inverter timer to write: the remaining time rounded down, 1 to 15 min."""
    # Rounding down: if Home Assistant (or the enable switch) fails, the inverter's own
    # timer must end the discharge before the headroom is used, not a minute after.
    return max(1, min(BACKSTOP_MAX_MINUTES, math.floor(remaining)))


def backstop_seconds_left(session: Session, now: datetime) -> float:
    """Return how long the inverter's own timer still runs (0 when none is armed)."""
    if session.backstop_minutes is None or session.backstop_armed_at is None:
        return 0.0
    elapsed = seconds_between(session.backstop_armed_at, now)
    return max(0.0, session.backstop_minutes * 60.0 - elapsed)


def rearm_margin_seconds(reaction_seconds: float, writes_ahead: float) -> float:
    """Return how long before its end the inverter's timer is re-armed.

    Twice what a re-arm may take to land: the reaction delay plus `writes_ahead`,
    the worst read-back time of every write that may go out first (the keep-alive's
    and a floor write holding the lock); never under REARM_MARGIN_SECONDS.
    """
    return max(REARM_MARGIN_SECONDS, 2.0 * (reaction_seconds + writes_ahead))


def backstop_due(
    session: Session, now: datetime, margin_seconds: float = REARM_MARGIN_SECONDS
) -> bool:
    """Return whether the inverter-side timer must be (re-)armed now.

    At `margin_seconds` before the timer ends, and never before half its time: the
    timer's length (sized to the headroom when armed) bounds the export should Home
    Assistant die; when it is re-armed only decides how many writes keep it alive.
    """
    if session.backstop_minutes is None or session.backstop_armed_at is None:
        return True
    period = session.backstop_minutes * 60.0
    due_after = max(period / 2, period - margin_seconds)
    return seconds_between(session.backstop_armed_at, now) >= due_after


def discharging(setpoint_kw: float, battery_discharge_kw: float) -> bool:
    """Return whether measured battery power shows a forced discharge."""
    return battery_discharge_kw >= max(IDLE_DISCHARGE_KW, OBEY_SHARE * setpoint_kw)


def obey_check_due(commanded_at: datetime, now: datetime) -> bool:
    """Return whether the inverter has had its grace time to follow a command."""
    return seconds_between(commanded_at, now) >= OBEY_GRACE.total_seconds()


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoStartInputs:
    """What the automatic start looks at."""

    now: datetime
    enabled: bool
    in_window: bool
    blockers: tuple[str, ...]
    headroom_kwh: float | None
    last_stop_at: datetime | None
    last_stop_reason: StopReason | None
    not_obeying_today: int = 0


def auto_start_due(inputs: AutoStartInputs) -> bool:
    """Return whether the automatic discharge should start now."""
    if not inputs.enabled or not inputs.in_window or inputs.blockers:
        return False
    if inputs.headroom_kwh is None or inputs.headroom_kwh < MIN_WORTHWHILE_KWH:
        return False
    if inputs.last_stop_at is None:
        return True
    same_day = inputs.last_stop_at.date() == inputs.now.date()
    pause = AUTO_RESTART_PAUSE
    if same_day and inputs.last_stop_reason is StopReason.INVERTER_NOT_OBEYING:
        retry = retry_pause(inputs.not_obeying_today)
        if retry is None:
            return False
        pause = retry
    elif same_day and inputs.last_stop_reason in LATCHING_STOPS:
        return False
    return seconds_between(inputs.last_stop_at, inputs.now) >= pause.total_seconds()


def retry_pause(not_obeying_today: int) -> timedelta | None:
    """Return the pause before the next automatic retry; None once all are spent."""
    if not 1 <= not_obeying_today <= len(RETRY_PAUSES):
        return None
    return RETRY_PAUSES[not_obeying_today - 1]
