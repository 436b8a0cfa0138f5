"""Table tests of the start decision: the plan, its blockers, and the dead-man bounds."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.export_monitor.logic.control_start import (
    BackstopControl,
    StartRequest,
    activation_awaited,
    assess_start,
    backstop_fits,
    floor_now,
)
from custom_components.export_monitor.logic.deadman import BackstopBound
from custom_components.export_monitor.logic.errors import ErrorState
from custom_components.export_monitor.logic.supervision import StopReason

from .common import NOW
from .test_control import _obs, _view

ONE_MINUTE = BackstopBound(minutes=1.0, limit=StopReason.HEADROOM_EXHAUSTED)
HALF_MINUTE = BackstopBound(minutes=0.5, limit=StopReason.HEADROOM_EXHAUSTED)


@pytest.mark.parametrize(
    ("facts", "bound", "fits"),
    [
        ({"timer": None, "timed": True}, ONE_MINUTE, True),
        ({"timer": None, "timed": True}, HALF_MINUTE, False),
        ({"timer": None, "timed": False}, HALF_MINUTE, True),
        (
            {"timer": BackstopControl(scale=None, step=None, value=None)},
            HALF_MINUTE,
            True,
        ),
        ({"timer": BackstopControl(scale=1.0, step=1.0, value=None)}, ONE_MINUTE, True),
        (
            {"timer": BackstopControl(scale=1.0, step=1.0, value=None)},
            HALF_MINUTE,
            False,
        ),
    ],
    ids=[
        "field_timer_a_minute",
        "field_timer_under_a_minute",
        "no_timer_at_all",
        "unit_not_a_time",
        "entity_fits",
        "entity_below_its_step",
    ],
)
def test_backstop_fits(facts: dict[str, Any], bound: BackstopBound, fits: bool) -> None:
    """The timer can be armed within the bound, by its entity's step or as a field."""
    assert backstop_fits(_obs(**facts), bound) is fits


START: dict[str, tuple[dict[str, Any], StartRequest, bool, list[str]]] = {
    "worth_it": ({}, StartRequest(), True, []),
    "auto_outside_the_window": (
        {"export_window_start": "13:00:00"},
        StartRequest(origin="auto"),
        True,
        [ErrorState.OUTSIDE_WINDOW],
    ),
    "user_outside_the_window": (
        {"export_window_start": "13:00:00"},
        StartRequest(),
        True,
        [],
    ),
    "no_soc_no_plan": (
        {"soc": "unavailable"},
        StartRequest(),
        False,
        [ErrorState.SOC_READ_FAILED],
    ),
    "day_ending": (
        {"now": NOW.replace(hour=23, minute=59, second=50)},
        StartRequest(),
        True,
        [ErrorState.NO_HEADROOM],
    ),
    "reserve_above_headroom": (
        {"discharge_power_kw": 400.0},
        StartRequest(),
        True,
        [ErrorState.NO_HEADROOM],
    ),
}


@pytest.mark.parametrize(
    ("options", "request_", "planned", "blockers"), START.values(), ids=list(START)
)
def test_assess_start(
    options: dict[str, Any],
    request_: StartRequest,
    planned: bool,
    blockers: list[str],
) -> None:
    """What a start would plan, and every reason it is refused."""
    plan, found = assess_start(_obs(_view(**options)), request_)
    assert (plan is not None) is planned
    assert found == blockers


@pytest.mark.parametrize(
    ("facts", "blockers"),
    [
        (
            {"timer": BackstopControl(scale=1.0, step=120.0, value=0.0)},
            [ErrorState.NO_HEADROOM],
        ),
        ({"timer": None, "kwh_per_percent": 100.0}, [ErrorState.NO_HEADROOM]),
    ],
    ids=["shortest_timer_outlasts_headroom", "floor_at_the_soc"],
)
def test_a_start_the_dead_man_cannot_bound_is_refused(
    facts: dict[str, Any], blockers: list[str]
) -> None:
    """No start when neither the inverter's timer nor the SOC floor can bound it."""
    assert assess_start(_obs(**facts), StartRequest())[1] == blockers


def test_no_floor_without_a_soc() -> None:
    """Without a SOC reading there is no floor to write."""
    assert floor_now(_obs(_view(soc="unavailable")), 5.0, 3.0, 0.0) is None


@pytest.mark.parametrize(
    ("latency_s", "awaited"),
    [
        (300.0, False),  # SolarEdge's 300 s scan, whatever its timer
        (30.0, True),  # half the shortest timer (Fox ESS, Huawei, GivEnergy)
        (30.5, False),
        (0.0, True),
    ],
)
def test_a_polled_activation_is_awaited_only_within_half_a_minute(
    latency_s: float, awaited: bool
) -> None:
    """A start waits for its activation only when it reads back within 30 s."""
    assert activation_awaited(latency_s) is awaited
