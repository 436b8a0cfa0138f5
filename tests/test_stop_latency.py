"""Stop latency is measured, kept and used; the after-stop check repeats until it ends."""

from __future__ import annotations

from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor.const import (
    CONF_BATTERY_POWER_ENTITY,
    CONF_DISCHARGE_DURATION_ENTITY,
    CONF_GRID_POWER_ENTITY,
    DOMAIN,
)
from tests.conftest import BATTERY, DURATION, ENABLE, GRID, POWER_ATTRS, base_options
from tests.discharge import (
    ENTRY_ID,
    ERROR,
    async_advance,
    async_call,
    async_start,
    async_stop,
    follow_enable,
    notification_id,
    notifications,
)
from tests.resilience import Rig, async_heal, async_setup_rig, state_of

STORE_KEY: Final = f"{DOMAIN}.{ENTRY_ID}.session"
NO_GRID: Final = {CONF_GRID_POWER_ENTITY: None}
NO_BATTERY: Final = {CONF_BATTERY_POWER_ENTITY: None}
NO_DURATION: Final = {CONF_DISCHARGE_DURATION_ENTITY: None}

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")


@pytest.fixture
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Return the entry options, changed by an indirect parameter."""
    return {**base_options(), **getattr(request, "param", {})}


def set_power(hass: HomeAssistant, entity_id: str, watts: float) -> None:
    """Write a power sensor's state in W."""
    hass.states.async_set(entity_id, str(watts), POWER_ATTRS)


def reasons(events: list[Event]) -> list[str]:
    """Return the reason of each stopped event."""
    return [str(event.data["reason"]) for event in events]


def offs(events: list[Event]) -> int:
    """Return how many turn_off calls reached the enable entity."""
    return sum(
        1
        for event in events
        if event.data["service"] == "turn_off"
        and event.data["service_data"].get(ATTR_ENTITY_ID) == ENABLE
    )


# -- #20: without grid power, the battery feeding the house is not disobedience -------


