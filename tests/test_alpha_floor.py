"""Alpha ESS: a SOC floor moved during a discharge reaches the inverter's dispatch block.

The helper package writes the dispatch block (its SOC too) only when the switch turns on
or the power or duration changes (research inverter-profiles.md section 8a): a cutoff
written alone stays in the helper, and the inverter stops at the old floor.
"""

from __future__ import annotations

import math

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.discharge import async_call
from tests.resilience import async_heal, async_setup_rig
from tests.vendors.alpha_ess import CUTOFF, SOC_STEP, AlphaEssSim

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")


async def test_a_moved_floor_is_rearmed_into_the_dispatch(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Each new cutoff is followed by a re-arm: the discharge runs on past the old floor."""
    rig = await async_setup_rig(
        hass, freezer, config_entry, sim=AlphaEssSim, export_kwh=3.0
    )
    await async_call(hass, "start_discharge", power_kw=3.0)
    first = float(hass.states.get(CUTOFF).state)  # type: ignore[union-attr]
    await rig.async_run(290)
    cutoff = float(hass.states.get(CUTOFF).state)  # type: ignore[union-attr]
    assert cutoff < first
    assert rig.reasons == ()
    assert rig.plant.running is True
    dispatch = rig.plant.inverter.drive().floor_soc
    assert dispatch == pytest.approx(math.floor(cutoff / SOC_STEP) * SOC_STEP)
    assert rig.plant.breach_kwh <= 1e-9
    await async_heal(rig)
