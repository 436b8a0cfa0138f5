"""A service-only inverter (Huawei: no readable switch) driven through its profile."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.discharge import async_start, async_stop
from tests.resilience import Rig, async_heal, async_setup_rig, state_of
from tests.vendors.huawei import DISCHARGE, STOP, SUMMARY, HuaweiSim

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")

STATUS = "sensor.export_monitor_discharge_status"


@pytest.fixture
async def rig(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> AsyncGenerator[Rig]:
    """Set up a site whose inverter is driven by huawei_solar's services."""
    built = await async_setup_rig(
        hass, freezer, config_entry, sim=HuaweiSim, pv_kwh=12.0
    )
    yield built
    await async_heal(built)


async def test_start_and_stop_by_service(rig: Rig) -> None:
    """A start calls the vendor's service with its fields; a stop calls its stop."""
    await async_start(rig.hass, power_kw=3.0)
    await rig.async_run(60)
    assert state_of(rig.hass, STATUS) == "active"
    assert rig.inverter.writes[DISCHARGE] == 1
    assert state_of(rig.hass, SUMMARY).startswith("Discharging")
    await async_stop(rig.hass)
    assert rig.inverter.writes[STOP] >= 1
    assert rig.reasons == ("user",)


async def test_an_unreadable_status_stops_it(rig: Rig) -> None:
    """A status sensor chosen and then unavailable fails closed, as a switch does."""
    await async_start(rig.hass, power_kw=3.0)
    await rig.async_run(60)
    rig.hass.states.async_set(SUMMARY, "unavailable")
    await rig.async_run(10)
    assert rig.reasons == ("actuator_unavailable",)
    assert rig.inverter.writes[STOP] >= 1


async def test_without_a_status_it_runs_on_the_power_flow(rig: Rig) -> None:
    """With nothing readable chosen (the device only), no "actuator unavailable" stop."""
    entry = rig.entry
    options = {**entry.options, "controls": {"device": rig.inverter.controls["device"]}}
    rig.hass.config_entries.async_update_entry(entry, options=options)
    assert await rig.hass.config_entries.async_reload(entry.entry_id)
    await rig.async_settle()
    await async_start(rig.hass, power_kw=3.0)
    await rig.async_run(120)
    assert rig.reasons == ()
    assert state_of(rig.hass, STATUS) == "active"
    assert rig.inverter.writes[DISCHARGE] == 1
    await async_stop(rig.hass)
    assert rig.reasons == ("user",)
