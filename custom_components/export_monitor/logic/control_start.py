"""Start decisions: the plan, what blocks it, and how long the inverter may run alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..profiles.base import InverterProfile
from .breaker import CircuitBreaker
from .cadence import MeterCadence
from .deadman import (
    SHORTEST_BACKSTOP_MINUTES,
    BackstopBound,
    backstop_bound,
    changed_backstop_setting,
    deadman_power_kw,
)
from .errors import ErrorState
from .plan import DischargePlan, make_plan
from .readings import reserve_age_seconds
from .snapshot import Snapshot, Source, export_power_kw
from .soc_floor import soc_floor
from .status import MonitorView
from .supervision import (
    StopReason,
    day_ending,
    deadman_reserve_kwh,
    export_power_estimate_kw,
    reserve_kwh,
    standing_seconds,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StartRequest:
    """What a caller asks of a discharge; missing fields come from the settings."""

    power_kw: float | None = None
    duration_minutes: float | None = None
    target_export_kwh: float | None = None
    origin: str = "service"


@dataclass(frozen=True, slots=True, kw_only=True)
class BackstopControl:
    """The inverter-side timer entity as it reads now."""

    scale: float | None  # minutes per unit; None when its unit is not a time
    step: float | None
    value: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class InverterFacts:
    """What the shell read of the inverter, its helpers and its own work in flight."""

    running: bool | None = None
    # When the running state last changed: one polled at the integration's next poll
    # that has not changed since a start never showed it.
    running_changed_at: datetime | None = None
    maybe_running: bool = False
    readable: bool = True
    timed: bool = False  # the start sends a timer in a service field
    # The profile's slot is on the inverter's clock and that clock shows no time to
    # trust (logic/inverter_clock.py): no slot can be written.
    clock_unreadable: bool = False
    timer: BackstopControl | None = None  # None: no timer entity chosen
    cutoff_step: float | None = None
    kwh_per_percent: float = 0.0
    floor_written_at: datetime | None = None
    floor_writes_left: int | None = None
    shown_entity: str = ""
    raised: frozenset[str] = frozenset()
    busy: bool = False  # a start or re-arm holds the lock
    starting: bool = False
    stopping: bool = False
    closing: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """One look at the world: the view, the inverter, the meter and the profile."""

    view: MonitorView
    inverter: InverterFacts
    cadence: MeterCadence
    profile: InverterProfile
    reaction_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlSnapshot:
    """What the shell read for one decision: the meters, the inverter, the breakers."""

    meters: Snapshot
    inverter: InverterFacts
    cadence: MeterCadence
    read_breaker: CircuitBreaker
    action_breaker: CircuitBreaker


def activation_awaited(latency_s: float) -> bool:
    """Return whether a start waits for its polled activation to read back.

    Only when it reads back within half the shortest timer (30 s): a start that waits
    longer leaves the discharge it began without the headroom rule meanwhile (SolarEdge:
    a 300 s poll; with a 113 s timer the whole discharge ran unsupervised). Otherwise
    the session begins when it goes out and judges it (running state and power flow).
    """
    return latency_s <= SHORTEST_BACKSTOP_MINUTES * 30.0


def backstop_fits(obs: Observation, bound: BackstopBound) -> bool:
    """Return whether the inverter's timer can be (re-)armed within `bound`."""
    timer = obs.inverter.timer
    if timer is None:
        # A timer sent as a service field (whole seconds or minutes) needs a minute.
        return bound.minutes >= SHORTEST_BACKSTOP_MINUTES or not obs.inverter.timed
    if timer.scale is None:
        return True  # the write itself fails, and says why
    setting = changed_backstop_setting(
        bound.minutes, timer.scale, timer.step, timer.value
    )
    return setting is not None


def deadman_reserve(
    obs: Observation,
    power_kw: float,
    surplus_kw: float,
    since: datetime | None = None,
) -> tuple[float, float]:
    """Return the most the inverter may export alone (kW) and what it may do unseen.

    `since`: when the running discharge started (None before a start). What the
    meter has not shown yet went out at the measured power once a grid reading
    since then shows the discharge; until then, at the most it may deliver.
    """
    view = obs.view
    grid = export_power_kw(view.snapshot, view.settings)
    estimate = export_power_estimate_kw(power_kw, grid, obs.cadence.rate_kw)
    power = deadman_power_kw(power_kw, estimate, view.settings.inverter_max_kw)
    power += surplus_kw
    age = reserve_age_seconds(view.snapshot.readings.get(Source.EXPORTED_TODAY))
    age = max(age, standing_seconds(obs.cadence, view.now, grid))
    past = estimate + surplus_kw if export_measured(view, since) else power
    return power, deadman_reserve_kwh(past, power, obs.cadence, age, obs.reaction_s)


def export_measured(view: MonitorView, since: datetime | None) -> bool:
    """Return whether a grid reading since the start shows the running discharge.

    Not before a start: the start's timer must hold until a reading shows the
    discharge (else the start would be stopped at once, and started again).
    """
    grid = view.snapshot.readings.get(Source.GRID_POWER)
    if since is None or grid is None or grid.reported_at is None:
        return False
    return grid.usable and grid.reported_at >= since


