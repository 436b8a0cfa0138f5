"""No discharge without supervision: late starts, glitches, reloads, shutdown, lock holders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Final
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.export_monitor import (
    coordinator as coordinator_module,
    stopper as stopper_module,
)
from custom_components.export_monitor.const import (
    CONF_CUTOFF_SOC_ENTITY,
    CONF_DISCHARGE_DURATION_ENTITY,
    CONF_DISCHARGE_POWER_ENTITY,
    CONF_DISCHARGE_SWITCH_ENTITY,
    DOMAIN,
)
from custom_components.export_monitor.logic import control_active as control_module
from tests.conftest import (
    ENABLE,
    ENERGY_ATTRS,
    EXPORT,
    PV,
    async_setup_inverter,
    async_setup_missing_a_source,
    base_options,
    set_sources,
)
from tests.discharge import (
    ENTRY_ID,
    ERROR,
    FAKE_CUTOFF,
    FAKE_DURATION,
    FAKE_ENABLE,
    FAKE_POWER,
    SOURCES,
    Behaviour,
    FakeControls,
    async_advance,
    async_call,
    async_settle,
    async_start,
    follow_enable,
    notification_id,
    notifications,
    report,
)

FAKES: Final = {
    CONF_DISCHARGE_SWITCH_ENTITY: FAKE_ENABLE,
    CONF_DISCHARGE_POWER_ENTITY: FAKE_POWER,
    CONF_CUTOFF_SOC_ENTITY: FAKE_CUTOFF,
    CONF_DISCHARGE_DURATION_ENTITY: FAKE_DURATION,
}
NO_DURATION: Final = {**FAKES, CONF_DISCHARGE_DURATION_ENTITY: None}
NO_FLOW_SENSORS: Final = {"grid_power_entity": None, "battery_power_entity": None}
SESSION_KEY: Final = f"{DOMAIN}.{ENTRY_ID}.session"
UNEXPECTED: Final = "unexpected_discharge"

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+00:00")

type Handler = Callable[[ServiceCall], Awaitable[None]]


@pytest.fixture(autouse=True)
def no_stop_backoff() -> Generator[None]:
    """Retry failing stops without pause: a real sleep never ends under frozen time."""
    with patch.object(stopper_module, "STOP_BACKOFF_SECONDS", 0.0):
        yield


@pytest.fixture
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Return the entry options, changed by an indirect parameter."""
    return {**base_options(), **getattr(request, "param", {})}


def set_state(hass: HomeAssistant, entity_id: str, state: str) -> None:
    """Write a source's state, keeping its attributes."""
    hass.states.async_set(entity_id, state, hass.states.get(entity_id).attributes)


async def async_spin(turns: int = 100) -> None:
    """Let the loop run without waiting for every task (some hang on purpose)."""
    for _ in range(turns):
        await asyncio.sleep(0)


