"""Tests of the view the entities show: error state, health, blockers, status."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from functools import reduce
from typing import Any

import pytest

from custom_components.export_monitor.logic.breach import BreachRecord
from custom_components.export_monitor.logic.breaker import CircuitBreaker
from custom_components.export_monitor.logic.errors import ErrorState, SystemHealth
from custom_components.export_monitor.logic.readings import RawState
from custom_components.export_monitor.logic.settings import settings_from_options
from custom_components.export_monitor.logic.snapshot import Source, build_snapshot
from custom_components.export_monitor.logic.status import (
    ControllerStatus,
    DischargeStatus,
    MonitorView,
    is_fault,
)

from .common import NOW, raw

CLOSED = CircuitBreaker()
OPEN = reduce(lambda b, _: b.record_failure(NOW), range(5), CircuitBreaker())
HALF_OPEN = reduce(
    lambda b, _: b.record_failure(NOW - timedelta(minutes=5)),
    range(5),
    CircuitBreaker(),
)
TWO_FAILURES = CircuitBreaker().record_failure(NOW).record_failure(NOW)


def _view(
    *,
    soc: str = "60",
    exported: str = "3",
    soc_age: float = 0.0,
    controller: ControllerStatus | None = None,
    read_breaker: CircuitBreaker = CLOSED,
    action_breaker: CircuitBreaker = CLOSED,
    now: datetime = NOW,
    **options: Any,
) -> MonitorView:
    """Return a view of a monitor (PV 12 kWh, min SOC 20 %) with the given parts."""
    settings = settings_from_options(options)
    states: dict[Source, RawState | None] = {
        Source.SOC: raw(soc, "%", age=soc_age),
        Source.PV_TODAY: raw("12", "kWh"),
        Source.EXPORTED_TODAY: raw(exported, "kWh"),
    }
    return MonitorView(
        snapshot=build_snapshot(states, settings, NOW),
        settings=settings,
        controller=controller or ControllerStatus(),
        read_breaker=read_breaker,
        action_breaker=action_breaker,
        now=now,
    )


STOP_FAILED = ControllerStatus(fault=ErrorState.DISCHARGE_STOP_FAILED)
REFUSED = ControllerStatus(refusal=ErrorState.OUTSIDE_WINDOW)

ERROR_STATES: dict[str, tuple[MonitorView, ErrorState]] = {
    "all_well": (_view(), ErrorState.NONE),
    "refusal": (_view(controller=REFUSED), ErrorState.OUTSIDE_WINDOW),
    "data_fault_beats_refusal": (
        _view(soc="abc", controller=REFUSED),
        ErrorState.SOC_READ_FAILED,
    ),
    "controller_fault_beats_data_fault": (
        _view(soc="abc", controller=STOP_FAILED),
        ErrorState.DISCHARGE_STOP_FAILED,
    ),
}


@pytest.mark.parametrize(
    ("view", "expected"), list(ERROR_STATES.values()), ids=list(ERROR_STATES)
)
def test_error_state(view: MonitorView, expected: ErrorState) -> None:
    """A controller fault outranks a data fault, which outranks a refusal."""
    assert view.error_state is expected


BREAKERS: dict[str, tuple[MonitorView, bool, int]] = {
    "both_closed": (_view(), False, 0),
    "closed_with_failures": (_view(action_breaker=TWO_FAILURES), False, 2),
    "read_open": (_view(read_breaker=OPEN), True, 5),
    "action_open": (_view(action_breaker=OPEN), True, 5),
    "action_half_open": (_view(action_breaker=HALF_OPEN), True, 5),
    "failures_add_up": (_view(read_breaker=TWO_FAILURES, action_breaker=OPEN), True, 7),
}


@pytest.mark.parametrize(
    ("view", "is_open", "failures"), list(BREAKERS.values()), ids=list(BREAKERS)
)
def test_breakers(view: MonitorView, is_open: bool, failures: int) -> None:
    """Either breaker not closed counts as open; failures of both are summed."""
    assert (view.breaker_open, view.breaker_failures) == (is_open, failures)


HEALTH: dict[str, tuple[MonitorView, SystemHealth]] = {
    "healthy": (_view(), SystemHealth.HEALTHY),
    "start_condition_is_healthy": (_view(soc="10"), SystemHealth.HEALTHY),
    "refusal_is_healthy": (_view(controller=REFUSED), SystemHealth.HEALTHY),
    "data_fault": (_view(soc="abc"), SystemHealth.ERROR),
    "controller_fault": (_view(controller=STOP_FAILED), SystemHealth.ERROR),
    "stale": (_view(soc_age=60), SystemHealth.STALE_DATA),
    "breaker_open": (
        _view(soc_age=60, read_breaker=OPEN),
        SystemHealth.CIRCUIT_BREAKER_OPEN,
    ),
}


@pytest.mark.parametrize(("view", "expected"), list(HEALTH.values()), ids=list(HEALTH))
def test_health(view: MonitorView, expected: SystemHealth) -> None:
    """The health word follows the view's error state, staleness and breakers."""
    assert view.health is expected