@pytest.mark.parametrize("options", [NO_GRID], indirect=True, ids=["no_grid"])
async def test_self_consumption_after_stop_is_not_disobedience(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """A 1 kW house fed by the battery after a 3 kW stop raises nothing (#20)."""
    follow_enable(hass, ENABLE, power_w=3000.0)
    await async_start(hass)
    await async_advance(hass, freezer, 100)
    await async_stop(hass)
    set_power(hass, BATTERY, 1000)
    await async_advance(hass, freezer, 300)
    assert reasons(stopped) == ["user"]
    assert hass.states.get(ERROR).state == "none"
    assert notification_id("inverter_not_obeying") not in notifications(hass)


# -- #15: the baseline is taken at the stop; the check repeats until the flow ends ----


@pytest.mark.parametrize("options", [NO_BATTERY], indirect=True, ids=["grid_only"])
async def test_pv_surplus_grown_during_the_session_is_not_disobedience(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """Export from PV that grew during the session, left after the stop, is fine (#15)."""
    set_power(hass, GRID, 0)
    await async_start(hass)
    set_power(hass, GRID, -6000)  # 3 kW forced + 3 kW of PV surplus by now
    await async_advance(hass, freezer, 60)
    await async_stop(hass)
    set_power(hass, GRID, -3000)  # the surplus alone
    await async_advance(hass, freezer, 300)
    assert reasons(stopped) == ["user"]
    assert hass.states.get(ERROR).state == "none"


async def test_stop_check_repeats_until_the_flow_ends(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    service_calls: list[Event],
    stopped: list[Event],
) -> None:
    """Flow on after the stop: off again every minute until it ends, then quiet (#15)."""
    await async_start(hass)
    set_power(hass, BATTERY, 3000)
    set_power(hass, GRID, -3000)
    await async_advance(hass, freezer, 30)
    await async_stop(hass)
    service_calls.clear()
    await async_advance(hass, freezer, 200)
    assert offs(service_calls) == 2  # at 90 s and 150 s after the stop
    set_power(hass, BATTERY, 0)
    set_power(hass, GRID, 0)
    await async_advance(hass, freezer, 300)
    assert offs(service_calls) == 2  # the flow is seen ended: no more
    controller = init_integration.runtime_data.controller
    assert controller.flow_watch is None
    assert controller.worst_latency_s >= 200
    assert hass.states.get(ERROR).state == "inverter_not_obeying"
    assert reasons(stopped)[0] == "user"


# -- #12: an inverter that takes 60 s to stop --------------------------------------


def delay_stops(rig: Rig, seconds: float) -> None:
    """Make the simulated inverter follow 'off' only `seconds` late."""
    plant = rig.plant
    follow = plant.follow_inverter
    off_since: dict[str, Any] = {}

    def _delayed_follow() -> None:
        """Follow the helpers, but keep running for a while after 'off'."""
        if plant.running and state_of(rig.hass, ENABLE) == "off":
            off_since.setdefault("at", dt_util.utcnow())
            if (dt_util.utcnow() - off_since["at"]).total_seconds() < seconds:
                return
        off_since.clear()
        follow()

    plant.follow_inverter = _delayed_follow  # type: ignore[method-assign]


async def async_without_timer(rig: Rig) -> None:
    """Leave the simulated inverter's own timer long, as with no duration entity."""
    await rig.hass.services.async_call(
        "input_number",
        "set_value",
        {ATTR_ENTITY_ID: DURATION, "value": 1440},
        blocking=True,
    )


@pytest.mark.parametrize("options", [NO_DURATION], indirect=True, ids=["no_duration"])
async def test_inverter_that_takes_60s_to_stop_is_not_obeying(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A 60 s stop is measured, kept across restarts and raised as not obeying (#12)."""
    # The inverter ignores its cutoff too: the SOC floor would otherwise end the flow
    # before the monitor's stop, and the slow stop would never show.
    rig = await async_setup_rig(
        hass, freezer, config_entry, pv_kwh=4.1, export_kwh=2.6, ignores_floor=True
    )
    delay_stops(rig, 60)
    await async_without_timer(rig)
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(1500)
    assert rig.reasons[0] == "headroom_exhausted"
    assert state_of(hass, ERROR) == "inverter_not_obeying"
    controller = config_entry.runtime_data.controller
    assert controller.worst_latency_s >= 50
    stored = hass_storage[STORE_KEY]["data"]["worst_stop_latency_s"]
    assert stored == controller.worst_latency_s
    await async_heal(rig)


async def test_inverter_that_takes_60s_to_stop_with_a_timer_stays_within(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """With its own timer the slow inverter ends in time (#12).

    At the end of the headroom the last timer runs on, and the stop goes out a
    reaction delay before it ends: the timer ends the flow then, so a stop that
    takes 60 s cannot show there (it used to go out half a minute before the timer
    ended, and showed as 30 s late).
    """
    rig = await async_setup_rig(hass, freezer, config_entry, pv_kwh=4.1, export_kwh=2.6)
    delay_stops(rig, 60)
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(1500)
    assert rig.reasons[0] == "headroom_exhausted"
    assert rig.plant.breach_kwh == 0.0
    assert state_of(hass, ERROR) == "none"
    await async_heal(rig)


async def test_inverter_that_takes_60s_to_stop_mid_timer_is_reported(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A stop in the middle of the inverter's timer shows the 60 s it takes (#12)."""
    rig = await async_setup_rig(hass, freezer, config_entry, pv_kwh=4.1, export_kwh=2.6)
    delay_stops(rig, 60)
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(120)
    await async_call(hass, "stop_discharge")
    await rig.async_run(300)
    assert rig.reasons == ("user",)
    assert rig.plant.breach_kwh == 0.0
    assert state_of(hass, ERROR) == "inverter_not_obeying"
    assert config_entry.runtime_data.controller.worst_latency_s >= 50
    await async_heal(rig)


@pytest.mark.parametrize("options", [NO_DURATION], indirect=True, ids=["no_duration"])
async def test_latency_seen_before_goes_into_the_reserve(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """With 65 s of stop latency on record, a 60 s inverter stays within (#12)."""
    hass_storage[STORE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORE_KEY,
        "data": {"session": None, "worst_stop_latency_s": 65.0},
    }
    rig = await async_setup_rig(hass, freezer, config_entry, pv_kwh=4.1, export_kwh=2.6)
    delay_stops(rig, 60)
    await async_without_timer(rig)
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(1500)
    assert rig.reasons == ("headroom_exhausted",)
    assert rig.plant.breach_kwh == 0.0
    assert state_of(hass, ERROR) == "none"
    await async_heal(rig)


async def test_stop_latency_survives_a_malformed_store(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A stored latency that is not a number counts as none seen."""
    hass_storage[STORE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORE_KEY,
        "data": {"session": None, "worst_stop_latency_s": "slow"},
    }
    rig = await async_setup_rig(hass, freezer, config_entry)
    assert config_entry.runtime_data.controller.worst_latency_s == 0.0
    await async_heal(rig)


@pytest.mark.parametrize(
    "options", [{**NO_GRID, **NO_BATTERY}], indirect=True, ids=["no_power_sensors"]
)
async def test_stop_watch_without_power_sensors_gives_up_quietly(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """With no power sensor nothing shows the flow: the watch ends after 10 min, quiet."""
    await async_start(hass)
    await async_advance(hass, freezer, 30)
    await async_stop(hass)
    controller = init_integration.runtime_data.controller
    assert controller.flow_watch is not None
    await async_advance(hass, freezer, 600)
    assert controller.flow_watch is None
    assert reasons(stopped) == ["user"]
    assert hass.states.get(ERROR).state == "none"
