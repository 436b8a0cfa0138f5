"""The fakes' own timers act as of their due moment, before any write made after it.

A rig moves time in steps: a poll or delayed write due between two steps fires at the
next one, among the monitor's timers of that step, in the order Home Assistant's timer
heap holds them. These tests move the clock past a due moment without firing the timers,
write, then fire: the outcome must be the one of a timer that ran when it was due.
"""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from tests.vendors.conftest import async_advance, async_call, exporting, state
from tests.vendors.fox_ess import FORCE_DISCHARGE, POWER, WORK_MODE, FoxEssSim
from tests.vendors.givenergy import CLOCK, RATE, GivEnergySim
from tests.vendors.huawei import SUMMARY, HuaweiSim

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00")


async def async_fire(hass: HomeAssistant) -> None:
    """Fire every timer due now and let everything run."""
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_a_write_after_a_due_poll_rides_on_the_next(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Force Discharge chosen 5 s after a poll was due waits for the poll after it."""
    fox = FoxEssSim(hass=hass)
    await fox.async_setup()
    await async_call(hass, "input_number.set_value", entity_id=POWER, value=3.0)
    freezer.tick(15.0)  # the poll was due at 10 s and has not fired yet
    await async_call(
        hass, "input_select.select_option", entity_id=WORK_MODE, option=FORCE_DISCHARGE
    )
    await async_fire(hass)
    assert fox.polls == 1
    assert exporting(fox) == (False, 0.0)
    await async_advance(hass, freezer, 10)
    assert fox.polls == 2
    assert exporting(fox) == (True, 3.0)


async def test_a_late_poll_reads_as_of_its_due_moment(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A poll fired 20 s after it was due shows the minutes left as they were then."""
    huawei = HuaweiSim(hass=hass)
    await huawei.async_setup()
    await async_call(
        hass,
        "huawei_solar.forcible_discharge",
        device_id=huawei.device_id,
        duration=2,
        power=3000,
    )
    freezer.tick(50.0)  # the poll was due at 30 s: 90 s left then, 70 s now
    await async_fire(hass)
    assert huawei.polls == 1
    assert state(hass, SUMMARY) == "Discharging at 3000W for 2 minutes"
    assert exporting(huawei) == (True, 3.0)


async def test_a_delayed_write_lands_before_a_later_one(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A write delayed to 20 s lands before one made at 25 s, not over it."""
    fox = FoxEssSim(hass=hass)
    await fox.async_setup()
    fox.break_target(POWER, "delay")
    await async_call(hass, "input_number.set_value", entity_id=POWER, value=3.0)
    fox.break_target(POWER, "obey")
    freezer.tick(25.0)  # the delayed write was due at 20 s and has not fired yet
    await async_call(hass, "input_number.set_value", entity_id=POWER, value=1.5)
    await async_fire(hass)
    assert state(hass, POWER) == "1.5"


async def test_a_poll_due_while_home_assistant_was_dead_never_runs(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """After a restart, a poll due during the death does not show its old clock."""
    givenergy = GivEnergySim(hass=hass)
    await givenergy.async_setup()
    givenergy.die()
    freezer.tick(3600.0)  # polls were due from 15 s on; no timer fired meanwhile
    givenergy.restart()
    shown = state(hass, CLOCK)
    await async_call(hass, "input_number.set_value", entity_id=RATE, value=1000.0)
    await async_fire(hass)
    assert givenergy.polls == 0
    assert state(hass, CLOCK) == shown