WINDOWS: dict[str, tuple[MonitorView, bool]] = {
    "default_whole_day": (_view(), True),
    "inside": (
        _view(export_window_start="10:00", export_window_end="14:00"),
        True,
    ),
    "outside": (
        _view(export_window_start="13:00", export_window_end="14:00"),
        False,
    ),
    "crossing_midnight_inside": (
        _view(
            now=NOW.replace(hour=23),
            export_window_start="22:00",
            export_window_end="06:00",
        ),
        True,
    ),
    "crossing_midnight_outside": (
        _view(export_window_start="22:00", export_window_end="06:00"),
        False,
    ),
}


@pytest.mark.parametrize(
    ("view", "expected"), list(WINDOWS.values()), ids=list(WINDOWS)
)
def test_in_export_window(view: MonitorView, expected: bool) -> None:
    """The window is judged on the local clock time of `now`."""
    assert view.in_export_window is expected


def test_window_uses_the_clock_time_of_an_aware_now() -> None:
    """An aware local `now` is compared by its wall-clock time, not raising."""
    view = _view(export_window_start="11:59", export_window_end="12:01")
    assert (view.now.tzinfo is not None, view.now.time(), view.in_export_window) == (
        True,
        time(12),
        True,
    )


BLOCKERS: dict[str, tuple[MonitorView, tuple[ErrorState, ...], DischargeStatus]] = {
    "none": (_view(), (), DischargeStatus.IDLE),
    "soc_at_min": (_view(soc="20"), (ErrorState.SOC_AT_MIN,), DischargeStatus.BLOCKED),
    "no_headroom": (
        _view(exported="11.5"),
        (ErrorState.NO_HEADROOM,),
        DischargeStatus.BLOCKED,
    ),
    "data_fault": (
        _view(soc="unavailable"),
        (ErrorState.SOC_READ_FAILED,),
        DischargeStatus.BLOCKED,
    ),
    "action_breaker_open": (
        _view(action_breaker=OPEN),
        (ErrorState.CIRCUIT_BREAKER_OPEN,),
        DischargeStatus.BLOCKED,
    ),
    "action_breaker_half_open_allows_a_try": (
        _view(action_breaker=HALF_OPEN),
        (),
        DischargeStatus.IDLE,
    ),
    "read_breaker_does_not_block": (_view(read_breaker=OPEN), (), DischargeStatus.IDLE),
    "stop_failed": (
        _view(controller=STOP_FAILED),
        (ErrorState.DISCHARGE_STOP_FAILED,),
        DischargeStatus.BLOCKED,
    ),
    "other_controller_fault_does_not_block": (
        _view(controller=ControllerStatus(fault=ErrorState.INVERTER_NOT_OBEYING)),
        (),
        DischargeStatus.IDLE,
    ),
    "refusal_does_not_block": (_view(controller=REFUSED), (), DischargeStatus.IDLE),
    "all_in_order": (
        _view(soc="15", exported="12", action_breaker=OPEN, controller=STOP_FAILED),
        (
            ErrorState.SOC_AT_MIN,
            ErrorState.NO_HEADROOM,
            ErrorState.CIRCUIT_BREAKER_OPEN,
            ErrorState.DISCHARGE_STOP_FAILED,
        ),
        DischargeStatus.BLOCKED,
    ),
    "active_even_if_blocked": (
        _view(exported="12", controller=ControllerStatus(active=True)),
        (ErrorState.NO_HEADROOM,),
        DischargeStatus.ACTIVE,
    ),
}


@pytest.mark.parametrize(
    ("view", "blockers", "status"), list(BLOCKERS.values()), ids=list(BLOCKERS)
)
def test_blockers_and_status(
    view: MonitorView, blockers: tuple[ErrorState, ...], status: DischargeStatus
) -> None:
    """Data, the action breaker and a failed stop block a start; active wins."""
    assert (view.blockers, view.discharge_status) == (blockers, status)


FAULTS: dict[str, tuple[ErrorState, bool]] = {
    "none": (ErrorState.NONE, False),
    "soc_at_min": (ErrorState.SOC_AT_MIN, False),
    "no_headroom": (ErrorState.NO_HEADROOM, False),
    "outside_window": (ErrorState.OUTSIDE_WINDOW, False),
    "soc_read_failed": (ErrorState.SOC_READ_FAILED, True),
    "stale_data": (ErrorState.STALE_DATA, True),
    "discharge_stop_failed": (ErrorState.DISCHARGE_STOP_FAILED, True),
}


@pytest.mark.parametrize(("error", "expected"), list(FAULTS.values()), ids=list(FAULTS))
def test_is_fault(error: ErrorState, expected: bool) -> None:
    """Start conditions and none are not faults; everything else is."""
    assert is_fault(error) is expected


@pytest.mark.parametrize(
    ("breach", "expected"),
    [
        (None, 0.0),
        (BreachRecord(day=NOW.date(), over_kwh=0.1, max_over_kwh=0.3456), 0.346),
        (BreachRecord(day=NOW.date() - timedelta(days=1), max_over_kwh=2.0), 0.0),
    ],
    ids=["no_record_yet", "today", "yesterday"],
)
def test_over_export_today(breach: BreachRecord | None, expected: float) -> None:
    """The view shows today's largest over-export, to the watt-hour, 0 otherwise."""
    assert replace(_view(), breach=breach).over_export_today_kwh == expected
