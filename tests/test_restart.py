"""Tests of surviving restarts, reloads and day boundaries, and of settings that persist."""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
import logging
from typing import Any, Final
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.export_monitor import stopper as stopper_module
from custom_components.export_monitor.const import (
    CONF_AUTO_DISCHARGE,
    CONF_DISCHARGE_POWER_KW,
    CONF_MIN_SOC,
    CONF_RESUME_WHEN_SAFE,
    CONF_SAFETY_MARGIN_KWH,
    EVENT_DISCHARGE_STOPPED,
)
from custom_components.export_monitor.logic.persist import session_to_data
from custom_components.export_monitor.logic.supervision import Session
from custom_components.export_monitor.profiles.options import migrate_flat_options
from tests.conftest import (
    ENABLE,
    EXPORT,
    async_setup_inverter,
    base_options,
    set_sources,
)
from tests.discharge import async_call, async_settle, local
from tests.resilience import (
    ENTRY_ID,
    ERROR,
    EXPORTED,
    STATUS,
    STORE_KEY,
    Rig,
    async_setup_rig,
    notices,
    state_of,
)

NOW: Final = "2026-06-15T12:00:00"
RESTART_NOTICE: Final = "discharge_stopped_on_restart"
NUMBERS: Final = {
    "number.export_monitor_min_soc": (CONF_MIN_SOC, 30.0),
    "number.export_monitor_safety_margin": (CONF_SAFETY_MARGIN_KWH, 1.2),
    "number.export_monitor_discharge_power": (CONF_DISCHARGE_POWER_KW, 4.5),
}

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")


def stored_session(**changes: Any) -> dict[str, Any]:
    """Return a session as the controller stores it: started ten minutes ago."""
    session = Session(
        started_at=local("2026-06-15T11:50:00"),
        origin="service",
        power_kw=3.0,
        cutoff_soc=20.0,
        start_exported_kwh=2.5,
        backstop_minutes=15,
        backstop_armed_at=local("2026-06-15T11:50:00"),
    )
    return {**session_to_data(session), **changes}


def store(data: Any) -> dict[str, Any]:
    """Return the Store file holding `data`."""
    return {"version": 1, "minor_version": 1, "key": STORE_KEY, "data": data}


def error_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the messages logged at error level."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def event_data(events: list[Event]) -> list[dict[str, Any]]:
    """Return the data of the events."""
    return [dict(event.data) for event in events]


