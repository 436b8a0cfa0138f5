"""Tests of the compliance history: days, sessions, the store, get_history and its sensor."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import logging
from typing import Any, Final
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor import history as history_module
from custom_components.export_monitor.const import (
    DOMAIN,
    EVENT_DISCHARGE_STARTED,
    EVENT_DISCHARGE_STOPPED,
)
from tests.conftest import ENABLE, ENERGY_ATTRS, EXPORT, PV, set_sources
from tests.discharge import (
    ENTRY_ID,
    async_call,
    async_jump,
    async_settle,
    async_setup_entry,
    follow_enable,
    local,
)

# A fixed noon unless a test moves the clock: near local midnight starts are refused.
pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")

STORE_KEY: Final = f"{DOMAIN}.{ENTRY_ID}.history"
TODAY_KEY: Final = f"{DOMAIN}.{ENTRY_ID}.history_today"
COMPLIANT_DAYS: Final = "sensor.export_monitor_compliant_days"
# Noon, local time: daily counters are judged against the time since midnight.
pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")


async def async_history(hass: HomeAssistant, **data: Any) -> list[dict[str, Any]]:
    """Call get_history and return its days."""
    response = await hass.services.async_call(
        DOMAIN, "get_history", data, blocking=True, return_response=True
    )
    assert response is not None
    days: list[dict[str, Any]] = response["days"]  # type: ignore[assignment]
    return days


def figures(record: dict[str, Any]) -> tuple[Any, ...]:
    """Return a record's day, flags and energy figures."""
    return (
        record["day"],
        record["closed"],
        record["partial"],
        record["allowance_kwh"],
        record["exported_kwh"],
        record["pv_kwh"],
        record["over_export_kwh"],
    )


async def async_watch(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, until: datetime
) -> None:
    """Let Home Assistant run to `until` in 5 minute real-time steps, the sources reporting."""
    now = datetime.now(UTC)
    while (now := now + timedelta(minutes=5)) < until:
        await async_jump(hass, freezer, now)
    await async_jump(hass, freezer, until)


def new_day(hass: HomeAssistant) -> None:
    """Reset the daily counters, as the meters do at midnight."""
    hass.states.async_set(PV, "0", ENERGY_ATTRS)
    hass.states.async_set(EXPORT, "0", ENERGY_ATTRS)


# -- days roll over at local midnight -----------------------------------------------------

DAYS: Final = {
    "ordinary": ("2026-06-15", "2026-06-16"),
    "dst_spring_23h": ("2026-03-08", "2026-03-09"),
    "dst_autumn_25h": ("2026-11-01", "2026-11-02"),
}


@pytest.mark.parametrize("day", list(DAYS), ids=list(DAYS))
async def test_a_watched_day_closes_at_local_midnight(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    inverter: None,
    hass_storage: dict[str, Any],
    day: str,
) -> None:
    """A day watched from midnight to midnight (23, 24 or 25 hours) closes whole and compliant."""
    today, tomorrow = DAYS[day]
    freezer.move_to(local(f"{today}T00:00:00"))
    # At midnight the counters read zero (12 kWh then would be yesterday's); the
    # day's totals come at noon.
    new_day(hass)
    await async_setup_entry(hass, config_entry)
    await async_watch(hass, freezer, local(f"{today}T12:00:00"))
    set_sources(hass)
    await async_watch(hass, freezer, local(f"{today}T23:59:50"))
    [record] = await async_history(hass)
    assert figures(record) == (today, False, False, 11.5, 3.0, 12.0, 0.0)

    new_day(hass)
    await async_watch(hass, freezer, local(f"{tomorrow}T00:00:00"))
    latest, closed = await async_history(hass)
    assert figures(closed) == (today, True, False, 11.5, 3.0, 12.0, 0.0)
    assert closed["compliant"] is True
    assert closed["last_seen"] == local(f"{today}T23:59:50").isoformat()
    assert figures(latest) == (tomorrow, False, False, -0.5, 0.0, 0.0, 0.0)
    assert latest["first_seen"] == local(f"{tomorrow}T00:00:00").isoformat()
    assert hass.states.get(COMPLIANT_DAYS).state == "1"
    # The closed day is written at once; today's record stays in its own small store.
    await async_jump(hass, freezer, local(f"{tomorrow}T00:00:10"))
    assert [d["day"] for d in hass_storage[STORE_KEY]["data"]["days"]] == [today]
    assert hass_storage[STORE_KEY]["data"]["compliant_days"] == 1


