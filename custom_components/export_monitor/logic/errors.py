"""The error and blocker vocabulary shown to users (sensor states, service responses)."""

from __future__ import annotations

from enum import StrEnum


class ErrorState(StrEnum):
    """Why the monitor is unhealthy or why a discharge may not start."""

    NONE = "none"
    NO_DATA = "no_data"
    SOC_READ_FAILED = "soc_read_failed"
    PV_READ_FAILED = "pv_read_failed"
    EXPORT_READ_FAILED = "export_read_failed"
    STALE_DATA = "stale_data"
    COUNTER_WENT_BACKWARDS = "counter_went_backwards"
    COUNTER_NOT_RESET = "counter_not_reset"
    IMPLAUSIBLE_COUNTER = "implausible_counter"
    SOURCE_MISSING = "source_missing"
    SOC_AT_MIN = "soc_at_min"
    NO_HEADROOM = "no_headroom"
    CIRCUIT_BREAKER_OPEN = "circuit_breaker_open"
    OUTSIDE_WINDOW = "outside_window"
    DISCHARGE_POWER_SET_FAILED = "discharge_power_set_failed"
    CUTOFF_SOC_SET_FAILED = "cutoff_soc_set_failed"
    DURATION_SET_FAILED = "duration_set_failed"
    DISCHARGE_START_FAILED = "discharge_start_failed"
    DISCHARGE_STOP_FAILED = "discharge_stop_failed"
    INVERTER_NOT_OBEYING = "inverter_not_obeying"
    UNEXPECTED_DISCHARGE = "unexpected_discharge"
    INTERNAL_ERROR = "internal_error"
    # A time-slot profile's inverter clock shows no time to trust: no slot is written.
    INVERTER_CLOCK_UNREADABLE = "inverter_clock_unreadable"


class SystemHealth(StrEnum):
    """The one-word health of the monitor."""

    HEALTHY = "healthy"
    ERROR = "error"
    STALE_DATA = "stale_data"
    CIRCUIT_BREAKER_OPEN = "circuit_breaker_open"


# Conditions that only block a start; they are not faults of the monitor.
START_CONDITIONS: frozenset[ErrorState] = frozenset(
    {
        ErrorState.SOC_AT_MIN,
        ErrorState.NO_HEADROOM,
        ErrorState.OUTSIDE_WINDOW,
    }
)


# Faults a successful start clears: each said why a start or its re-arm failed.
START_FAULTS: tuple[ErrorState, ...] = (
    ErrorState.DISCHARGE_POWER_SET_FAILED,
    ErrorState.CUTOFF_SOC_SET_FAILED,
    ErrorState.DURATION_SET_FAILED,
    ErrorState.DISCHARGE_START_FAILED,
    # A stalled export counter stopped the last discharge; a new start tries again.
    ErrorState.STALE_DATA,
    ErrorState.UNEXPECTED_DISCHARGE,
    ErrorState.INTERNAL_ERROR,
    ErrorState.INVERTER_CLOCK_UNREADABLE,
)


def system_health(
    error_state: ErrorState, *, is_stale: bool, breaker_open: bool
) -> SystemHealth:
    """Summarise the error state, staleness and breaker into one health word."""
    if error_state is ErrorState.DISCHARGE_STOP_FAILED:
        return SystemHealth.ERROR
    if breaker_open:
        return SystemHealth.CIRCUIT_BREAKER_OPEN
    if is_stale or error_state is ErrorState.STALE_DATA:
        return SystemHealth.STALE_DATA
    if error_state is ErrorState.NONE or error_state in START_CONDITIONS:
        return SystemHealth.HEALTHY
    return SystemHealth.ERROR
