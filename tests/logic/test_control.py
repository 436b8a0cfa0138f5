"""Table tests of _decide(): every decision of a supervision tick, without hass."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import reduce
from typing import Any, Final

import pytest

from custom_components.export_monitor.logic.breaker import CircuitBreaker
from custom_components.export_monitor.logic.cadence import MeterCadence
from custom_components.export_monitor.logic.control import (
    decide,
    follow_meter,
    may_resume,
)
from custom_components.export_monitor.logic.control_active import supervision_inputs
from custom_components.export_monitor.logic.control_start import (
    BackstopControl,
    ControlSnapshot,
    InverterFacts,
    Observation,
)
from custom_components.export_monitor.logic.control_state import (
    Action,
    AutoStart,
    ControlState,
    Dismiss,
    Notify,
    Publish,
    Rearm,
    RestoreFloor,
    Save,
    Step,
    Stop,
    Warn,
    WriteFloor,
    clear_fault,
    observation,
    set_fault,
    status_of,
    view_of,
)
from custom_components.export_monitor.logic.deadman import BackstopBound
from custom_components.export_monitor.logic.errors import ErrorState
from custom_components.export_monitor.logic.lag import ExportIntegral
from custom_components.export_monitor.logic.latency import FlowWatch, reaction_seconds
from custom_components.export_monitor.logic.readings import RawState
from custom_components.export_monitor.logic.settings import settings_from_options
from custom_components.export_monitor.logic.snapshot import Source, build_snapshot
from custom_components.export_monitor.logic.status import ControllerStatus, MonitorView
from custom_components.export_monitor.logic.supervision import Session, StopReason
from custom_components.export_monitor.profiles import PROFILES
from custom_components.export_monitor.profiles.base import InverterProfile

from .common import NOW, OWED, raw

GENERIC: Final = PROFILES["generic"]
# Its keep-alive confirms a polled timer (up to a 300 s poll) before the mode goes out.
SOLAREDGE: Final = PROFILES["solaredge"]
CLOSED: Final = CircuitBreaker()
OPEN: Final = reduce(lambda b, _: b.record_failure(NOW), range(5), CircuitBreaker())
BREAKER_OK: Final = Dismiss(ErrorState.CIRCUIT_BREAKER_OPEN)
SESSION: Final = Session(
    started_at=NOW - timedelta(minutes=10),
    origin="service",
    power_kw=3.0,
    cutoff_soc=20.0,
    start_exported_kwh=3.0,
)
# A 10-minute timer armed 8 minutes ago: 2 minutes before its end, a re-arm is due.
ARMED: Final = replace(
    SESSION, backstop_minutes=10.0, backstop_armed_at=NOW - timedelta(minutes=8)
)
TIMER: Final = BackstopControl(scale=1.0, step=1.0, value=10.0)
WATCH: Final = FlowWatch(
    sent_at=NOW - timedelta(seconds=30),
    power_kw=3.0,
    export_at_stop_kw=None,
    battery_before_kw=0.0,
)
LONG_AGO: Final = NOW - timedelta(minutes=20)
# How long the inverter may run alone: 8.5 kWh headroom at 4.5 kW, less the reserve.
BOUND: Final = BackstopBound(
    minutes=pytest.approx(106.81, abs=0.01),  # type: ignore[arg-type]
    limit=StopReason.HEADROOM_EXHAUSTED,
)
COARSE: Final = BackstopControl(scale=1.0, step=120.0, value=10.0)


def _view(
    *,
    soc: str | None = "60",
    battery: str | None = None,
    grid: str | None = None,
    now: datetime = NOW,
    breaker: CircuitBreaker = CLOSED,
    controller: ControllerStatus | None = None,
    **options: Any,
) -> MonitorView:
    """Return a view (PV 12 kWh, 3 kWh exported, min SOC 20 %) with the given parts."""
    settings = settings_from_options(options)
    states: dict[Source, RawState | None] = {
        Source.SOC: None if soc is None else raw(soc, "%"),
        Source.PV_TODAY: raw("12", "kWh"),
        Source.EXPORTED_TODAY: raw("3", "kWh"),
    }
    if battery is not None:
        states[Source.BATTERY_POWER] = raw(battery, "kW")
    if grid is not None:
        states[Source.GRID_POWER] = raw(grid, "kW")
    return MonitorView(
        snapshot=build_snapshot(states, settings, NOW),
        settings=settings,
        controller=controller or ControllerStatus(),
        read_breaker=CLOSED,
        action_breaker=breaker,
        now=now,
    )


def _obs(
    view: MonitorView | None = None,
    *,
    profile: InverterProfile = GENERIC,
    cadence: MeterCadence | None = None,
    **facts: Any,
) -> Observation:
    """Return an observation of a generic inverter that reads on and has a timer."""
    defaults: dict[str, Any] = {
        "running": True,
        "timer": TIMER,
        "kwh_per_percent": 0.2,
        "shown_entity": "switch.discharge",
    }
    return Observation(
        view=view or _view(),
        inverter=InverterFacts(**(defaults | facts)),
        cadence=cadence or MeterCadence(),
        profile=profile,
        reaction_s=reaction_seconds(0.0),
    )


def _decide(state: ControlState, obs: Observation) -> Step:
    """Run decide() on an observation's parts, as the shell passes them."""
    view = obs.view
    snapshot = ControlSnapshot(
        meters=view.snapshot,
        inverter=obs.inverter,
        cadence=obs.cadence,
        read_breaker=view.read_breaker,
        action_breaker=view.action_breaker,
    )
    return decide(state, snapshot, view.settings, obs.profile, view.now)


