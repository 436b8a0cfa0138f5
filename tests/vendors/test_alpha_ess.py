"""The simulated Alpha ESS helper package on its own: dispatch block, change-only re-arm."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from tests.vendors.alpha_ess import (
    CUTOFF,
    DISPATCH_START,
    DURATION,
    ENABLE,
    POWER,
    AlphaEssSim,
)
from tests.vendors.conftest import async_advance, async_call, exporting, state

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00")


@pytest.fixture
async def alpha(hass: HomeAssistant) -> AlphaEssSim:
    """Return an idle Alpha ESS."""
    sim = AlphaEssSim(hass=hass)
    await sim.async_setup()
    return sim


async def async_dispatch(hass: HomeAssistant, minutes: float = 2) -> None:
    """Write power, cutoff and duration, then turn the switch on."""
    await async_call(hass, "input_number.set_value", entity_id=POWER, value=3.0)
    await async_call(hass, "input_number.set_value", entity_id=CUTOFF, value=11)
    await async_call(hass, "input_number.set_value", entity_id=DURATION, value=minutes)
    await async_call(hass, "input_boolean.turn_on", entity_id=ENABLE)


async def test_dispatch_runs_its_duration_and_reads_back_at_the_poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, alpha: AlphaEssSim
) -> None:
    """The helper shows at once, the dispatch sensor at the next 5 s poll."""
    await async_dispatch(hass)
    assert state(hass, ENABLE) == "on"
    assert state(hass, DISPATCH_START) == "Stop"
    assert exporting(alpha) == (True, 3.0)
    await async_advance(hass, freezer, 5)
    assert state(hass, DISPATCH_START) == "Start"
    alpha.die()
    await async_advance(hass, freezer, 115)
    assert exporting(alpha) == (False, 0.0)


async def test_the_same_duration_rearms_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, alpha: AlphaEssSim
) -> None:
    """Writing 2 min again does not re-arm; a changed value does."""
    await async_dispatch(hass)
    ends = alpha.drive().ends
    await async_advance(hass, freezer, 60)
    await async_call(hass, "input_number.set_value", entity_id=DURATION, value=2)
    assert alpha.drive().ends == ends
    assert alpha.traps == ["cutoff_truncated", "same_value_not_rearmed"]
    await async_call(hass, "input_number.set_value", entity_id=DURATION, value=3)
    assert alpha.drive().ends == dt_util.utcnow() + timedelta(minutes=3)


async def test_the_cutoff_register_truncates(
    alpha: AlphaEssSim, hass: HomeAssistant
) -> None:
    """11 % lands as 10.98 % (0.392 % steps): below what was asked."""
    await async_dispatch(hass)
    assert alpha.drive().floor_soc == pytest.approx(10.98, abs=0.01)


async def test_switch_off_resets_the_dispatch(
    alpha: AlphaEssSim, hass: HomeAssistant
) -> None:
    """Turning the switch off stops at once."""
    await async_dispatch(hass)
    await async_call(hass, "input_boolean.turn_off", entity_id=ENABLE)
    assert exporting(alpha) == (False, 0.0)
