"""A time slot written on the inverter's own clock (GivEnergy), read from its clock role."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.discharge import async_start, local
from tests.resilience import Rig, async_heal, async_setup_rig, state_of
from tests.vendors.givenergy import SLOT_END, SLOT_START, GivEnergySim

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00", tick=True)


@pytest.fixture(params=[300.0, -300.0], ids=["ahead", "behind"])
async def rig(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    request: pytest.FixtureRequest,
) -> AsyncGenerator[Rig]:
    """Set up a GivEnergy site whose inverter clock is 5 minutes off, at noon."""
    await hass.config.async_set_time_zone("Europe/London")
    freezer.move_to(local("2026-06-15T12:00:00"))
    sim = partial(GivEnergySim, clock_offset_s=request.param)
    # 0.6 kWh of headroom (12 minutes at 3 kW): longer than the first slot.
    built = await async_setup_rig(hass, freezer, config_entry, sim=sim, export_kwh=3.0)
    yield built
    await async_heal(built)


async def test_the_slot_is_on_the_inverters_clock(rig: Rig) -> None:
    """The slot starts at the inverter's now, so the inverter discharges at once."""
    inverter = rig.inverter
    assert isinstance(inverter, GivEnergySim)
    clock = inverter.clock()
    await async_start(rig.hass, power_kw=3.0)
    await rig.async_run(20)
    assert state_of(rig.hass, SLOT_START) == clock.strftime("%H:%M:00")
    assert state_of(rig.hass, SLOT_END) > clock.strftime("%H:%M:00")
    assert inverter.drive().on is True
    assert rig.reasons == ()


async def test_the_slot_end_is_moved_on_while_it_runs(rig: Rig) -> None:
    """The slot is the backstop: read back from its end, it is re-armed before it ends."""
    inverter = rig.inverter
    assert isinstance(inverter, GivEnergySim)
    await async_start(rig.hass, power_kw=3.0)
    await rig.async_run(20)
    first_end = state_of(rig.hass, SLOT_END)
    await rig.async_run(5 * 60)
    assert state_of(rig.hass, SLOT_END) > first_end
    assert inverter.drive().on is True
    assert rig.reasons == ()