ENTITY: Final = (("entity_id", "switch.discharge"),)
UNEXPECTED: Final = (
    Stop(StopReason.UNEXPECTED_DISCHARGE),
    BREAKER_OK,
    Warn("switch.discharge is on with no discharge running: turning it off"),
    Notify(ErrorState.UNEXPECTED_DISCHARGE, ENTITY),
    Publish(),
)
# The stop goes out first; the user is told after it.
STOP_NOT_OBEYING: Final = Stop(StopReason.INVERTER_NOT_OBEYING)
NOT_OBEYING: Final = (Notify(ErrorState.INVERTER_NOT_OBEYING), Publish())
AUTO: Final[dict[str, Any]] = {"auto_discharge": True}

IDLE: dict[str, tuple[ControlState, Observation, tuple[Action, ...]]] = {
    "nothing_to_do": (ControlState(), _obs(running=False), (BREAKER_OK,)),
    "a_stop_under_way_waits": (
        ControlState(session=SESSION),
        _obs(stopping=True),
        (BREAKER_OK,),
    ),
    "an_unconfirmed_stop_waits": (
        ControlState(stop=OWED),
        _obs(maybe_running=True),
        (BREAKER_OK,),
    ),
    "a_start_in_flight_waits": (
        ControlState(),
        _obs(starting=True, maybe_running=True),
        (BREAKER_OK,),
    ),
    "a_discharge_nobody_started_is_stopped": (
        ControlState(),
        _obs(maybe_running=True),
        UNEXPECTED,
    ),
    "a_stale_refusal_is_forgotten": (
        ControlState(refusal=ErrorState.NO_HEADROOM),
        _obs(running=False),
        (BREAKER_OK, Dismiss(ErrorState.NO_HEADROOM), Publish()),
    ),
    "a_refusal_that_still_holds_stays": (
        ControlState(refusal=ErrorState.SOC_AT_MIN),
        _obs(_view(soc="20"), running=False),
        (BREAKER_OK,),
    ),
    "outside_the_window_stays_while_outside": (
        ControlState(refusal=ErrorState.OUTSIDE_WINDOW),
        _obs(_view(export_window_start="13:00:00"), running=False),
        (BREAKER_OK,),
    ),
    "outside_the_window_goes_inside_it": (
        ControlState(refusal=ErrorState.OUTSIDE_WINDOW),
        _obs(running=False),
        (BREAKER_OK, Dismiss(ErrorState.OUTSIDE_WINDOW), Publish()),
    ),
    "auto_start_when_everything_allows": (
        ControlState(),
        _obs(_view(**AUTO), running=False),
        (BREAKER_OK, AutoStart()),
    ),
    "auto_start_retries_an_inverter_that_ignored_a_start": (
        ControlState(fault=ErrorState.INVERTER_NOT_OBEYING),
        _obs(_view(**AUTO), running=False),
        (BREAKER_OK, AutoStart()),
    ),
    "no_auto_start_after_another_fault": (
        ControlState(fault=ErrorState.UNEXPECTED_DISCHARGE),
        _obs(_view(**AUTO), running=False),
        (BREAKER_OK,),
    ),
    "no_auto_start_while_closing": (
        ControlState(),
        _obs(_view(**AUTO), running=False, closing=True),
        (BREAKER_OK,),
    ),
    "no_auto_start_outside_the_window": (
        ControlState(),
        _obs(_view(export_window_start="13:00:00", **AUTO), running=False),
        (BREAKER_OK,),
    ),
    "no_auto_start_when_blocked": (
        ControlState(),
        _obs(_view(soc="20", **AUTO), running=False),
        (BREAKER_OK,),
    ),
    "no_auto_start_soon_after_a_stop": (
        ControlState(last_stop_at=NOW, last_stop_reason=StopReason.TARGET_REACHED),
        _obs(_view(**AUTO), running=False),
        (BREAKER_OK,),
    ),
    "an_open_breaker_is_shown": (
        ControlState(),
        _obs(_view(breaker=OPEN), running=False),
        (Notify(ErrorState.CIRCUIT_BREAKER_OPEN),),
    ),
    "an_open_breaker_is_shown_once": (
        ControlState(),
        _obs(
            _view(breaker=OPEN),
            running=False,
            raised=frozenset({ErrorState.CIRCUIT_BREAKER_OPEN}),
        ),
        (),
    ),
    "a_cleared_data_fault_is_dismissed": (
        ControlState(),
        _obs(
            running=False,
            raised=frozenset({ErrorState.STALE_DATA, ErrorState.SOURCE_MISSING}),
        ),
        (
            Dismiss(ErrorState.SOURCE_MISSING),
            Dismiss(ErrorState.STALE_DATA),
            BREAKER_OK,
        ),
    ),
    "a_data_fault_the_controller_holds_stays": (
        ControlState(fault=ErrorState.SOURCE_MISSING),
        _obs(running=False, raised=frozenset({ErrorState.SOURCE_MISSING})),
        (BREAKER_OK,),
    ),
    "a_lasting_data_fault_is_shown": (
        ControlState(
            fault_since=(ErrorState.SOC_READ_FAILED, NOW - timedelta(minutes=2))
        ),
        _obs(_view(soc="unavailable"), running=False),
        (Notify(ErrorState.SOC_READ_FAILED), BREAKER_OK),
    ),
    "a_new_data_fault_waits_before_it_is_shown": (
        ControlState(fault_since=(ErrorState.STALE_DATA, LONG_AGO)),
        _obs(_view(soc="unavailable"), running=False),
        (BREAKER_OK,),
    ),
}


