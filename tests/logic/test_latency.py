"""Table tests of the after-stop watch: flow ended, latency, when to re-send off."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.export_monitor.logic.latency import (
    RETRY_BACKOFF_SECONDS,
    FlowWatch,
    WatchAction,
    flow_lost_too_long,
    flow_on,
    latency_seconds,
    may_rest,
    observe,
    reaction_seconds,
    watch_action,
)
from custom_components.export_monitor.logic.persist import latency_from_data
from custom_components.export_monitor.logic.supervision import (
    REACTION_SECONDS,
    AutoStartInputs,
    StopReason,
    auto_start_due,
    retry_pause,
)

LONDON = ZoneInfo("Europe/London")
SENT = datetime(2026, 6, 15, 12, 0, tzinfo=LONDON)
WATCH = FlowWatch(
    sent_at=SENT, power_kw=3.0, export_at_stop_kw=4.0, battery_before_kw=0.5
)


def at(seconds: float) -> datetime:
    """Return the moment `seconds` after the stop was sent."""
    return SENT + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("worst", "expected"),
    [(0.0, REACTION_SECONDS), (60.0, 60.0)],
    ids=["default", "seen"],
)
def test_reaction_seconds(worst: float, expected: float) -> None:
    """The reserve assumes the worst latency seen, 10 s at least, plus a retry."""
    assert reaction_seconds(worst) == expected + RETRY_BACKOFF_SECONDS


FLOWS = {
    "both_discharging": (3.0, 3.0, True),
    "both_house_only": (1.0, 0.0, False),
    "battery_only_house": (1.5, None, False),
    "battery_only_forced": (3.0, None, True),
    "grid_only_surplus_left": (None, 1.5, False),
    "grid_only_still_on": (None, 3.5, True),
    "nothing": (None, None, None),
}


@pytest.mark.parametrize(
    ("battery", "export", "expected"), list(FLOWS.values()), ids=list(FLOWS)
)
def test_flow_on(
    battery: float | None, export: float | None, expected: bool | None
) -> None:
    """Battery and grid, battery against its own load, grid against the stop."""
    assert flow_on(WATCH, battery, export) is expected


def test_flow_on_grid_without_a_baseline() -> None:
    """Grid power alone with no baseline at the stop cannot tell."""
    watch = FlowWatch(
        sent_at=SENT, power_kw=3.0, export_at_stop_kw=None, battery_before_kw=None
    )
    assert flow_on(watch, None, 3.0) is None


@pytest.mark.parametrize(
    ("flowing", "seconds", "seen"),
    [(True, 20, at(20)), (True, -5, None), (False, 20, None), (None, 20, None)],
    ids=["flowing", "before_the_stop", "ended", "unknown"],
)
def test_observe(flowing: bool | None, seconds: float, seen: datetime | None) -> None:
    """Only a reading after the stop that still shows the flow moves the mark."""
    assert observe(WATCH, flowing, at(seconds)).flowing_seen_at == seen


@pytest.mark.parametrize(
    ("seen", "expected"),
    [(None, 0.0), (at(45), 45.0)],
    ids=["never_seen", "seen_at_45s"],
)
def test_latency_seconds(seen: datetime | None, expected: float) -> None:
    """The latency runs to the last reading that still showed the flow."""
    watch = FlowWatch(
        sent_at=SENT,
        power_kw=3.0,
        export_at_stop_kw=None,
        battery_before_kw=None,
        flowing_seen_at=seen,
    )
    assert latency_seconds(watch) == expected


ACTIONS: dict[str, tuple[dict[str, Any], bool | None, float, float, WatchAction]] = {
    "ended": ({}, False, 10, 10, WatchAction.ENDED),
    "ended_reading_too_old": ({}, False, -1, 10, WatchAction.WAIT),
    "unknown": ({}, None, 30, 30, WatchAction.WAIT),
    "within_grace": ({}, True, 60, 60, WatchAction.WAIT),
    "after_grace": ({}, True, 90, 90, WatchAction.RESEND),
    "resent_recently": ({"resent_at": at(90)}, True, 120, 120, WatchAction.WAIT),
    "resend_again": ({"resent_at": at(90)}, True, 150, 150, WatchAction.RESEND),
    "give_up": ({}, None, 600, 600, WatchAction.GIVE_UP),
}


@pytest.mark.parametrize(
    ("changes", "flowing", "measured", "now", "expected"),
    list(ACTIONS.values()),
    ids=list(ACTIONS),
)
def test_watch_action(
    changes: dict[str, Any],
    flowing: bool | None,
    measured: float,
    now: float,
    expected: WatchAction,
) -> None:
    """Ended is ended; flow after the grace re-sends off every minute; 10 min at most."""
    watch = FlowWatch(
        sent_at=SENT,
        power_kw=3.0,
        export_at_stop_kw=None,
        battery_before_kw=None,
        **changes,
    )
    assert watch_action(watch, flowing, at(measured), at(now)) is expected


@pytest.mark.parametrize(
    ("floor", "soc", "expected"),
    [(None, 40.0, False), (40.0, 41.0, True), (40.0, 41.1, False), (40.0, None, True)],
    ids=["min_soc_held", "within_a_percent", "above_it", "soc_unknown"],
)
def test_may_rest(floor: float | None, soc: float | None, expected: bool) -> None:
    """A battery may rest at the floor held at the stop while SOC reads near it."""
    assert may_rest(replace(WATCH, floor_soc=floor), soc) is expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [(30, WatchAction.RESTING), (600, WatchAction.GIVE_UP)],
    ids=["within_the_span", "span_over"],
)
def test_no_flow_while_resting_is_no_proof(now: float, expected: WatchAction) -> None:
    """Resting at the floor, no flow is no proof the stop took effect: watch on."""
    assert watch_action(WATCH, False, at(now), at(now), resting=True) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(42.5, 42.5), (7, 7.0), (None, 0.0), ("slow", 0.0), (True, 0.0), (-3.0, 0.0)],
    ids=["float", "int", "missing", "text", "bool", "negative"],
)
def test_latency_from_data(value: object, expected: float) -> None:
    """A stored latency is a positive finite number of seconds, else none."""
    assert latency_from_data(value) == expected


def test_latency_from_data_not_finite() -> None:
    """An infinite stored latency counts as none."""
    assert latency_from_data(float("inf")) == 0.0


@pytest.mark.parametrize(
    ("seconds", "expected"), [(59, False), (60, True)], ids=["within", "too_long"]
)
def test_flow_lost_too_long(seconds: float, expected: bool) -> None:
    """A confirmed flow gone for a minute was ended by the inverter."""
    assert flow_lost_too_long(SENT, at(seconds)) is expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, None), (1, 5), (2, 15), (3, 45), (4, None)],
    ids=["none_yet", "first", "second", "third", "spent"],
)
def test_retry_pause(count: int, expected: int | None) -> None:
    """Retries after ignored starts wait 5, 15 and 45 min, then stop for the day."""
    pause = retry_pause(count)
    assert (None if pause is None else pause.total_seconds() / 60) == expected


RETRIES = {
    "first_too_soon": (1, 299, False),
    "first_after_5_min": (1, 300, True),
    "second_after_15_min": (2, 900, True),
    "second_too_soon": (2, 899, False),
    "all_spent": (4, 10_000, False),
}


@pytest.mark.parametrize(
    ("count", "seconds", "expected"), list(RETRIES.values()), ids=list(RETRIES)
)
def test_auto_start_retries_an_ignored_start(
    count: int, seconds: float, expected: bool
) -> None:
    """After an ignored start, automatic starts retry with growing pauses (#10)."""
    inputs = AutoStartInputs(
        now=at(seconds),
        enabled=True,
        in_window=True,
        blockers=(),
        headroom_kwh=1.0,
        last_stop_at=SENT,
        last_stop_reason=StopReason.INVERTER_NOT_OBEYING,
        not_obeying_today=count,
    )
    assert auto_start_due(inputs) is expected