def saved_options(hass_storage: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the options of every config entry as written to disk."""
    entries = hass_storage["core.config_entries"]["data"]["entries"]
    return [entry["options"] for entry in entries]


def reasons(events: list[Event]) -> list[str]:
    """Return the reasons of the stopped events."""
    return [str(event.data["reason"]) for event in events]


@pytest.fixture(autouse=True)
def no_stop_backoff() -> Generator[None]:
    """Retry stops without pausing: the frozen clock would never end a pause."""
    with patch.object(stopper_module, "STOP_BACKOFF_SECONDS", 0.0):
        yield


@pytest.fixture
def stored() -> Any:
    """Return what the session Store holds at start-up (a running session)."""
    return {"session": stored_session()}


@pytest.fixture
def enable_on() -> bool:
    """Return whether the enable switch is on when Home Assistant starts."""
    return True


@pytest.fixture
def sources() -> dict[str, str]:
    """Return the source states at start-up (battery power shows the discharge)."""
    return {"battery": "3000"}


@pytest.fixture
def store_version() -> int:
    """Return the version of the session Store file at start-up."""
    return 1


@pytest.fixture
async def restarted(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    stored: Any,
    store_version: int,
    enable_on: bool,
    sources: dict[str, str],
) -> list[Event]:
    """Start Home Assistant as after a restart; return the stopped events seen."""
    hass_storage[STORE_KEY] = {**store(stored), "version": store_version}
    set_sources(hass, **sources)
    await async_setup_inverter(hass)
    service = "turn_on" if enable_on else "turn_off"
    await hass.services.async_call(
        "input_boolean", service, {"entity_id": ENABLE}, blocking=True
    )
    stopped = async_capture_events(hass, EVENT_DISCHARGE_STOPPED)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await async_settle(hass)
    return stopped


def saved_session(hass_storage: dict[str, Any]) -> Any:
    """Return the session the Store holds now."""
    return hass_storage[STORE_KEY]["data"]["session"]


# -- restarts ----------------------------------------------------------------------------


async def test_restart_stops_a_running_discharge(
    hass: HomeAssistant, restarted: list[Event], hass_storage: dict[str, Any]
) -> None:
    """By default a discharge found running after a restart is stopped and reported."""
    assert state_of(hass, ENABLE) == "off"
    assert event_data(restarted) == [
        {"entry_id": ENTRY_ID, "reason": "restart", "exported_kwh": 0.5}
    ]
    assert notices(hass) == {RESTART_NOTICE}
    assert (state_of(hass, STATUS), state_of(hass, ERROR)) == ("idle", "none")
    assert saved_session(hass_storage) is None


@pytest.mark.parametrize(
    "options", [{**base_options(), CONF_RESUME_WHEN_SAFE: True}], ids=["resume"]
)
async def test_restart_resumes_when_safe(
    hass: HomeAssistant, restarted: list[Event], freezer: FrozenDateTimeFactory
) -> None:
    """With resume on and every start condition holding, supervision carries on."""
    assert state_of(hass, ENABLE) == "on"
    assert state_of(hass, STATUS) == "active"
    assert restarted == []
    assert notices(hass) == set()
    # It is supervised: it still stops when the headroom runs out (three hours on,
    # when 8.45 kWh more export is physically possible).
    freezer.tick(timedelta(hours=3))
    set_sources(hass, export="11.45", battery="3000")
    await async_settle(hass)
    assert state_of(hass, ENABLE) == "off"
    assert event_data(restarted) == [
        {"entry_id": ENTRY_ID, "reason": "headroom_exhausted", "exported_kwh": 8.95}
    ]


@pytest.mark.parametrize(
    "options", [{**base_options(), CONF_RESUME_WHEN_SAFE: True}], ids=["resume"]
)
@pytest.mark.parametrize(
    "sources",
    [
        {"soc": "unavailable", "battery": "3000"},
        {"soc": "15", "battery": "3000"},
        {"export": "11.6", "battery": "3000"},
    ],
    ids=["soc_unavailable", "soc_at_min", "no_headroom"],
)
async def test_restart_does_not_resume_when_unsafe(
    hass: HomeAssistant, restarted: list[Event]
) -> None:
    """With resume on, a discharge that could not start now is stopped instead."""
    assert state_of(hass, ENABLE) == "off"
    assert reasons(restarted)[:1] == ["restart"]
    assert RESTART_NOTICE in notices(hass)


@pytest.mark.parametrize(
    "options", [{**base_options(), CONF_RESUME_WHEN_SAFE: True}], ids=["resume"]
)
@pytest.mark.parametrize("sources", [{"battery": "0"}], ids=["battery_idle"])
async def test_resumed_discharge_the_battery_does_not_show_is_stopped(
    hass: HomeAssistant, restarted: list[Event], freezer: FrozenDateTimeFactory
) -> None:
    """A resumed discharge the battery power does not show stops as not obeyed."""
    assert state_of(hass, STATUS) == "active"
    freezer.tick(timedelta(seconds=5))
    async_fire_time_changed(hass)
    await async_settle(hass)
    assert state_of(hass, ENABLE) == "off"
    assert reasons(restarted) == ["inverter_not_obeying"]
    assert state_of(hass, ERROR) == "inverter_not_obeying"


@pytest.mark.parametrize(
    "options", [{**base_options(), CONF_RESUME_WHEN_SAFE: True}], ids=["resume"]
)
@pytest.mark.parametrize(
    "stored",
    [
        {
            "session": stored_session(
                started_at="2026-06-14T23:50:00-07:00",
                backstop_armed_at="2026-06-14T23:50:00-07:00",
            )
        }
    ],
    ids=["yesterday"],
)
async def test_restart_does_not_resume_yesterdays_session(
    hass: HomeAssistant, restarted: list[Event]
) -> None:
    """A session from an earlier day is not adopted: its counters have reset since."""
    assert state_of(hass, ENABLE) == "off"
    assert reasons(restarted) == ["restart"]
    assert notices(hass) == {RESTART_NOTICE}


@pytest.mark.parametrize("stored", [{"session": None}], ids=["no_session"])
async def test_restart_stops_a_discharge_it_did_not_start(
    hass: HomeAssistant, restarted: list[Event]
) -> None:
    """An enable switch found on without a stored session is switched off too."""
    assert state_of(hass, ENABLE) == "off"
    assert event_data(restarted) == [
        {"entry_id": ENTRY_ID, "reason": "restart", "exported_kwh": 0.0}
    ]
    assert notices(hass) == {RESTART_NOTICE}


@pytest.mark.parametrize("enable_on", [False], ids=["enable_off"])
async def test_restart_forgets_a_session_that_ended(
    hass: HomeAssistant,
    restarted: list[Event],
    hass_storage: dict[str, Any],
) -> None:
    """A stored session whose switch is already off is closed without an alarm."""
    assert state_of(hass, ENABLE) == "off"
    assert reasons(restarted) == ["restart"]
    assert notices(hass) == set()
    assert saved_session(hass_storage) is None
    assert state_of(hass, STATUS) == "idle"


CORRUPT: Final = {
    "not_a_dict": "garbage",
    "session_not_a_dict": {"session": "garbage"},
    "bad_time": {"session": stored_session(started_at="yesterday")},
    "naive_time": {"session": stored_session(started_at="2026-06-15T11:50:00")},
    "bad_number": {"session": stored_session(power_kw="fast")},
    "missing_field": {
        "session": {k: v for k, v in stored_session().items() if k != "origin"}
    },
}


@pytest.mark.parametrize("enable_on", [False], ids=["enable_off"])
@pytest.mark.parametrize("stored", list(CORRUPT.values()), ids=list(CORRUPT))
async def test_corrupt_session_is_ignored(
    hass: HomeAssistant,
    restarted: list[Event],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A stored session that cannot be read is ignored: set-up works, nothing runs."""
    assert restarted == []
    assert notices(hass) == set()
    assert (state_of(hass, STATUS), state_of(hass, ERROR)) == ("idle", "none")
    assert error_logs(caplog) == []


@pytest.mark.parametrize("enable_on", [False], ids=["enable_off"])
@pytest.mark.parametrize("store_version", [2], ids=["newer_version"])
async def test_session_from_a_newer_version_is_ignored(
    hass: HomeAssistant,
    restarted: list[Event],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Store written by a newer version (after a downgrade) is ignored, not fatal."""
    assert restarted == []
    assert (state_of(hass, STATUS), state_of(hass, ERROR)) == ("idle", "none")
    assert error_logs(caplog) == []


@pytest.mark.parametrize("stored", list(CORRUPT.values()), ids=list(CORRUPT))
async def test_corrupt_session_with_switch_on_is_stopped(
    hass: HomeAssistant, restarted: list[Event]
) -> None:
    """With an unreadable session, a switch found on is still switched off."""
    assert state_of(hass, ENABLE) == "off"
    assert reasons(restarted) == ["restart"]
    assert notices(hass) == {RESTART_NOTICE}


COUNTERS_KEY: Final = STORE_KEY.replace(".session", ".counters")


@pytest.mark.parametrize(
    "counters",
    [
        {"version": 1, "minor_version": 1, "key": COUNTERS_KEY, "data": "garbage"},
        {"version": 2, "minor_version": 1, "key": COUNTERS_KEY, "data": {}},
    ],
    ids=["not_a_dict", "newer_version"],
)
async def test_unreadable_counter_history_is_ignored(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    counters: dict[str, Any],
) -> None:
    """A counter history that cannot be read is ignored: set-up works, data read."""
    hass_storage[COUNTERS_KEY] = counters
    set_sources(hass)
    await async_setup_inverter(hass)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await async_settle(hass)
    assert (state_of(hass, STATUS), state_of(hass, ERROR)) == ("idle", "none")
    assert state_of(hass, EXPORTED) == "3.0"
    assert error_logs(caplog) == []


# -- unload and reload -------------------------------------------------------------------


async def test_unload_stops_the_discharge_first(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Unloading during a discharge switches it off, tells why, and clears the Store."""
    stopped = async_capture_events(hass, EVENT_DISCHARGE_STOPPED)
    await async_call(hass, "start_discharge")
    assert saved_session(hass_storage) is not None
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await async_settle(hass)
    assert state_of(hass, ENABLE) == "off"
    assert reasons(stopped) == ["unload"]
    assert saved_session(hass_storage) is None


async def test_reload_during_discharge_comes_back_idle(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A reload stops the discharge (unload first) and sets up idle, without an alarm."""
    stopped = async_capture_events(hass, EVENT_DISCHARGE_STOPPED)
    await async_call(hass, "start_discharge")
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await async_settle(hass)
    assert reasons(stopped) == ["unload"]
    assert (state_of(hass, ENABLE), state_of(hass, STATUS)) == ("off", "idle")
    assert notices(hass) == set()


# -- settings ------------------------------------------------------------------------------


async def async_change_settings(hass: HomeAssistant) -> None:
    """Change every number and turn automatic discharge on, as a user would."""
    for entity_id, (_, value) in NUMBERS.items():
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": entity_id, "value": value},
            blocking=True,
        )
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": "switch.export_monitor_auto_discharge"},
        blocking=True,
    )
    await async_settle(hass)


def shown_settings(hass: HomeAssistant) -> dict[str, str | None]:
    """Return what the setting entities show."""
    entity_ids = [*NUMBERS, "switch.export_monitor_auto_discharge"]
    return {entity_id: state_of(hass, entity_id) for entity_id in entity_ids}


CHANGED: Final = {
    "number.export_monitor_min_soc": "30.0",
    "number.export_monitor_safety_margin": "1.2",
    "number.export_monitor_discharge_power": "4.5",
    "switch.export_monitor_auto_discharge": "on",
}
# As stored: the entry migrated to minor version 2 at its first set-up.
CHANGED_OPTIONS: Final = migrate_flat_options(
    {**base_options(), **dict(NUMBERS.values()), CONF_AUTO_DISCHARGE: True}
)


@pytest.mark.parametrize(
    "options", [{**base_options(), "export_window_start": "23:00:00"}], ids=["night"]
)
async def test_settings_survive_a_restart(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    options: dict[str, Any],
) -> None:
    """Numbers and switch are saved in the entry, written to disk, and shown again."""
    await async_change_settings(hass)
    freezer.tick(timedelta(seconds=5))
    async_fire_time_changed(hass)
    await async_settle(hass)
    assert saved_options(hass_storage) == [
        {**CHANGED_OPTIONS, "export_window_start": "23:00:00"}
    ]
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await async_settle(hass)
    assert shown_settings(hass) == CHANGED


async def test_settings_survive_a_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A reload keeps every option and shows the same settings."""
    await async_change_settings(hass)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await async_settle(hass)
    assert dict(init_integration.options) == CHANGED_OPTIONS
    assert shown_settings(hass) == CHANGED


# -- day boundaries ----------------------------------------------------------------------

# The last day of each kind: an ordinary one, and the 23- and 25-hour DST days.
DAYS: Final = {
    "ordinary": "2026-06-15",
    "dst_spring": "2026-03-29",
    "dst_autumn": "2026-10-25",
}
NEXT_DAYS: Final = {
    "ordinary": "2026-06-16",
    "dst_spring": "2026-03-30",
    "dst_autumn": "2026-10-26",
}


async def async_site(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    at: str,
    **site: Any,
) -> Rig:
    """Set up a London site at the local time `at` with plenty of headroom."""
    await hass.config.async_set_time_zone("Europe/London")
    freezer.move_to(local(at))
    return await async_setup_rig(hass, freezer, config_entry, pv_kwh=12.0, **site)


def stopped_at(rig: Rig) -> list[datetime]:
    """Return the local times of the stops."""
    return [dt_util.as_local(event.time_fired) for event in rig.stopped]


@pytest.mark.parametrize("day", list(DAYS), ids=list(DAYS))
async def test_counter_reset_at_midnight_is_accepted(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    day: str,
) -> None:
    """Daily counters that drop to zero at local midnight are a new day, not a fault."""
    rig = await async_site(hass, freezer, config_entry, f"{DAYS[day]}T23:59:00")
    await rig.async_run_until(local(f"{NEXT_DAYS[day]}T00:00:30"))
    assert (state_of(hass, EXPORTED), state_of(hass, ERROR)) == ("0.0", "none")
    assert notices(hass) == set()


@pytest.mark.parametrize("day", list(DAYS), ids=list(DAYS))
async def test_discharge_stops_before_midnight(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    day: str,
) -> None:
    """A discharge ends before local midnight, when the counters reset, on any day."""
    rig = await async_site(hass, freezer, config_entry, f"{DAYS[day]}T23:58:00")
    await async_call(hass, "start_discharge")
    await rig.async_run_until(local(f"{NEXT_DAYS[day]}T00:00:30"))
    assert rig.reasons == ("midnight",)
    assert stopped_at(rig)[0] < local(f"{NEXT_DAYS[day]}T00:00:00")
    assert rig.plant.breach_kwh == 0.0
    assert state_of(hass, ERROR) == "none"


@pytest.mark.parametrize(
    "at",
    ["2026-03-29T00:59:00", "2026-10-25T01:59:00"],
    ids=["spring_forward", "fall_back"],
)
async def test_discharge_continues_across_a_clock_change(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    at: str,
) -> None:
    """The DST change mid-day is no day boundary: the discharge carries on."""
    rig = await async_site(hass, freezer, config_entry, at)
    await async_call(hass, "start_discharge")
    await rig.async_run(180)
    assert rig.reasons == ()
    assert (state_of(hass, ENABLE), state_of(hass, STATUS)) == ("on", "active")
    assert state_of(hass, ERROR) == "none"


async def test_backwards_glitch_is_held_and_recovers(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A counter going backwards mid-day holds its last good value and stops until sane."""
    rig = await async_site(hass, freezer, config_entry, NOW, export_kwh=3.0)
    await async_call(hass, "start_discharge")
    await rig.async_run(30)
    last_good = state_of(hass, EXPORTED)
    rig.plant.faults[EXPORT] = lambda value, attrs: (f"{float(value) - 1:.3f}", attrs)
    await rig.async_run(10)
    assert (state_of(hass, ERROR), state_of(hass, EXPORTED)) == (
        "counter_went_backwards",
        last_good,
    )
    assert rig.reasons == ("data_unsafe",)
    assert state_of(hass, ENABLE) == "off"
    assert notices(hass) == {"counter_went_backwards"}
    rig.plant.faults.clear()
    await rig.async_run(10)
    assert state_of(hass, ERROR) == "none"
    assert notices(hass) == set()


async def test_counter_not_reset_blocks_until_it_resets(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A counter still showing yesterday after midnight blocks starts until it resets."""
    rig = await async_site(hass, freezer, config_entry, "2026-06-15T23:59:00")
    yesterday = f"{rig.plant.export_kwh:.3f}"
    rig.plant.faults[EXPORT] = lambda _value, attrs: (yesterday, attrs)
    await rig.async_run_until(local("2026-06-16T00:00:30"))
    assert state_of(hass, ERROR) == "counter_not_reset"
    with pytest.raises(ServiceValidationError) as exc_info:
        await async_call(hass, "start_discharge")
    assert exc_info.value.translation_key == "start_blocked_counter_not_reset"
    rig.plant.faults.clear()
    await rig.async_run(10)
    assert state_of(hass, ERROR) == "none"