@pytest.mark.parametrize(("state", "obs", "expected"), IDLE.values(), ids=list(IDLE))
def test_decide_while_idle(
    state: ControlState, obs: Observation, expected: tuple[Action, ...]
) -> None:
    """Idle (or waiting on a stop or start): the actions of one tick, in order."""
    assert _decide(state, obs)[1] == expected


def test_a_lasting_data_fault_is_timed_from_its_first_sight() -> None:
    """A data fault starts its clock; it is forgotten once the data is good."""
    state, _ = _decide(ControlState(), _obs(_view(soc="unavailable"), running=False))
    assert state.fault_since == (ErrorState.SOC_READ_FAILED, NOW)
    state, _ = _decide(state, _obs(running=False))
    assert state.fault_since is None


def test_a_forgotten_refusal_is_gone_from_the_state() -> None:
    """The refusal a tick dismissed is NONE in the returned state."""
    state, _ = _decide(
        ControlState(refusal=ErrorState.NO_HEADROOM), _obs(running=False)
    )
    assert state.refusal is ErrorState.NONE


# -- the stop watch after a stop --------------------------------------------------------

WATCHED: dict[str, tuple[ControlState, str | None, tuple[Action, ...], Any]] = {
    "flow_ended_latency_kept": (
        ControlState(flow_watch=WATCH),
        "0",
        (BREAKER_OK, RestoreFloor()),
        None,
    ),
    "flow_ended_slowly_is_a_fault": (
        ControlState(flow_watch=replace(WATCH, flowing_seen_at=NOW)),
        "0",
        (
            BREAKER_OK,
            Warn("The inverter took 30 s to stop"),
            Notify(ErrorState.INVERTER_NOT_OBEYING, ENTITY),
            Publish(),
            Save(),
            RestoreFloor(),
        ),
        None,
    ),
    "still_flowing_within_the_grace_waits": (
        ControlState(flow_watch=WATCH),
        "3",
        (BREAKER_OK,),
        replace(WATCH, flowing_seen_at=NOW),
    ),
    "nothing_shows_the_flow_waits": (
        ControlState(flow_watch=WATCH),
        None,
        (BREAKER_OK,),
        WATCH,
    ),
    "still_flowing_after_the_grace_resends": (
        ControlState(flow_watch=replace(WATCH, sent_at=NOW - timedelta(minutes=2))),
        "3",
        (
            Stop(StopReason.INVERTER_NOT_OBEYING),
            BREAKER_OK,
            Warn("The inverter kept discharging after it was switched off"),
            Notify(ErrorState.INVERTER_NOT_OBEYING, ENTITY),
            Publish(),
        ),
        replace(
            WATCH,
            sent_at=NOW - timedelta(minutes=2),
            flowing_seen_at=NOW,
            resent_at=NOW,
        ),
    ),
    "a_watch_too_long_is_given_up": (
        ControlState(flow_watch=replace(WATCH, sent_at=NOW - timedelta(hours=1))),
        "3",
        (BREAKER_OK,),
        None,
    ),
    # At the floor (SOC 60 %), a battery rests whether the inverter left forced
    # discharge or not: no flow proves nothing, and the floor stays.
    "no_flow_at_the_floor_is_no_proof": (
        ControlState(flow_watch=replace(WATCH, floor_soc=59.5)),
        "0",
        (BREAKER_OK,),
        replace(WATCH, floor_soc=59.5),
    ),
    "a_flow_ended_at_the_floor_keeps_its_latency_and_the_floor": (
        ControlState(flow_watch=replace(WATCH, floor_soc=59.5, flowing_seen_at=NOW)),
        "0",
        (
            BREAKER_OK,
            Warn("The inverter took 30 s to stop"),
            Notify(ErrorState.INVERTER_NOT_OBEYING, ENTITY),
            Publish(),
            Save(),
        ),
        replace(WATCH, floor_soc=59.5),
    ),
    "no_flow_above_the_floor_ends": (
        ControlState(flow_watch=replace(WATCH, floor_soc=50.0)),
        "0",
        (BREAKER_OK, RestoreFloor()),
        None,
    ),
    "resting_the_whole_watch_gives_min_soc_back": (
        ControlState(
            flow_watch=replace(
                WATCH, floor_soc=59.5, sent_at=NOW - timedelta(minutes=10)
            )
        ),
        "0",
        (BREAKER_OK, RestoreFloor()),
        None,
    ),
    "a_watch_never_shown_gives_min_soc_back": (
        ControlState(flow_watch=replace(WATCH, sent_at=NOW - timedelta(hours=1))),
        None,
        (BREAKER_OK, RestoreFloor()),
        None,
    ),
}


