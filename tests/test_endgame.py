"""The inverter timer to the end of the headroom, and one re-arm at a time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.export_monitor.const import (
    CONF_EXPORT_METER_INTERVAL_SECONDS,
    CONF_EXPORT_METER_RESOLUTION_KWH,
    CONF_STALE_AFTER_SECONDS,
)
from custom_components.export_monitor.logic.latency import RETRY_BACKOFF_SECONDS
from custom_components.export_monitor.logic.supervision import REACTION_SECONDS
from tests.conftest import DURATION, ENABLE, EXPORT, GRID, PV, SOC, base_options
from tests.discharge import (
    BATTERY,
    STEP,
    async_exporting,
    async_idle_hour,
    async_settle,
    async_start,
    follow_enable,
    report,
)
from tests.resilience import (
    ERROR,
    METER_STEP,
    Rig,
    async_heal,
    async_home_assistant_dies,
    async_setup_rig,
    state_of,
)

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")

ALLOWANCE = 11.5  # 12 kWh PV - 0.5 kWh margin
POWER_KW = 3.0
# No inverter maximum declared: the dead-man assumes 1.5 x the planned power.
DEADMAN_KW = 4.5


def set_state(hass: HomeAssistant, entity_id: str, state: str) -> None:
    """Write a source's state, keeping its attributes."""
    hass.states.async_set(entity_id, state, hass.states.get(entity_id).attributes)


@pytest.fixture
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Return the entry options, changed by an indirect parameter."""
    return {**base_options(), **getattr(request, "param", {})}


@dataclass(slots=True)
class TimerRun:
    """What a discharge to the end of its headroom did with the inverter's timer."""

    last_timer_minutes: float = 0.0
    last_timer_at: datetime | None = None
    stopped_at: datetime | None = None
    true_export: float = 0.0
    # The least true headroom left, less what the running timer could still export.
    worst_deadman_margin: float = float("inf")


async def async_run_to_the_end(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, run: TimerRun
) -> None:
    """Export at 3 kW in 5 s steps (meter every 10 s) until the enable helper is off."""
    elapsed = 0
    while hass.states.get(ENABLE).state == "on" and elapsed < 3600:
        freezer.tick(STEP)
        elapsed += int(STEP.total_seconds())
        run.true_export += POWER_KW * STEP.total_seconds() / 3600.0
        if elapsed % 10 == 0:
            set_state(hass, EXPORT, f"{run.true_export:.4f}")
        report(hass, (SOC, PV, BATTERY, GRID))
        async_fire_time_changed(hass)
        await async_settle(hass)
        now = dt_util.utcnow()
        if run.last_timer_at is not None:
            left_s = (
                run.last_timer_minutes * 60 - (now - run.last_timer_at).total_seconds()
            )
            exposure = DEADMAN_KW * max(0.0, left_s) / 3600.0
            margin = ALLOWANCE - run.true_export - exposure
            run.worst_deadman_margin = min(run.worst_deadman_margin, margin)
    run.stopped_at = dt_util.utcnow()


