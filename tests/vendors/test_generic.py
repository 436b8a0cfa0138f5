"""The simulated generic inverter on its own, and how any fake answers broken commands."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest

from tests.conftest import DURATION, ENABLE, POWER
from tests.vendors import SIMS
from tests.vendors.base import Answer
from tests.vendors.conftest import async_advance, async_call, exporting
from tests.vendors.generic import GenericSim
from tests.vendors.sigenergy import REMOTE_EMS, SigenergySim

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00")


@pytest.fixture
async def generic(hass: HomeAssistant) -> GenericSim:
    """Return the helper-entity inverter."""
    sim = GenericSim(hass=hass)
    await sim.async_setup()
    return sim


async def test_the_timer_ends_it(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, generic: GenericSim
) -> None:
    """On at the power helper's value until the duration, counted from its write."""
    await async_call(hass, "input_number.set_value", entity_id=POWER, value=3.0)
    await async_call(hass, "input_number.set_value", entity_id=DURATION, value=2)
    await async_call(hass, "input_boolean.turn_on", entity_id=ENABLE)
    assert exporting(generic) == (True, 3.0)
    assert generic.drive().ends == dt_util.utcnow() + timedelta(minutes=2)
    assert generic.owns(ENABLE)


async def test_a_changed_value_only(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, generic: GenericSim
) -> None:
    """With `timer_on_change_only`, re-writing the same duration re-arms nothing."""
    generic.timer_on_change_only = True
    await async_call(hass, "input_number.set_value", entity_id=DURATION, value=2)
    ends = generic.drive().ends
    await async_advance(hass, freezer, 30)
    await async_call(hass, "input_number.set_value", entity_id=DURATION, value=2)
    assert generic.drive().ends == ends


async def test_ignored_and_delayed_commands(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, generic: GenericSim
) -> None:
    """An ignored command never acts; a delayed one acts `delay_s` later."""
    generic.break_target(ENABLE, Answer.IGNORE)
    await async_call(hass, "input_boolean.turn_on", entity_id=ENABLE)
    assert exporting(generic)[0] is False
    generic.break_target(ENABLE, Answer.DELAY)
    await async_call(hass, "input_boolean.turn_on", entity_id=ENABLE)
    assert exporting(generic)[0] is False
    await async_advance(hass, freezer, generic.delay_s)
    assert exporting(generic)[0] is True


async def test_a_raising_command(generic: GenericSim, hass: HomeAssistant) -> None:
    """A raising command raises to the caller."""
    generic.break_target(ENABLE, Answer.RAISE)
    with pytest.raises(HomeAssistantError):
        await async_call(hass, "input_boolean.turn_on", entity_id=ENABLE)


async def test_a_dead_ha_sends_nothing(hass: HomeAssistant) -> None:
    """After `die`, a command that still arrives is not acted on."""
    sim = SigenergySim(hass=hass)
    await sim.async_setup()
    sim.die()
    await async_call(hass, "input_boolean.turn_on", entity_id=REMOTE_EMS)
    assert sim.writes[REMOTE_EMS] == 0


@pytest.mark.parametrize("key", list(SIMS))
async def test_every_fake_sets_up_idle(hass: HomeAssistant, key: str) -> None:
    """Each fake starts idle, with an entity (or device) for each role it offers."""
    sim = SIMS[key](hass=hass)
    await sim.async_setup()
    assert exporting(sim)[0] in (False, None)
    assert all(sim.controls.values())