@pytest.mark.parametrize(
    ("state", "battery", "expected", "watch"), WATCHED.values(), ids=list(WATCHED)
)
def test_decide_watches_the_flow_end_after_a_stop(
    state: ControlState,
    battery: str | None,
    expected: tuple[Action, ...],
    watch: FlowWatch | None,
) -> None:
    """After a stop the battery power must fall; a slow or missing end is a fault."""
    new, actions = _decide(state, _obs(_view(battery=battery), running=False))
    assert actions == expected
    assert new.flow_watch == watch


def test_a_slow_stop_raises_the_latency_kept() -> None:
    """The slowest stop seen is kept, and widens the reserve after it."""
    state = ControlState(flow_watch=replace(WATCH, flowing_seen_at=NOW))
    new, _ = _decide(state, _obs(_view(battery="0"), running=False))
    assert new.worst_latency_s == 30.0
    assert new.fault is ErrorState.INVERTER_NOT_OBEYING


# -- while a discharge runs ----------------------------------------------------------------

ACTIVE: dict[str, tuple[ControlState, Observation, tuple[Action, ...]]] = {
    "all_well": (ControlState(session=SESSION), _obs(), (BREAKER_OK, Publish())),
    "unsafe_data_stops": (
        ControlState(session=SESSION),
        _obs(_view(soc="unavailable")),
        (
            Stop(StopReason.DATA_UNSAFE),
            BREAKER_OK,
            Notify(ErrorState.SOC_READ_FAILED),
        ),
    ),
    "a_source_removed_stops_as_such": (
        ControlState(session=SESSION),
        _obs(_view(soc=None)),
        (
            Stop(StopReason.SOURCE_REMOVED),
            BREAKER_OK,
            Notify(ErrorState.SOURCE_MISSING),
        ),
    ),
    "a_stalled_counter_is_stale_data": (
        ControlState(session=SESSION),
        _obs(
            cadence=MeterCadence().begin(LONG_AGO).observe(3.0, LONG_AGO),
        ),
        (
            Stop(StopReason.DATA_UNSAFE),
            BREAKER_OK,
            Warn("The export counter stopped moving during a discharge"),
            Notify(ErrorState.STALE_DATA),
            Publish(),
        ),
    ),
    "switched_off_elsewhere": (
        ControlState(session=SESSION),
        _obs(running=False),
        (Stop(StopReason.SWITCHED_OFF_ELSEWHERE), BREAKER_OK),
    ),
    "a_polled_start_is_not_yet_off": (
        ControlState(session=replace(SESSION, started_at=NOW)),
        _obs(profile=replace(GENERIC, readback_latency_s=30.0), running=False),
        (BREAKER_OK, Publish()),
    ),
    "a_polled_start_is_off_after_its_latency": (
        ControlState(session=SESSION),
        _obs(profile=replace(GENERIC, readback_latency_s=30.0), running=False),
        (Stop(StopReason.SWITCHED_OFF_ELSEWHERE), BREAKER_OK),
    ),
    # Unchanged since the start, a polled state never showed it: the flow judges.
    "a_polled_start_never_shown_is_not_switched_off": (
        ControlState(session=SESSION),
        _obs(
            profile=replace(GENERIC, readback_latency_s=30.0),
            running=False,
            running_changed_at=SESSION.started_at,
        ),
        (BREAKER_OK, Publish()),
    ),
    "a_polled_state_that_changed_after_the_start_is_off": (
        ControlState(session=SESSION),
        _obs(
            profile=replace(GENERIC, readback_latency_s=30.0),
            running=False,
            running_changed_at=NOW,
        ),
        (Stop(StopReason.SWITCHED_OFF_ELSEWHERE), BREAKER_OK),
    ),
    "the_inverter_obeys": (
        ControlState(session=SESSION),
        _obs(_view(battery="3")),
        (
            BREAKER_OK,
            Dismiss(ErrorState.INVERTER_NOT_OBEYING),
            Publish(),
            Publish(),
        ),
    ),
    "the_inverter_obeyed_before": (
        ControlState(session=SESSION, obey_confirmed=True),
        _obs(_view(battery="3")),
        (BREAKER_OK, Publish()),
    ),
    "the_inverter_ignored_the_start": (
        ControlState(session=SESSION),
        _obs(_view(battery="0")),
        (STOP_NOT_OBEYING, BREAKER_OK, *NOT_OBEYING),
    ),
    "the_inverter_has_its_grace": (
        ControlState(session=replace(SESSION, started_at=NOW)),
        _obs(_view(battery="0")),
        (BREAKER_OK, Publish()),
    ),
    "the_flow_just_ended": (
        ControlState(session=SESSION, obey_confirmed=True),
        _obs(_view(battery="0")),
        (BREAKER_OK, Publish()),
    ),
    "the_flow_ended_long_ago": (
        ControlState(session=SESSION, obey_confirmed=True, flow_lost_at=LONG_AGO),
        _obs(_view(battery="0")),
        (
            STOP_NOT_OBEYING,
            BREAKER_OK,
            Warn("The inverter ended the forced discharge by itself"),
            *NOT_OBEYING,
        ),
    ),
    "the_timer_is_rearmed_two_minutes_before_its_end": (
        ControlState(session=ARMED),
        _obs(),
        (
            BREAKER_OK,
            Rearm(BOUND, NOW),
            Publish(),
        ),
    ),
    "no_rearm_at_half_time": (
        ControlState(
            session=replace(ARMED, backstop_armed_at=NOW - timedelta(minutes=7))
        ),
        _obs(),
        (BREAKER_OK, Publish()),
    ),
    "no_rearm_while_busy": (
        ControlState(session=ARMED),
        _obs(busy=True),
        (BREAKER_OK, Publish()),
    ),
    "no_rearm_before_half_time": (
        ControlState(session=replace(ARMED, backstop_armed_at=NOW)),
        _obs(),
        (BREAKER_OK, Publish()),
    ),
    "a_floor_taken_only_at_a_rearm_is_rearmed": (
        ControlState(
            session=replace(ARMED, backstop_armed_at=NOW), cutoff_unapplied=True
        ),
        _obs(),
        (
            BREAKER_OK,
            Rearm(BOUND, NOW),
            Publish(),
        ),
    ),
    # A re-arm that cannot go out before the timer ends is not tried: the timer runs,
    # and the discharge stops just before it ends (not "inverter not obeying").
    "a_polled_rearm_that_cannot_land_lets_the_timer_run": (
        ControlState(session=ARMED),
        _obs(profile=SOLAREDGE),
        (BREAKER_OK, Publish()),
    ),
    "a_polled_rearm_too_late_stops_before_the_timer_ends": (
        ControlState(
            session=replace(
                ARMED, backstop_armed_at=NOW - timedelta(minutes=10, seconds=-5)
            )
        ),
        _obs(profile=SOLAREDGE),
        (Stop(StopReason.HEADROOM_EXHAUSTED), BREAKER_OK),
    ),
    "a_polled_rearm_that_lands_in_time_is_sent": (
        ControlState(
            session=replace(
                ARMED,
                backstop_minutes=20.0,
                backstop_armed_at=NOW - timedelta(minutes=12),
            )
        ),
        _obs(profile=SOLAREDGE),
        (BREAKER_OK, Rearm(BOUND, NOW), Publish()),
    ),
    "a_timer_that_fits_in_no_step_stops_once_run_out": (
        ControlState(session=replace(ARMED, backstop_armed_at=LONG_AGO)),
        _obs(timer=COARSE),
        (Stop(StopReason.HEADROOM_EXHAUSTED), BREAKER_OK),
    ),
    "a_timer_that_fits_in_no_step_runs_out": (
        ControlState(session=ARMED),
        _obs(timer=COARSE),
        (BREAKER_OK, Publish()),
    ),
    "a_rising_floor_is_written": (
        ControlState(session=SESSION),
        _obs(cutoff_step=1.0, timer=None, kwh_per_percent=0.5),
        (BREAKER_OK, WriteFloor(44.0), Publish()),
    ),
    "no_second_floor_write_while_one_runs": (
        ControlState(session=SESSION, cutoff_writing=True),
        _obs(cutoff_step=1.0, timer=None, kwh_per_percent=0.5),
        (BREAKER_OK, Publish()),
    ),
    "a_floor_reached_ends_the_discharge": (
        ControlState(session=replace(SESSION, cutoff_soc=60.0)),
        _obs(cutoff_step=1.0, timer=None, kwh_per_percent=100.0),
        (Stop(StopReason.HEADROOM_EXHAUSTED), BREAKER_OK),
    ),
    "a_floor_in_place_is_kept": (
        ControlState(session=replace(SESSION, cutoff_soc=36.0)),
        _obs(cutoff_step=1.0, timer=None, floor_written_at=NOW),
        (BREAKER_OK, Publish()),
    ),
}