async def test_a_day_over_its_allowance_keeps_its_worst(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    inverter: None,
) -> None:
    """Export above the allowance is recorded as the day's worst, even once PV catches up."""
    freezer.move_to(local("2026-06-15T12:00:00"))
    await async_setup_entry(hass, config_entry)
    # Hours apart: faster rises than the site can make are not trusted.
    await async_jump(hass, freezer, local("2026-06-15T13:00:00"))
    hass.states.async_set(EXPORT, "12.25", ENERGY_ATTRS)
    await async_jump(hass, freezer, local("2026-06-15T15:00:00"))
    hass.states.async_set(PV, "20", ENERGY_ATTRS)
    await async_jump(hass, freezer, local("2026-06-15T15:01:00"))
    [record] = await async_history(hass)
    assert figures(record) == ("2026-06-15", False, True, 19.5, 12.25, 20.0, 0.75)
    assert record["compliant"] is False
    await async_jump(hass, freezer, local("2026-06-16T00:00:00"))
    assert hass.states.get(COMPLIANT_DAYS).state == "0"


# -- sessions ----------------------------------------------------------------------------


async def test_sessions_and_stops_are_counted(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Each session of ours counts once; its stop counts by reason with what it exported."""
    await async_call(hass, "start_discharge")
    hass.states.async_set(EXPORT, "3.1", ENERGY_ATTRS)
    await async_settle(hass)
    await async_call(hass, "stop_discharge")
    # Another monitor's events are not ours.
    hass.bus.async_fire(EVENT_DISCHARGE_STARTED, {"entry_id": "other"})
    hass.bus.async_fire(
        EVENT_DISCHARGE_STOPPED,
        {"entry_id": "other", "reason": "user", "exported_kwh": 9.0},
    )
    await async_settle(hass)
    [record] = await async_history(hass)
    assert (record["sessions"], record["stops"], record["discharged_kwh"]) == (
        1,
        {"user": 1},
        0.1,
    )


# -- the store -----------------------------------------------------------------------------


async def test_the_record_survives_a_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """A reload writes the history and reads it back, sessions included."""
    await async_call(hass, "start_discharge")
    await async_call(hass, "stop_discharge")
    before = await async_history(hass)
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await async_settle(hass)
    assert hass_storage[TODAY_KEY]["data"]["day"]["stops"] == {"user": 1}
    after = await async_history(hass)
    assert [(d["day"], d["sessions"], d["stops"]) for d in after] == [
        (d["day"], d["sessions"], d["stops"]) for d in before
    ]
    assert after[0]["sessions"] == 1


async def test_the_day_is_written_within_a_minute(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Today's changes reach the store within a minute, without an unload."""
    assert TODAY_KEY not in hass_storage
    await async_jump(hass, freezer, datetime.now(UTC) + timedelta(seconds=61))
    record = hass_storage[TODAY_KEY]["data"]["day"]
    assert (record["day"], record["exported_kwh"]) == (
        dt_util.now().date().isoformat(),
        3.0,
    )


def stored_day(day: date, **changes: Any) -> dict[str, Any]:
    """Return the stored form of a whole, compliant closed day."""
    start = datetime.combine(day, datetime.min.time()).replace(
        tzinfo=local("2026-01-01T00:00:00").tzinfo
    )
    return {
        "day": day.isoformat(),
        "allowance_kwh": 10.0,
        "exported_kwh": 8.0,
        "over_export_kwh": 0.0,
        "pv_kwh": 10.5,
        "discharged_kwh": 4.0,
        "sessions": 1,
        "stops": {"headroom_exhausted": 1},
        "first_seen": start.isoformat(),
        "last_seen": (start + timedelta(hours=23, minutes=59)).isoformat(),
        "partial": False,
        "closed": True,
        **changes,
    }


def preload(
    hass_storage: dict[str, Any],
    days: list[dict[str, Any]],
    today: dict[str, Any] | None = None,
    version: int = 1,
) -> None:
    """Put a history into the stores, as a previous run left it."""
    for key, data in (
        (STORE_KEY, {"days": days, "compliant_days": len(days)}),
        (TODAY_KEY, {"day": today}),
    ):
        hass_storage[key] = {
            "version": version,
            "minor_version": 1,
            "key": key,
            "data": data,
        }


async def test_a_restart_reads_the_stored_days(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    inverter: None,
    hass_storage: dict[str, Any],
) -> None:
    """After a restart the stored days come back; a day left open at 20:00 closes, partial."""
    left_open = stored_day(
        date(2026, 6, 14),
        closed=False,
        last_seen=local("2026-06-14T20:00:00").isoformat(),
    )
    preload(hass_storage, [stored_day(date(2026, 6, 13))], today=left_open)
    freezer.move_to(local("2026-06-15T09:00:00"))
    await async_setup_entry(hass, config_entry)
    today, yesterday, before = await async_history(hass)
    assert (today["day"], today["closed"], today["partial"]) == (
        "2026-06-15",
        False,
        True,
    )
    assert (yesterday["day"], yesterday["closed"], yesterday["partial"]) == (
        "2026-06-14",
        True,
        True,
    )
    assert before == {**stored_day(date(2026, 6, 13)), "compliant": True}
    # The count of compliant days ever closed is kept, not recounted from the days kept.
    assert hass.states.get(COMPLIANT_DAYS).state == "1"


async def test_a_history_from_a_newer_version_is_set_aside(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    inverter: None,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A store written by a newer version is not read; a new history starts."""
    preload(hass_storage, [stored_day(date(2026, 6, 13))], version=2)
    assert hass_storage[TODAY_KEY]["version"] == 2
    caplog.set_level(logging.WARNING)
    await async_setup_entry(hass, config_entry)
    assert len(await async_history(hass)) == 1
    assert "stored by a newer version" in caplog.text


async def test_removing_the_entry_deletes_its_history(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Deleting the entry deletes its stored history, both parts."""
    assert await hass.config_entries.async_unload(ENTRY_ID)
    assert {STORE_KEY, TODAY_KEY} <= set(hass_storage)
    assert await hass.config_entries.async_remove(ENTRY_ID)
    await async_settle(hass)
    assert not {STORE_KEY, TODAY_KEY} & set(hass_storage)


# -- get_history ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "count"),
    [({}, 30), ({"days": 5}, 5), ({"days": "2"}, 2), ({"days": 400}, 41)],
    ids=["default_30", "five", "numeric_text", "all"],
)
async def test_get_history_returns_the_newest_days(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    inverter: None,
    hass_storage: dict[str, Any],
    data: dict[str, Any],
    count: int,
) -> None:
    """get_history returns the newest N days, newest first, today included."""
    stored = [stored_day(date(2026, 6, 14) - timedelta(days=n)) for n in range(40)]
    preload(hass_storage, stored)
    freezer.move_to(local("2026-06-15T00:00:00"))
    await async_setup_entry(hass, config_entry)
    days = await async_history(hass, config_entry_id=ENTRY_ID, **data)
    expected = [date(2026, 6, 15) - timedelta(days=n) for n in range(count)]
    assert [record["day"] for record in days] == [d.isoformat() for d in expected]


@pytest.mark.parametrize(
    "days",
    [0, 401, -1, 2.5, "many", None, [3]],
    ids=["zero", "too_many", "negative", "fraction", "text", "none", "list"],
)
async def test_bad_days_are_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, days: Any
) -> None:
    """A number of days that is not a whole number from 1 to 400 gets a translated error."""
    with pytest.raises(ServiceValidationError) as exc_info:
        await async_history(hass, days=days)
    assert exc_info.value.translation_key == "invalid_history_days"
    assert str(exc_info.value) == (
        f"Cannot read the history for {days} days: ask for a whole number of days"
        " from 1 to 400"
    )