async def async_tick_exporting(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Let 5 s pass with the export counter moving at 3 kW; wait for no background task."""
    freezer.tick(dt_util.dt.timedelta(seconds=5))
    state = hass.states.get(EXPORT)
    hass.states.async_set(
        EXPORT, f"{float(state.state) + 3.0 * 5 / 3600:.4f}", state.attributes
    )
    report(hass, [source for source in SOURCES if source != EXPORT])
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def reasons(stopped: list[Event]) -> list[str]:
    """Return the reasons of the stopped events."""
    return [str(event.data["reason"]) for event in stopped]


def gated(
    fake_controls: FakeControls,
    entity_id: str,
    gate: asyncio.Event,
    entered: asyncio.Event,
) -> Handler:
    """Return a service handler that holds calls on `entity_id` until the gate opens."""
    original = fake_controls._async_handle  # noqa: SLF001

    async def _async_handle(call: ServiceCall) -> None:
        """Wait at the gate (a slow Modbus write), then answer."""
        if str(call.data[ATTR_ENTITY_ID]) == entity_id:
            entered.set()
            await gate.wait()
        await original(call)

    return _async_handle


def stubborn(
    fake_controls: FakeControls, entity_id: str, gate: asyncio.Event
) -> Handler:
    """Return a handler that swallows cancellation on `entity_id`, then answers late."""
    original = fake_controls._async_handle  # noqa: SLF001

    async def _async_handle(call: ServiceCall) -> None:
        """Retry loop of someone else's integration: ignores cancellation."""
        if str(call.data[ATTR_ENTITY_ID]) == entity_id:
            while not gate.is_set():
                try:
                    await gate.wait()
                except asyncio.CancelledError:
                    continue
        await original(call)

    return _async_handle


# -- a start that "failed" but executed late --------------------------------------------


@pytest.mark.parametrize(
    "options", [NO_DURATION, FAKES], indirect=True, ids=["no_duration", "duration"]
)
async def test_late_turn_on_after_failed_start_is_stopped(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """The switch turns on one poll after a start that failed: it is turned off and told."""
    fake_controls.set(FAKE_ENABLE, "turn_on", Behaviour.IGNORE)
    with pytest.raises(HomeAssistantError) as err:
        await async_start(hass)
    assert err.value.translation_key == "discharge_start_failed"
    # The undo is sent even though the switch still reads off.
    assert fake_controls.attempts(FAKE_ENABLE, "turn_off") == 1
    hass.states.async_set(FAKE_ENABLE, "on")  # the next poll shows it did start
    await async_settle(hass)
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert reasons(stopped) == [UNEXPECTED]
    assert hass.states.get(ERROR).state == UNEXPECTED
    assert notification_id(UNEXPECTED) in notifications(hass)
    set_state(hass, EXPORT, "12.5")
    await async_advance(hass, freezer, 1800)
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert reasons(stopped) == [UNEXPECTED]


async def test_switch_turned_on_behind_our_back_is_stopped(
    hass: HomeAssistant, init_integration: MockConfigEntry, stopped: list[Event]
) -> None:
    """Anything turning the enable entity on (or unknown) while idle is undone."""
    for state in ("on", "unknown"):
        hass.states.async_set(ENABLE, state)
        await async_settle(hass)
        assert hass.states.get(ENABLE).state == "off"
    assert reasons(stopped) == [UNEXPECTED, UNEXPECTED]
    assert hass.states.get(ERROR).state == UNEXPECTED


async def test_unexpected_discharge_clears_on_the_next_start(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The alarm stays until the user starts a discharge again."""
    hass.states.async_set(ENABLE, "on")
    await async_settle(hass)
    assert notification_id(UNEXPECTED) in notifications(hass)
    await async_start(hass)
    assert hass.states.get(ERROR).state == "none"
    assert notification_id(UNEXPECTED) not in notifications(hass)


@pytest.mark.parametrize(
    "options", [NO_FLOW_SENSORS], indirect=True, ids=["no_flow_sensors"]
)
async def test_enable_glitch_is_stopped_and_watched(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
    service_calls: list[Event],
) -> None:
    """A one-poll 'off' glitch ends the session with an explicit off; 'on' again is undone."""
    await async_start(hass)
    hass.states.async_set(ENABLE, "off")
    await async_advance(hass, freezer, 5)
    offs = [
        call
        for call in service_calls
        if call.data["service"] == "turn_off"
        and call.data["service_data"][ATTR_ENTITY_ID] == ENABLE
    ]
    assert len(offs) == 1
    hass.states.async_set(ENABLE, "on")  # the inverter never stopped
    await async_settle(hass)
    assert hass.states.get(ENABLE).state == "off"
    assert reasons(stopped) == ["switched_off_elsewhere", UNEXPECTED]
    set_state(hass, EXPORT, "12.5")
    await async_advance(hass, freezer, 1800)
    assert hass.states.get(ENABLE).state == "off"
    assert reasons(stopped) == ["switched_off_elsewhere", UNEXPECTED]


# -- a start in flight while the entry reloads or unloads ------------------------------


@pytest.mark.parametrize("options", [NO_DURATION], indirect=True, ids=["no_duration"])
@pytest.mark.parametrize("unload", [False, True], ids=["reload", "unload"])
async def test_start_in_flight_is_aborted_by_reload_or_unload(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
    unload: bool,
) -> None:
    """Reload and unload abort a start still writing setpoints, and leave the switch off."""
    gate, entered = asyncio.Event(), asyncio.Event()
    hass.services.async_register(
        "number", "set_value", gated(fake_controls, FAKE_POWER, gate, entered)
    )
    start = asyncio.get_running_loop().create_task(
        hass.services.async_call(DOMAIN, "start_discharge", {}, blocking=True)
    )
    await entered.wait()
    if unload:
        assert await hass.config_entries.async_unload(fake_integration.entry_id)
    else:
        assert await hass.config_entries.async_reload(fake_integration.entry_id)
    with pytest.raises(HomeAssistantError) as err:
        await start
    assert err.value.translation_key == "discharge_start_aborted"
    gate.set()
    await async_settle(hass)
    assert fake_controls.attempts(FAKE_ENABLE, "turn_on") == 0
    assert fake_controls.attempts(FAKE_ENABLE, "turn_off") >= 1
    assert hass.states.get(FAKE_ENABLE).state == "off"
    set_state(hass, EXPORT, "12.5")
    await async_advance(hass, freezer, 600)
    assert hass.states.get(FAKE_ENABLE).state == "off"


@pytest.mark.parametrize("options", [NO_DURATION], indirect=True, ids=["no_duration"])
async def test_turn_on_executed_after_a_reload_is_stopped(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    stopped: list[Event],
) -> None:
    """A turn-on that ignores cancellation and lands after the reload: the new entry stops it."""
    gate = asyncio.Event()
    hass.services.async_register(
        "switch", "turn_on", stubborn(fake_controls, FAKE_ENABLE, gate)
    )
    start = asyncio.get_running_loop().create_task(
        hass.services.async_call(DOMAIN, "start_discharge", {}, blocking=True)
    )
    await async_spin()
    assert await hass.config_entries.async_reload(fake_integration.entry_id)
    with pytest.raises(HomeAssistantError):
        await start
    assert fake_integration.state is ConfigEntryState.LOADED
    assert hass.states.get(FAKE_ENABLE).state == "off"
    gate.set()  # the stuck turn-on lands late
    await async_spin()
    await async_settle(hass)
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert UNEXPECTED in reasons(stopped)


# -- Home Assistant stopping --------------------------------------------------------------


async def test_home_assistant_stop_stops_the_discharge(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
    stopped: list[Event],
) -> None:
    """EVENT_HOMEASSISTANT_STOP stops the discharge and stores that nothing runs."""
    follow_enable(hass, ENABLE)
    await async_start(hass)
    assert hass.states.get(ENABLE).state == "on"
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await async_settle(hass)
    assert hass.states.get(ENABLE).state == "off"
    assert reasons(stopped) == ["shutdown"]
    assert hass_storage[SESSION_KEY]["data"]["session"] is None


async def test_home_assistant_stop_while_idle_changes_nothing(
    hass: HomeAssistant, init_integration: MockConfigEntry, stopped: list[Event]
) -> None:
    """With nothing running the stop event sends no stopped event."""
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await async_settle(hass)
    assert hass.states.get(ENABLE).state == "off"
    assert stopped == []


async def test_no_start_after_home_assistant_stop(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Once Home Assistant stops, a start is refused."""
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await async_settle(hass)
    with pytest.raises(HomeAssistantError) as err:
        await async_start(hass)
    assert err.value.translation_key == "discharge_start_aborted"
    assert hass.states.get(ENABLE).state == "off"


# -- supervision never pauses --------------------------------------------------------------


async def test_slow_store_write_does_not_suspend_supervision(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """A store write that hangs (SD card) does not hold the lock: the stop comes in time."""
    follow_enable(hass, ENABLE)
    controller = init_integration.runtime_data.controller
    gate = asyncio.Event()

    async def slow_write(*_args: Any, **_kwargs: Any) -> None:
        await gate.wait()

    with patch.object(controller._store, "_async_write_data", slow_write):  # noqa: SLF001
        try:
            await hass.services.async_call(DOMAIN, "start_discharge", {}, blocking=True)
            await async_spin()
            assert controller.session is not None
            assert not controller.lock.locked()
            set_state(hass, EXPORT, "11.45")  # within the stop reserve
            await async_spin()
            assert hass.states.get(ENABLE).state == "off"
            assert len(stopped) == 1  # no later than without the slow disk
        finally:
            gate.set()
        await async_settle(hass)


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
async def test_rearm_that_ignores_cancellation_is_abandoned(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """A re-arm whose callee swallows cancellation is abandoned at its timeout: stop."""
    follow_enable(hass, FAKE_ENABLE)
    await async_start(hass)
    gate = asyncio.Event()
    hass.services.async_register(
        "number", "set_value", stubborn(fake_controls, FAKE_DURATION, gate)
    )
    controller = fake_integration.runtime_data.controller
    # 900 s: past the re-arm 2 min before the timer's end, and its timeout.
    for _ in range(180):
        await async_tick_exporting(hass, freezer)
    assert not controller.lock.locked()
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert reasons(stopped) == ["rearm_failed"]
    assert hass.states.get(ERROR).state == "duration_set_failed"
    gate.set()
    await async_settle(hass)


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
async def test_due_stop_preempts_a_rearm_in_flight(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """While a re-arm hangs, a stop that falls due cancels it and runs at once."""
    follow_enable(hass, FAKE_ENABLE)
    await async_start(hass)
    gate, entered = asyncio.Event(), asyncio.Event()
    hass.services.async_register(
        "number", "set_value", gated(fake_controls, FAKE_DURATION, gate, entered)
    )
    while not entered.is_set():  # to the re-arm 2 min before the timer ends
        await async_tick_exporting(hass, freezer)
    assert entered.is_set()
    controller = fake_integration.runtime_data.controller
    assert controller.lock.locked()
    hass.states.async_set(EXPORT, "11.45", ENERGY_ATTRS)  # a stop falls due
    await async_settle(hass)
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert len(stopped) == 1
    gate.set()
    await async_settle(hass)


# -- exceptions while reading or deciding -----------------------------------------------------


async def test_non_string_unit_is_a_bad_unit_and_stops(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    stopped: list[Event],
) -> None:
    """A unit attribute that is not a string is a bad unit: unsafe, stop."""
    follow_enable(hass, ENABLE)
    await async_start(hass)
    hass.states.async_set(EXPORT, "4", {**ENERGY_ATTRS, "unit_of_measurement": 1})
    await async_settle(hass)
    assert hass.states.get(ENABLE).state == "off"
    assert reasons(stopped) == ["data_unsafe"]
    assert hass.states.get(ERROR).state == "export_read_failed"


async def test_exception_while_reading_stops_with_internal_error(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """Any exception building the snapshot yields an unsafe one (internal_error) and a stop."""
    follow_enable(hass, ENABLE)
    await async_start(hass)
    with patch.object(
        coordinator_module, "build_snapshot", side_effect=RuntimeError("boom")
    ):
        await async_advance(hass, freezer, 5)
        assert hass.states.get(ENABLE).state == "off"
        assert reasons(stopped) == ["data_unsafe"]
        assert hass.states.get(ERROR).state == "internal_error"
        assert notification_id("internal_error") in notifications(hass)
        with pytest.raises(HomeAssistantError) as err:
            await async_start(hass)
        assert err.value.translation_key == "start_blocked_internal_error"
    await async_advance(hass, freezer, 5)
    assert hass.states.get(ERROR).state == "none"


async def test_exception_while_deciding_stops_with_internal_error(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """Any exception in the stop rules is a stop with internal_error."""
    follow_enable(hass, ENABLE)
    await async_start(hass)
    with patch.object(control_module, "stop_reason", side_effect=ZeroDivisionError):
        await async_advance(hass, freezer, 5)
    assert hass.states.get(ENABLE).state == "off"
    assert reasons(stopped) == ["internal_error"]
    assert hass.states.get(ERROR).state == "internal_error"


# -- start-up ----------------------------------------------------------------------------------


async def test_restart_with_a_missing_source_stops_the_discharge(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    stopped: list[Event],
) -> None:
    """The switch is on at boot and a source is missing: it is stopped before the retry."""
    set_sources(hass)
    await async_setup_inverter(hass)
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": ENABLE}, blocking=True
    )
    hass.states.async_remove(PV)
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    await async_settle(hass)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert hass.states.get(ENABLE).state == "off"
    assert reasons(stopped) == ["restart"]
    assert notification_id("discharge_stopped_on_restart") in notifications(hass)


async def test_restart_with_a_stored_session_and_missing_source_sends_off(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    service_calls: list[Event],
) -> None:
    """A stored session is stopped (explicit off) and forgotten even while setup retries."""
    hass_storage[SESSION_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": SESSION_KEY,
        "data": {"session": {"broken": True}},
    }
    await async_setup_missing_a_source(hass, config_entry)
    assert [call.data["service"] for call in service_calls] == ["turn_off"]
    assert hass_storage[SESSION_KEY]["data"]["session"] is None


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
async def test_enable_entity_missing_at_start_up_is_turned_off_when_it_appears(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    fake_controls: FakeControls,
) -> None:
    """The inverter's integration comes up late with the discharge on: turned off at once."""
    set_sources(hass)
    hass.states.async_remove(FAKE_ENABLE)
    fake_controls.install()
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    await async_settle(hass)
    hass.states.async_set(FAKE_ENABLE, "on")
    await async_settle(hass)
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert fake_controls.attempts(FAKE_ENABLE, "turn_off") == 1
    hass.states.async_set(FAKE_ENABLE, "on")  # one-shot: the entry is not set up yet
    await async_settle(hass)
    assert fake_controls.attempts(FAKE_ENABLE, "turn_off") == 1
    assert await hass.config_entries.async_remove(config_entry.entry_id)


# -- a stop that cannot be confirmed during a reload (#19) and stop without an id (#22) ----


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
async def test_unconfirmed_stop_during_reload_leaves_stop_and_reload_working(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    stopped: list[Event],
) -> None:
    """The reload goes ahead; stop_discharge keeps trying and reports; a later reload works."""
    follow_enable(hass, FAKE_ENABLE)
    await async_start(hass)
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.RAISE)
    await hass.config_entries.async_reload(fake_integration.entry_id)
    await async_settle(hass)
    assert fake_integration.state is ConfigEntryState.LOADED
    assert hass.states.get(ERROR).state == "discharge_stop_failed"
    with pytest.raises(HomeAssistantError) as err:
        await async_call(hass, "stop_discharge")
    assert err.value.translation_key == "discharge_stop_failed"
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.OBEY)
    await async_call(hass, "stop_discharge", config_entry_id=ENTRY_ID)
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert hass.states.get(ERROR).state == "none"
    assert await hass.config_entries.async_reload(fake_integration.entry_id)
    assert fake_integration.state is ConfigEntryState.LOADED


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
async def test_unconfirmed_stop_at_unload_keeps_being_retried(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The entry unloads; a domain-level task retries the stop until it is confirmed."""
    follow_enable(hass, FAKE_ENABLE)
    await async_start(hass)
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.RAISE)
    assert await hass.config_entries.async_unload(fake_integration.entry_id)
    assert hass.states.get(FAKE_ENABLE).state == "on"
    fake_controls.set(FAKE_ENABLE, "turn_off", Behaviour.OBEY)
    await async_advance(hass, freezer, 35)
    assert hass.states.get(FAKE_ENABLE).state == "off"
    attempts = fake_controls.attempts(FAKE_ENABLE, "turn_off")
    await async_advance(hass, freezer, 120)
    assert fake_controls.attempts(FAKE_ENABLE, "turn_off") == attempts


async def test_stop_without_an_id_stops_every_entry(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    fake_controls: FakeControls,
    stopped: list[Event],
) -> None:
    """With two monitors, stop_discharge without config_entry_id stops both."""
    second = MockConfigEntry(
        domain=DOMAIN, title="Second", options={**base_options(), **FAKES}
    )
    second.add_to_hass(hass)
    assert await hass.config_entries.async_setup(second.entry_id)
    fake_controls.install()
    follow_enable(hass, ENABLE)
    for entry in (init_integration, second):
        await async_call(hass, "start_discharge", config_entry_id=entry.entry_id)
    assert hass.states.get(ENABLE).state == "on"
    assert hass.states.get(FAKE_ENABLE).state == "on"
    await async_call(hass, "stop_discharge")
    assert hass.states.get(ENABLE).state == "off"
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert reasons(stopped) == ["user", "user"]