@pytest.mark.parametrize(
    ("state", "obs", "expected"), ACTIVE.values(), ids=list(ACTIVE)
)
def test_decide_while_active(
    state: ControlState, obs: Observation, expected: tuple[Action, ...]
) -> None:
    """A discharge runs: stop, keep its floor and timer, check the inverter obeyed."""
    assert _decide(state, obs)[1] == expected


@pytest.mark.parametrize(
    ("state", "battery", "field", "value"),
    [
        (ControlState(session=SESSION), "3", "obey_confirmed", True),
        (
            ControlState(session=SESSION, obey_confirmed=True, flow_lost_at=NOW),
            "3",
            "flow_lost_at",
            None,
        ),
        (
            ControlState(session=SESSION, obey_confirmed=True),
            "0",
            "flow_lost_at",
            NOW,
        ),
        (ControlState(session=SESSION), "0", "not_obeying_at", (NOW,)),
        (ControlState(session=SESSION), "0", "fault", ErrorState.INVERTER_NOT_OBEYING),
    ],
    ids=["confirmed", "flow_back", "flow_lost", "counted", "fault"],
)
def test_decide_keeps_what_it_learned_of_the_flow(
    state: ControlState, battery: str, field: str, value: Any
) -> None:
    """What the power flow showed is in the state returned."""
    new, _ = _decide(state, _obs(_view(battery=battery)))
    assert getattr(new, field) == value