async def test_unknown_entry_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """get_history names the entry it cannot find, translated."""
    with pytest.raises(ServiceValidationError) as exc_info:
        await async_history(hass, config_entry_id="no_such_entry")
    assert exc_info.value.translation_key == "config_entry_not_found"


# -- the history never gets in the way of supervision --------------------------------------


async def test_a_failing_history_does_not_stop_supervision(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An error while recording a snapshot is logged; the discharge is still stopped in time."""
    follow_enable(hass, ENABLE)
    # Near the allowance, an hour on (a faster rise is not trusted).
    await async_jump(hass, freezer, datetime.now(UTC) + timedelta(hours=1))
    hass.states.async_set(EXPORT, "11.3", ENERGY_ATTRS)
    await async_settle(hass)
    await async_call(hass, "start_discharge")
    with patch.object(history_module, "record_sample", side_effect=ValueError("boom")):
        await async_jump(hass, freezer, datetime.now(UTC) + timedelta(seconds=30))
        hass.states.async_set(EXPORT, "11.45", ENERGY_ATTRS)
        await async_settle(hass)
    assert [event.data["reason"] for event in stopped] == ["headroom_exhausted"]
    assert hass.states.get(ENABLE).state == "off"
    assert "Could not record a snapshot in the compliance history" in caplog.text
    await async_jump(hass, freezer, datetime.now(UTC) + timedelta(seconds=5))
    assert "The compliance history records snapshots again" in caplog.text
    [record] = await async_history(hass)
    assert (record["exported_kwh"], record["stops"]) == (
        11.45,
        {"headroom_exhausted": 1},
    )
