"""Sigenergy after a stop: the ESS discharging limit goes back to the inverter's maximum.

The limit (register 40034) applies in every EMS mode, so one left at the discharge's
power throttles self-consumption after it (research inverter-profiles.md section 6,
Stop 2). It is set back once the stop's flow has ended, with min SOC.
"""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor.const import (
    DEFAULT_INVERTER_MAX_POWER_KW,
    DEFAULT_MIN_SOC,
)
from tests.discharge import async_call
from tests.resilience import ERROR, Behaviour, async_heal, async_setup_rig
from tests.vendors.sigenergy import CUTOFF, LIMIT, MODE, SELF_CONSUMPTION, SigenergySim

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")


def number(hass: HomeAssistant, entity_id: str) -> float:
    """Return a number entity's value."""
    state = hass.states.get(entity_id)
    assert state is not None
    return float(state.state)


async def test_the_discharging_limit_is_set_back_after_a_stop(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Stopped by the user: self-consumption again, the limit at the maximum, min SOC."""
    rig = await async_setup_rig(
        hass, freezer, config_entry, sim=SigenergySim, export_kwh=3.0
    )
    await async_call(hass, "start_discharge", power_kw=3.0)
    assert number(hass, LIMIT) == 3.0
    assert number(hass, CUTOFF) > DEFAULT_MIN_SOC
    await rig.async_run(60)
    await async_call(hass, "stop_discharge")
    await rig.async_run(60)
    assert hass.states.get(MODE).state == SELF_CONSUMPTION  # type: ignore[union-attr]
    assert number(hass, LIMIT) == DEFAULT_INVERTER_MAX_POWER_KW
    assert number(hass, CUTOFF) == DEFAULT_MIN_SOC
    assert rig.plant.breach_kwh <= 1e-9
    await async_heal(rig)


async def test_a_limit_that_cannot_be_set_back_leaves_the_stop_done(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The set-back failing is logged: the discharge stays stopped, min SOC is back."""
    rig = await async_setup_rig(
        hass, freezer, config_entry, sim=SigenergySim, export_kwh=3.0
    )
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(60)
    rig.controls.break_entity(LIMIT, Behaviour.RAISE)
    await async_call(hass, "stop_discharge")
    await rig.async_run(60)
    assert "Could not set the inverter back after the stop" in caplog.text
    assert rig.reasons == ("user",)
    assert rig.plant.running is False
    assert number(hass, LIMIT) == 3.0
    assert number(hass, CUTOFF) == DEFAULT_MIN_SOC
    assert hass.states.get(ERROR).state == "none"  # type: ignore[union-attr]
    await async_heal(rig)
