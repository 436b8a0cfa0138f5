"""The simulated Fox ESS (foxess_modbus) on its own: poll-applied writes, watchdog, fallback."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from tests.vendors.conftest import async_advance, async_call, exporting, state
from tests.vendors.fox_ess import (
    BATTERY,
    FEED_IN,
    FORCE_DISCHARGE,
    POWER,
    SELF_USE,
    WORK_MODE,
    FoxEssSim,
)

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00")


@pytest.fixture
async def fox(hass: HomeAssistant) -> FoxEssSim:
    """Return a Fox inverter in Self Use."""
    sim = FoxEssSim(hass=hass)
    await sim.async_setup()
    return sim


async def async_force(hass: HomeAssistant, power_kw: float = 3.0) -> None:
    """Set the power, then choose Force Discharge."""
    await async_call(hass, "input_number.set_value", entity_id=POWER, value=power_kw)
    await async_call(
        hass, "input_select.select_option", entity_id=WORK_MODE, option=FORCE_DISCHARGE
    )


async def test_force_discharge_applies_at_the_next_poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fox: FoxEssSim
) -> None:
    """The select shows the intent at once; the inverter and its sensor at the poll."""
    await async_force(hass)
    assert state(hass, WORK_MODE) == FORCE_DISCHARGE
    assert exporting(fox) == (False, 0.0)
    await async_advance(hass, freezer, 10)
    assert exporting(fox) == (True, 3.0)
    assert state(hass, BATTERY) == "3.000"


async def test_a_power_change_applies_at_the_next_poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fox: FoxEssSim
) -> None:
    """The power number is stored and written at the next poll."""
    await async_force(hass)
    await async_advance(hass, freezer, 10)
    await async_call(hass, "input_number.set_value", entity_id=POWER, value=1.5)
    assert exporting(fox) == (True, 3.0)
    await async_advance(hass, freezer, 10)
    assert exporting(fox) == (True, 1.5)


async def test_self_use_stops_at_once(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fox: FoxEssSim
) -> None:
    """Self Use disables remote control and writes the work mode."""
    await async_force(hass)
    await async_advance(hass, freezer, 10)
    await async_call(
        hass, "input_select.select_option", entity_id=WORK_MODE, option=SELF_USE
    )
    assert exporting(fox) == (False, 0.0)
    assert fox.traps == []


async def test_feed_in_first_as_a_stop_keeps_exporting(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fox: FoxEssSim
) -> None:
    """Stopping with Feed-in First leaves the battery exporting (foxess_modbus#558)."""
    await async_force(hass)
    await async_advance(hass, freezer, 10)
    await async_call(
        hass, "input_select.select_option", entity_id=WORK_MODE, option=FEED_IN
    )
    assert exporting(fox) == (True, 5.0)
    assert fox.traps == ["stop_with_feed_in_first"]


async def test_ha_dies_the_watchdog_falls_back_to_feed_in_first(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fox: FoxEssSim
) -> None:
    """No poll feeds the watchdog: after 2 x poll the fallback exports, hours later too."""
    await async_force(hass)
    await async_advance(hass, freezer, 10)
    fox.die()
    drive = fox.drive()
    assert drive.ends is not None
    assert drive.fallback_kw == 5.0
    await async_advance(hass, freezer, 25)
    assert exporting(fox) == (True, 5.0)
    fox.restart()  # the integration forgets its mode and writes nothing
    await async_advance(hass, freezer, 3600)
    assert exporting(fox) == (True, 5.0)
    assert state(hass, WORK_MODE) == FEED_IN
    assert fox.drive().floor_soc == 10.0
