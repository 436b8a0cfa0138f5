"""Tests of the error vocabulary and the one-word system health."""

from __future__ import annotations

import pytest

from custom_components.export_monitor.logic.errors import (
    START_CONDITIONS,
    ErrorState,
    SystemHealth,
    system_health,
)

# What CONTRACT.md promises users and their automations.
CONTRACT_ERROR_STATES = {
    "none",
    "soc_read_failed",
    "stale_data",
    "no_data",
    "discharge_power_set_failed",
    "discharge_start_failed",
    "discharge_stop_failed",
}
CONTRACT_HEALTH = {"healthy", "error", "stale_data", "circuit_breaker_open"}

# Faults of the monitor: reported as `error` health.
FAULTS = (
    ErrorState.NO_DATA,
    ErrorState.SOC_READ_FAILED,
    ErrorState.PV_READ_FAILED,
    ErrorState.EXPORT_READ_FAILED,
    ErrorState.COUNTER_WENT_BACKWARDS,
    ErrorState.COUNTER_NOT_RESET,
    ErrorState.IMPLAUSIBLE_COUNTER,
    ErrorState.SOURCE_MISSING,
    ErrorState.CIRCUIT_BREAKER_OPEN,
    ErrorState.DISCHARGE_POWER_SET_FAILED,
    ErrorState.CUTOFF_SOC_SET_FAILED,
    ErrorState.DURATION_SET_FAILED,
    ErrorState.DISCHARGE_START_FAILED,
    ErrorState.DISCHARGE_STOP_FAILED,
    ErrorState.INVERTER_NOT_OBEYING,
    ErrorState.UNEXPECTED_DISCHARGE,
    ErrorState.INTERNAL_ERROR,
    ErrorState.INVERTER_CLOCK_UNREADABLE,
)
# Reasons not to start that are not faults: reported as `healthy`.
CONDITIONS = (ErrorState.SOC_AT_MIN, ErrorState.NO_HEADROOM, ErrorState.OUTSIDE_WINDOW)


def test_contract_error_states_exist() -> None:
    """Every error state named in CONTRACT.md is a value of ErrorState."""
    assert set(ErrorState) >= CONTRACT_ERROR_STATES


def test_contract_health_values() -> None:
    """System health has exactly the states named in CONTRACT.md."""
    assert set(SystemHealth) == CONTRACT_HEALTH


def test_every_error_state_is_classified() -> None:
    """Each error state is a fault, a start condition, staleness or none."""
    assert {*FAULTS, *CONDITIONS, ErrorState.NONE, ErrorState.STALE_DATA} == set(
        ErrorState
    )


def test_start_conditions() -> None:
    """Only the reasons that merely block a start are start conditions."""
    assert set(CONDITIONS) == START_CONDITIONS


HEALTH: dict[str, tuple[ErrorState, bool, bool, SystemHealth]] = {
    "all_well": (ErrorState.NONE, False, False, SystemHealth.HEALTHY),
    "soc_at_min_is_healthy": (
        ErrorState.SOC_AT_MIN,
        False,
        False,
        SystemHealth.HEALTHY,
    ),
    "no_headroom_is_healthy": (
        ErrorState.NO_HEADROOM,
        False,
        False,
        SystemHealth.HEALTHY,
    ),
    "outside_window_is_healthy": (
        ErrorState.OUTSIDE_WINDOW,
        False,
        False,
        SystemHealth.HEALTHY,
    ),
    "stale_flag": (ErrorState.NONE, True, False, SystemHealth.STALE_DATA),
    "stale_error_state": (ErrorState.STALE_DATA, False, False, SystemHealth.STALE_DATA),
    "stale_both": (ErrorState.STALE_DATA, True, False, SystemHealth.STALE_DATA),
    "stale_beats_fault": (
        ErrorState.SOC_READ_FAILED,
        True,
        False,
        SystemHealth.STALE_DATA,
    ),
    "stale_beats_condition": (
        ErrorState.SOC_AT_MIN,
        True,
        False,
        SystemHealth.STALE_DATA,
    ),
    "breaker_alone": (ErrorState.NONE, False, True, SystemHealth.CIRCUIT_BREAKER_OPEN),
    "breaker_beats_stale": (
        ErrorState.STALE_DATA,
        True,
        True,
        SystemHealth.CIRCUIT_BREAKER_OPEN,
    ),
    "breaker_beats_fault": (
        ErrorState.DISCHARGE_START_FAILED,
        False,
        True,
        SystemHealth.CIRCUIT_BREAKER_OPEN,
    ),
    "failed_stop_beats_breaker": (
        ErrorState.DISCHARGE_STOP_FAILED,
        False,
        True,
        SystemHealth.ERROR,
    ),
    "failed_stop_beats_stale": (
        ErrorState.DISCHARGE_STOP_FAILED,
        True,
        False,
        SystemHealth.ERROR,
    ),
    "breaker_beats_condition": (
        ErrorState.NO_HEADROOM,
        False,
        True,
        SystemHealth.CIRCUIT_BREAKER_OPEN,
    ),
}


@pytest.mark.parametrize(
    ("error_state", "is_stale", "breaker_open", "expected"),
    list(HEALTH.values()),
    ids=list(HEALTH),
)
def test_system_health(
    error_state: ErrorState, is_stale: bool, breaker_open: bool, expected: SystemHealth
) -> None:
    """A failed stop outranks all; then the breaker, staleness, faults; conditions are healthy."""
    assert (
        system_health(error_state, is_stale=is_stale, breaker_open=breaker_open)
        is expected
    )


@pytest.mark.parametrize("fault", FAULTS, ids=[str(fault) for fault in FAULTS])
def test_faults_are_errors(fault: ErrorState) -> None:
    """Every fault, when fresh and with the breaker closed, is `error` health."""
    assert (
        system_health(fault, is_stale=False, breaker_open=False) is SystemHealth.ERROR
    )