def test_a_floor_write_is_marked_in_flight() -> None:
    """A floor write in flight is in the state, so the next tick does not repeat it."""
    obs = _obs(cutoff_step=1.0, timer=None, kwh_per_percent=0.5)
    new, _ = _decide(ControlState(session=SESSION), obs)
    assert new.cutoff_writing


# -- supervision inputs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("session", "view", "cadence", "assumed"),
    [
        (SESSION, _view(grid="3"), MeterCadence(), None),
        (SESSION, _view(), MeterCadence(), 4.5),
        (
            replace(SESSION, started_at=NOW - timedelta(minutes=1)),
            _view(),
            MeterCadence().begin(LONG_AGO).observe(3.0, NOW),
            None,
        ),
        (
            replace(SESSION, started_at=NOW + timedelta(seconds=1)),
            _view(grid="3"),
            MeterCadence(),
            4.5,
        ),
        (SESSION, _view(grid="3", daily_export_cap_kwh=5.0), MeterCadence(), None),
        (
            SESSION,
            _view(daily_export_cap_kwh=5.0),
            MeterCadence().begin(LONG_AGO).observe(3.0, NOW),
            4.5,
        ),
    ],
    ids=[
        "grid_caught_up",
        "no_reading_since_start",
        "counter_seen_since_start",
        "grid_from_before_start",
        "cap_with_grid",
        "cap_without_grid",
    ],
)
def test_the_most_assumed_while_meters_cannot_show_it(
    session: Session, view: MonitorView, cadence: MeterCadence, assumed: float | None
) -> None:
    """Until a reading after the start shows it, the inverter may deliver 1.5x."""
    inputs = supervision_inputs(ControlState(), _obs(view, cadence=cadence), session)
    assert inputs.assumed_max_kw == assumed


