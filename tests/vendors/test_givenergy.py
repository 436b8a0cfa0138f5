"""The simulated GivEnergy (GivTCP) on its own: a daily slot on a skewed inverter clock."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest

from tests.vendors.conftest import async_advance, async_call, exporting, state
from tests.vendors.givenergy import (
    ECO,
    MODE,
    RATE,
    SLOT_END,
    SLOT_START,
    TIMED_EXPORT,
    GivEnergySim,
)

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00")


@pytest.fixture
async def giv(hass: HomeAssistant) -> GivEnergySim:
    """Return a GivEnergy inverter in Eco, its clock 90 s ahead, in London (UTC+1)."""
    await hass.config.async_set_time_zone("Europe/London")
    sim = GivEnergySim(hass=hass, clock_offset_s=90)
    await sim.async_setup()
    return sim


async def async_timed_export(hass: HomeAssistant, start: str, end: str) -> None:
    """Write the slot and the rate, then choose Timed Export."""
    await async_call(
        hass, "input_select.select_option", entity_id=SLOT_START, option=start
    )
    await async_call(hass, "input_select.select_option", entity_id=SLOT_END, option=end)
    await async_call(hass, "input_number.set_value", entity_id=RATE, value=3000)
    await async_call(
        hass, "input_select.select_option", entity_id=MODE, option=TIMED_EXPORT
    )


async def test_the_slot_ends_on_the_inverter_clock(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, giv: GivEnergySim
) -> None:
    """Slot 12:00-12:10 on a clock 90 s ahead ends at 12:08:30 HA time; rate truncated."""
    await async_timed_export(hass, "12:00:00", "12:10:00")
    assert exporting(giv) == (True, 2.945)
    assert giv.drive().ends == dt_util.utcnow() + timedelta(minutes=8, seconds=30)
    assert state(hass, RATE) == "3000.0"
    await async_advance(hass, freezer, 15)
    assert state(hass, RATE) == "2945.0"
    giv.die()
    await async_advance(hass, freezer, 8 * 60 + 15)
    assert exporting(giv) == (False, 0.0)


async def test_the_slot_recurs_the_next_day(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, giv: GivEnergySim
) -> None:
    """The mode stays Timed Export: tomorrow's clock enters the slot again."""
    await async_timed_export(hass, "12:00:00", "12:10:00")
    giv.die()
    freezer.tick(timedelta(days=1))
    assert exporting(giv) == (True, 2.945)


async def test_eco_stops(giv: GivEnergySim, hass: HomeAssistant) -> None:
    """The mode Eco ends the export."""
    await async_timed_export(hass, "12:00:00", "12:10:00")
    await async_call(hass, "input_select.select_option", entity_id=MODE, option=ECO)
    assert exporting(giv) == (False, 0.0)


async def test_only_whole_minutes(giv: GivEnergySim, hass: HomeAssistant) -> None:
    """A slot time with seconds is no option of the select."""
    with pytest.raises(HomeAssistantError):
        await async_call(
            hass, "input_select.select_option", entity_id=SLOT_END, option="11:10:30"
        )