def alone_bound(
    obs: Observation,
    power_kw: float,
    plan: tuple[float, StopReason] | None,
    surplus_kw: float,
    since: datetime | None = None,
) -> BackstopBound:
    """Return how long the inverter may run alone, should Home Assistant die now."""
    power, reserve = deadman_reserve(obs, power_kw, surplus_kw, since)
    return backstop_bound(
        headroom_kwh=obs.view.snapshot.headroom_kwh or 0.0,
        reserve_kwh=reserve,
        power_kw=power,
        now=obs.view.now,
        plan=plan,
    )


def floor_now(
    obs: Observation,
    headroom_kwh: float,
    power_kw: float,
    surplus_kw: float,
    since: datetime | None = None,
) -> float | None:
    """Return the SOC floor that bounds the battery, should Home Assistant die now.

    None without a SOC: nothing to write (supervision stops on unsafe data).
    """
    soc = obs.view.snapshot.value(Source.SOC)
    if soc is None:
        return None
    _, reserve = deadman_reserve(obs, power_kw, surplus_kw, since)
    profile = obs.profile
    return soc_floor(
        soc=soc,
        min_soc=obs.view.settings.min_soc,
        headroom_kwh=headroom_kwh,
        reserve_kwh=reserve,
        kwh_per_percent=obs.inverter.kwh_per_percent,
        step=obs.inverter.cutoff_step,
        above_soc_imports=profile.cutoff_above_soc_imports,
        raise_pct=profile.cutoff_raise_pct,
        backstop_backed=backstop_backed(obs),
    )


def backstop_backed(obs: Observation) -> bool:
    """Return whether the inverter's own timer bounds the run, not the floor alone."""
    # Unless it exports on fallback. A timer entity, or one sent in the start's
    # fields (Huawei's duration).
    inverter = obs.inverter
    timed = inverter.timer is not None or inverter.timed
    return timed and not obs.profile.needs_soc_floor


def _surplus_kw(view: MonitorView) -> float:
    """Return the export already flowing before a discharge adds to it."""
    return max(0.0, export_power_kw(view.snapshot, view.settings) or 0.0)


def start_bound(obs: Observation, plan: DischargePlan) -> BackstopBound:
    """Return how long the inverter may run alone if a start happened now."""
    surplus = _surplus_kw(obs.view)
    minutes = plan.energy_kwh / (plan.power_kw + surplus) * 60.0
    return alone_bound(
        obs, plan.power_kw, (minutes, StopReason.TARGET_REACHED), surplus
    )


def start_floor(obs: Observation, plan: DischargePlan) -> float:
    """Return the SOC floor a start would write now."""
    headroom = obs.view.snapshot.headroom_kwh or 0.0
    floor = floor_now(obs, headroom, plan.power_kw, _surplus_kw(obs.view))
    # Without a SOC there is no plan; were there one, no floor means no start.
    return 100.0 if floor is None else floor


def plan_for(view: MonitorView, request: StartRequest) -> DischargePlan | None:
    """Plan the discharge for a request from the latest snapshot."""
    snapshot = view.snapshot
    soc = snapshot.value(Source.SOC)
    if snapshot.headroom_kwh is None or soc is None or not snapshot.safe:
        return None
    return make_plan(
        headroom_kwh=snapshot.headroom_kwh,
        soc=soc,
        min_soc=view.settings.min_soc,
        capacity_kwh=view.settings.battery_capacity_kwh,
        power_kw=request.power_kw or view.settings.discharge_power_kw,
        duration_minutes=request.duration_minutes,
        target_export_kwh=request.target_export_kwh,
    )


def worth_starting(obs: Observation, plan: DischargePlan) -> bool:
    """Return whether the headroom exceeds what one stop delay could export."""
    view = obs.view
    if day_ending(view.now):
        # Export after local midnight counts against a day with no PV yet.
        return False
    if not backstop_fits(obs, start_bound(obs, plan)):
        return False  # the inverter's shortest timer would outlast the headroom
    soc = view.snapshot.value(Source.SOC) or 0.0
    if start_floor(obs, plan) >= soc:
        return False  # the SOC floor would let the battery deliver nothing
    power = export_power_estimate_kw(
        plan.power_kw,
        export_power_kw(view.snapshot, view.settings),
        obs.cadence.rate_kw,
    )
    age = reserve_age_seconds(view.snapshot.readings.get(Source.EXPORTED_TODAY))
    headroom = view.snapshot.headroom_kwh or 0.0
    return headroom > reserve_kwh(power, obs.cadence, age, obs.reaction_s)


def inverter_blockers(obs: Observation) -> tuple[ErrorState, ...]:
    """Return what blocks a start on the inverter's side: a slot's clock untrusted."""
    if obs.inverter.clock_unreadable:
        return (ErrorState.INVERTER_CLOCK_UNREADABLE,)
    return ()


def assess_start(
    obs: Observation, request: StartRequest
) -> tuple[DischargePlan | None, list[str]]:
    """Return the plan a start would use and everything blocking it."""
    view = obs.view
    blockers = [*view.blockers, *inverter_blockers(obs)]
    if request.origin == "auto" and not view.in_export_window:
        blockers.append(ErrorState.OUTSIDE_WINDOW)
    plan = plan_for(view, request)
    if plan is not None and not blockers and not worth_starting(obs, plan):
        blockers.append(ErrorState.NO_HEADROOM)
    return plan, [str(blocker) for blocker in blockers]