def test_the_headroom_is_lagged_by_the_integral() -> None:
    """Export integrated from grid power beyond the counter lowers the headroom."""
    integral = ExportIntegral(
        started_at=LONG_AGO, start_counter_kwh=3.0, integrated_kwh=1.0
    )
    plain = supervision_inputs(ControlState(), _obs(), SESSION)
    lagged = supervision_inputs(ControlState(integral=integral), _obs(), SESSION)
    assert plain.headroom_kwh is not None
    assert lagged.headroom_kwh == pytest.approx(plain.headroom_kwh - 1.0)


# -- faults, views, meter, resume -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "fault", "kept"),
    [
        (ControlState(), ErrorState.STALE_DATA, ErrorState.STALE_DATA),
        (
            ControlState(stop=OWED, fault=ErrorState.DISCHARGE_STOP_FAILED),
            ErrorState.STALE_DATA,
            ErrorState.DISCHARGE_STOP_FAILED,
        ),
        (
            ControlState(stop=OWED),
            ErrorState.DISCHARGE_STOP_FAILED,
            ErrorState.DISCHARGE_STOP_FAILED,
        ),
    ],
    ids=["idle", "an_unconfirmed_stop_stays_shown", "stop_failed"],
)
def test_set_fault(state: ControlState, fault: ErrorState, kept: ErrorState) -> None:
    """A fault is recorded and told; an unconfirmed stop stays the one shown."""
    new, actions = set_fault(state, fault, ENTITY)
    assert new.fault is kept
    assert actions == (Notify(fault, ENTITY), Publish())


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (
            ControlState(fault=ErrorState.STALE_DATA, refusal=ErrorState.STALE_DATA),
            ControlState(),
        ),
        (
            ControlState(
                fault=ErrorState.SOURCE_MISSING, refusal=ErrorState.NO_HEADROOM
            ),
            ControlState(
                fault=ErrorState.SOURCE_MISSING, refusal=ErrorState.NO_HEADROOM
            ),
        ),
    ],
    ids=["cleared", "others_kept"],
)
def test_clear_fault(state: ControlState, expected: ControlState) -> None:
    """A fault that no longer holds is cleared, and the refusal it caused."""
    new, actions = clear_fault(state, ErrorState.STALE_DATA)
    assert new == expected
    assert actions == (Dismiss(ErrorState.STALE_DATA), Publish())