async def test_the_timer_never_outlasts_the_true_headroom(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """To the end of the headroom, the inverter's timer never outlasts it.

    At every step the timer on the inverter, run at the dead-man power, stays within
    the true headroom: should Home Assistant die, nothing goes beyond the allowance.
    The dead-man's reserve counts the unseen export at the measured 3 kW, the timer
    at the assumed maximum (4.5 kW).
    """
    follow_enable(hass, ENABLE)
    run = TimerRun(true_export=11.2)
    set_state(hass, EXPORT, f"{run.true_export:.4f}")
    await async_idle_hour(hass, freezer)  # the jump to 11.2 kWh is plausible then
    note_timer_writes(hass, run)
    await async_start(hass)
    await async_run_to_the_end(hass, freezer, run)
    assert [str(event.data["reason"]) for event in stopped] == ["headroom_exhausted"]
    assert run.true_export <= ALLOWANCE
    assert run.worst_deadman_margin >= 0.0


def note_timer_writes(hass: HomeAssistant, run: TimerRun) -> None:
    """Note every write of the duration helper (changed or the same again) in `run`."""

    @callback
    def _note(event: Event[EventStateChangedData]) -> None:
        """Note the timer written and when."""
        state = event.data["new_state"]
        if state is not None:
            run.last_timer_minutes = float(state.state)
            run.last_timer_at = dt_util.utcnow()

    async_track_state_change_event(hass, [DURATION], _note)
    async_track_state_report_event(hass, [DURATION], _note)  # type: ignore[arg-type]


def timer_writes(calls: list[Event]) -> list[float]:
    """Return the minutes written to the inverter's timer helper."""
    return [
        float(call.data["service_data"]["value"])
        for call in calls
        if call.data["service"] == "set_value"
        and call.data["service_data"]["entity_id"] == DURATION
    ]


async def test_one_rearm_while_the_lock_is_held(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    service_calls: list[Event],
) -> None:
    """A re-arm waiting for the lock (a cutoff write in flight) is not spawned again.

    Every source update while it waits used to queue one more re-arm: the timer was
    then written several times in a row (2, 1, 2, 1 min: each a changed value).
    """
    follow_enable(hass, ENABLE)
    await async_start(hass)
    await async_exporting(hass, freezer, 775)  # the 15 min timer is due at 780 s
    service_calls.clear()
    controller = init_integration.runtime_data.controller
    await controller.lock.acquire()  # held, as by a write of the SOC floor
    try:
        for _ in range(4):  # 20 s of source updates, the re-arm due at each
            freezer.tick(STEP)
            report(hass)
            async_fire_time_changed(hass)
            for _ in range(10):
                await asyncio.sleep(0)
    finally:
        controller.lock.release()
    await async_settle(hass)
    assert timer_writes(service_calls) == [14.0]


SLOW_METER = {
    CONF_EXPORT_METER_INTERVAL_SECONDS: 300,
    CONF_EXPORT_METER_RESOLUTION_KWH: 0.1,
    CONF_STALE_AFTER_SECONDS: 900,
}


@pytest.mark.parametrize("options", [SLOW_METER], indirect=True, ids=["300_s"])
async def test_rearm_counts_the_unseen_export_at_the_measured_power(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    service_calls: list[Event],
) -> None:
    """With a 300 s meter the re-arm's timer counts the unseen 300 s at the measured 3 kW.

    Headroom 1.2 kWh as the counter shows it at the re-arm (420 s, 2 min before the
    9-minute timer ends; the counter not moved yet): 3 kW x 420 s + 4.5 kW x 11.5 s +
    0.1 kWh reserved leave 9.8 minutes at 4.5 kW (9 is held: written 8, a changed
    value), where the whole reserve at 4.5 kW left 7.5 (written 7). The true headroom
    (0.85 kWh) still covers the timer at 4.5 kW and its write.
    """
    follow_enable(hass, ENABLE)
    true_export = 10.3
    set_state(hass, EXPORT, f"{true_export:.1f}")
    await async_idle_hour(hass, freezer)
    await async_start(hass)
    assert timer_writes(service_calls) == [9.0]
    service_calls.clear()
    for _ in range(84):  # 420 s, grid power every 5 s, the counter not yet
        freezer.tick(STEP)
        true_export += POWER_KW * STEP.total_seconds() / 3600.0
        report(hass, (SOC, PV, BATTERY, GRID))
        async_fire_time_changed(hass)
        await async_settle(hass)
    assert timer_writes(service_calls) == [8.0]
    assert ALLOWANCE - true_export >= DEADMAN_KW * (11.0 * 60 + 11.5) / 3600.0


# -- the last timer minute: the running timer is the dead-man until it ends -------------

# A stop goes out at most this long before the inverter's timer ends: the reaction
# delay (10 s at least, plus the retry back-off).
STOP_LEAD_S = REACTION_SECONDS + RETRY_BACKOFF_SECONDS
# 0.3 kWh of headroom (4.1 kWh PV - 0.5 kWh margin - 3.3 kWh exported): about 6 minutes
# at 3 kW, the last of them on one-minute timers.
ENDGAME_SITE: dict[str, Any] = {"pv_kwh": 4.1, "export_kwh": 3.3}


@dataclass(slots=True)
class LastMinute:
    """What the end of a discharge did on the simulated inverter."""

    # When the off reached the enable helper, and when the inverter's timer ended then.
    off_at: datetime | None = None
    timer_ends_at: datetime | None = None
    last_timer_minutes: float | None = None
    last_timer_at: datetime | None = None
    # The least true headroom left less what the running timer could still export.
    worst_deadman_margin: float = float("inf")


def note_the_end(rig: Rig, end: LastMinute) -> None:
    """Note the timer writes and the moment the enable helper turns off."""

    @callback
    def _note(event: Event[EventStateChangedData]) -> None:
        """Note the timer written, or the off and the timer's end at that moment."""
        state = event.data["new_state"]
        if state is None:
            return
        now = dt_util.utcnow()
        if state.entity_id == DURATION:
            end.last_timer_minutes, end.last_timer_at = float(state.state), now
        elif state.state == "off" and end.off_at is None:
            end.off_at, end.timer_ends_at = now, rig.inverter.inverter(now).ends

    async_track_state_change_event(rig.hass, [DURATION, ENABLE], _note)
    async_track_state_report_event(rig.hass, [DURATION], _note)  # type: ignore[arg-type]


async def async_run_noting_the_deadman(
    rig: Rig, end: LastMinute, seconds: float
) -> None:
    """Run the site; at every step check the timer's exposure against the true headroom."""
    plant = rig.plant
    for _ in range(int(seconds / METER_STEP.total_seconds())):
        await rig.async_step()
        now = dt_util.utcnow()
        ends = rig.inverter.inverter(now).ends
        if plant.running and ends is not None:
            left_s = max(0.0, (ends - now).total_seconds())
            room = plant.pv_kwh - plant.margin_kwh(rig.entry) - plant.export_kwh
            margin = room - DEADMAN_KW * left_s / 3600.0
            end.worst_deadman_margin = min(end.worst_deadman_margin, margin)


async def test_the_discharge_runs_through_the_last_timer_minute(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Under a minute of headroom the running one-minute timer runs on to its end.

    It is the dead-man still (should Home Assistant die, the inverter runs at most
    its time left, at the dead-man power, within the headroom), so the discharge goes
    on, and the stop goes out a reaction delay before the timer ends: the stop, not
    the timer, ends it (no "not obeying"). It used to stop at once, at the re-arm due
    half-way through the last timer: 30 s of export left on the table.
    """
    rig = await async_setup_rig(hass, freezer, config_entry, **ENDGAME_SITE)
    end = LastMinute()
    note_the_end(rig, end)
    await async_start(hass)
    await async_run_noting_the_deadman(rig, end, 900)
    assert rig.reasons == ("headroom_exhausted",)
    assert end.last_timer_minutes == 1.0
    assert end.off_at is not None
    assert end.timer_ends_at is not None
    assert end.last_timer_at is not None
    ran = (end.off_at - end.last_timer_at).total_seconds()
    left = (end.timer_ends_at - end.off_at).total_seconds()
    assert ran > 30.0  # beyond the re-arm that used to stop it
    assert 0.0 < left <= STOP_LEAD_S
    assert rig.plant.breach_kwh == 0.0
    assert end.worst_deadman_margin >= 0.0
    assert state_of(hass, ERROR) == "none"
    await async_heal(rig)


def seconds_since(moment: datetime | None) -> float:
    """Return the seconds since `moment` (0 when there is none)."""
    return 0.0 if moment is None else (dt_util.utcnow() - moment).total_seconds()


async def test_home_assistant_dying_in_the_last_timer_minute_stays_within(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Home Assistant dies while the last timer runs on: the inverter's timer ends it.

    Nothing of Home Assistant runs for an hour; the inverter's own timer ends the
    discharge within the allowance, and the session is closed at the restart.
    """
    rig = await async_setup_rig(hass, freezer, config_entry, **ENDGAME_SITE)
    end = LastMinute()
    note_the_end(rig, end)
    await async_start(hass)
    for _ in range(90):
        await rig.async_step()
        # Past the half-way re-arm of a one-minute timer not re-armed: under a
        # minute of headroom, the last timer runs on.
        if end.last_timer_minutes == 1.0 and seconds_since(end.last_timer_at) > 30.0:
            break
    assert rig.plant.running
    assert end.off_at is None
    await async_home_assistant_dies(rig, 3600)
    assert not rig.plant.running
    assert rig.plant.breach_kwh == 0.0
    assert rig.reasons[-1:] == ("restart",)
    await async_heal(rig)
