"""The simulated SolaX (solax_modbus mode 1) on its own: a block that expires in seconds."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from tests.vendors.conftest import async_advance, async_call, exporting, state
from tests.vendors.solax import (
    AUTOREPEAT,
    CONTROL,
    DISABLED,
    DURATION,
    POWER,
    STATUS,
    TRIGGER,
    SolaxSim,
)

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00")


@pytest.fixture
async def solax(hass: HomeAssistant) -> SolaxSim:
    """Return an idle SolaX."""
    sim = SolaxSim(hass=hass)
    await sim.async_setup()
    return sim


async def async_block(hass: HomeAssistant, *, repeat_s: float = 0) -> None:
    """Set -3000 W, Enabled Battery Control, a 20 s block, then press the trigger."""
    await async_call(hass, "input_number.set_value", entity_id=POWER, value=-3000)
    await async_call(
        hass,
        "input_select.select_option",
        entity_id=CONTROL,
        option="Enabled Battery Control",
    )
    await async_call(hass, "input_number.set_value", entity_id=DURATION, value=20)
    await async_call(
        hass, "input_number.set_value", entity_id=AUTOREPEAT, value=repeat_s
    )
    await async_call(hass, "input_button.press", entity_id=TRIGGER)


async def test_parameters_alone_do_nothing(
    solax: SolaxSim, hass: HomeAssistant
) -> None:
    """Local parameters are intent: only the trigger sends them."""
    await async_call(hass, "input_number.set_value", entity_id=POWER, value=-3000)
    assert exporting(solax) == (False, 0.0)


async def test_a_block_expires_within_seconds(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, solax: SolaxSim
) -> None:
    """One press: 20 s of discharge, then the normal work mode; read back at the poll."""
    await async_block(hass)
    assert exporting(solax) == (True, 3.0)
    assert state(hass, STATUS) == DISABLED
    await async_advance(hass, freezer, 15)
    assert state(hass, STATUS) == "Enabled Power Control"
    await async_advance(hass, freezer, 5)
    assert exporting(solax) == (False, 0.0)


async def test_autorepeat_holds_while_ha_lives_then_the_block_expires(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, solax: SolaxSim
) -> None:
    """Re-sent every poll; Home Assistant dies: the last block ends within 20 s."""
    await async_block(hass, repeat_s=3600)
    await async_advance(hass, freezer, 120)
    assert exporting(solax) == (True, 3.0)
    solax.die()
    await async_advance(hass, freezer, 20)
    assert exporting(solax) == (False, 0.0)
    solax.restart()
    await async_advance(hass, freezer, 60)
    assert exporting(solax) == (False, 0.0)


async def test_disabled_needs_the_trigger(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, solax: SolaxSim
) -> None:
    """Choosing Disabled changes nothing until the trigger is pressed."""
    await async_block(hass, repeat_s=3600)
    await async_call(
        hass, "input_select.select_option", entity_id=CONTROL, option=DISABLED
    )
    assert exporting(solax) == (True, 3.0)
    assert solax.traps == ["disabled_without_trigger"]
    await async_call(hass, "input_button.press", entity_id=TRIGGER)
    assert exporting(solax) == (False, 0.0)
    await async_advance(hass, freezer, 30)
    assert exporting(solax) == (False, 0.0)


async def test_a_poll_sends_the_parameters_it_was_due_with(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, solax: SolaxSim
) -> None:
    """A poll fired late sends what it was due with; a write since rides on the next.

    The rig moves time in 10 s steps: the poll due at 15 s fires at 20 s, after a
    write of that step (a stop's "Disabled") or before it, as the machine's speed
    has it. Which one won decided whether that stop took 0 or 20 s.
    """
    await async_block(hass, repeat_s=3600)
    freezer.tick(20.0)  # the poll was due 5 s ago and has not fired yet
    await async_call(
        hass, "input_select.select_option", entity_id=CONTROL, option=DISABLED
    )
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert solax.polls == 1
    assert exporting(solax) == (True, 3.0)
    await async_advance(hass, freezer, 15)
    assert solax.polls == 2
    assert exporting(solax) == (False, 0.0)