def test_view_of_takes_the_state_status() -> None:
    """The view a decision judges carries the state's fault and refusal."""
    obs = _obs()
    assert view_of(ControlState(), obs) is obs.view
    state = ControlState(fault=ErrorState.DISCHARGE_STOP_FAILED)
    assert view_of(state, obs).blockers == (ErrorState.DISCHARGE_STOP_FAILED,)


def test_observation_takes_status_and_reaction_from_the_state() -> None:
    """decide()'s arguments make one look at the world; the state says its own status."""
    obs = _obs()
    snapshot = ControlSnapshot(
        meters=obs.view.snapshot,
        inverter=obs.inverter,
        cadence=obs.cadence,
        read_breaker=CLOSED,
        action_breaker=OPEN,
    )
    state = ControlState(session=SESSION, worst_latency_s=30.0)
    seen = observation(state, snapshot, obs.view.settings, GENERIC, NOW)
    assert seen.reaction_s == reaction_seconds(30.0)
    assert seen.view.action_breaker is OPEN
    assert seen.view.controller == status_of(state, obs.view.snapshot)
    assert seen.view.controller.active
    assert seen.view.controller.exported_this_session_kwh == 0.0
    idle = status_of(ControlState(stop=OWED), obs.view.snapshot)
    assert idle.active
    assert idle.exported_this_session_kwh is None


def test_follow_meter_learns_cadence_and_lag() -> None:
    """The counter's steps teach the cadence; a step behind the integral, its lag."""
    view = _view(grid="3")
    state = ControlState(session=SESSION)
    state, cadence = follow_meter(state, MeterCadence(), view.snapshot, view.settings)
    assert state.integral is not None
    assert cadence.last_change_at is not None
    idle, same = follow_meter(ControlState(), cadence, view.snapshot, view.settings)
    assert idle.integral is None
    assert same.last_change_at == cadence.last_change_at


def test_follow_meter_without_a_counter_reading() -> None:
    """Without an export value the cadence is left as it was."""
    view = _view(soc=None)
    snapshot = replace(view.snapshot, readings={})
    cadence = MeterCadence()
    assert follow_meter(ControlState(), cadence, snapshot, view.settings)[1] is cadence


@pytest.mark.parametrize(
    ("view", "stored", "expected"),
    [
        (_view(resume_when_safe=True), SESSION, True),
        (_view(), SESSION, False),
        (_view(soc="20", resume_when_safe=True), SESSION, False),
        (
            _view(resume_when_safe=True),
            replace(SESSION, started_at=NOW - timedelta(days=1)),
            False,
        ),
        (_view(resume_when_safe=True, discharge_power_kw=200.0), SESSION, False),
    ],
    ids=["safe", "not_allowed", "blocked", "another_day", "not_worth_it"],
)
def test_may_resume(view: MonitorView, stored: Session, expected: bool) -> None:
    """A stored discharge is resumed only when allowed and every start check holds."""
    assert may_resume(_obs(view), stored) is expected
