"""The simulated Sigenergy on its own: no backstop, only the cut-off SOC."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest

from tests.conftest import SOC
from tests.vendors.conftest import async_advance, async_call, exporting, state
from tests.vendors.sigenergy import (
    CUTOFF,
    LIMIT,
    MODE,
    REMOTE_EMS,
    SELF_CONSUMPTION,
    SigenergySim,
)

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00")
DISCHARGE = "Command Discharging (PV First)"


@pytest.fixture
async def sigen(hass: HomeAssistant) -> SigenergySim:
    """Return a Sigen plant at 80 % SOC, remote EMS off."""
    hass.states.async_set(SOC, "80", {"unit_of_measurement": "%"})
    sim = SigenergySim(hass=hass)
    await sim.async_setup()
    return sim


async def async_discharge(hass: HomeAssistant) -> None:
    """Switch on, set the limit and cut-off, choose Command Discharging."""
    await async_call(hass, "input_boolean.turn_on", entity_id=REMOTE_EMS)
    await async_call(hass, "input_number.set_value", entity_id=LIMIT, value=3.0)
    await async_call(hass, "input_number.set_value", entity_id=CUTOFF, value=70)
    await async_call(
        hass, "input_select.select_option", entity_id=MODE, option=DISCHARGE
    )


async def test_the_select_is_unavailable_while_off(
    sigen: SigenergySim, hass: HomeAssistant
) -> None:
    """Remote EMS off: the mode select cannot be written."""
    assert state(hass, MODE) == "unavailable"
    with pytest.raises(HomeAssistantError):
        await async_call(
            hass, "input_select.select_option", entity_id=MODE, option=DISCHARGE
        )


async def test_nothing_ends_it_but_the_cutoff(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, sigen: SigenergySim
) -> None:
    """Home Assistant dies: hours later it still discharges, down to the cut-off."""
    await async_discharge(hass)
    assert state(hass, MODE) == DISCHARGE
    sigen.die()
    await async_advance(hass, freezer, 3600)
    drive = sigen.drive()
    assert (drive.on, drive.power_kw, drive.ends, drive.floor_soc) == (
        True,
        3.0,
        None,
        70.0,
    )


async def test_stop_and_switch_off(sigen: SigenergySim, hass: HomeAssistant) -> None:
    """Maximum Self Consumption stops it; switching off hides the select again."""
    await async_discharge(hass)
    await async_call(
        hass, "input_select.select_option", entity_id=MODE, option=SELF_CONSUMPTION
    )
    assert exporting(sigen) == (False, 0.0)
    await async_call(hass, "input_boolean.turn_off", entity_id=REMOTE_EMS)
    assert state(hass, MODE) == "unavailable"


async def test_a_cutoff_above_the_soc_imports(
    sigen: SigenergySim, hass: HomeAssistant
) -> None:
    """The firmware trap: a cut-off above the SOC charges from the grid."""
    await async_call(hass, "input_number.set_value", entity_id=CUTOFF, value=85)
    assert sigen.traps == ["cutoff_above_soc_imports"]
