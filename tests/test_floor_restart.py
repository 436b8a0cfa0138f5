"""The SOC floor after a restart in the middle of a discharge: min SOC comes back."""

from __future__ import annotations

from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.conftest import base_options
from tests.discharge import async_call
from tests.resilience import (
    Behaviour,
    Rig,
    async_crash_and_restart,
    async_heal,
    async_setup_rig,
    notices,
    state_of,
)
from tests.test_soc_floor import TimerlessSim, without_timer
from tests.vendors import SIMS
from tests.vendors.base import VendorSim

MIN_SOC: Final = 20.0
RESTART_NOTICE: Final = "discharge_stopped_on_restart"
# 5 kWh of headroom: the floor sits well above min SOC and far below the SOC.
SITE: Final = {"pv_kwh": 8.1, "export_kwh": 2.6}

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+01:00", tick=True)

SIMULATED: Final[dict[str, type[VendorSim]]] = {
    "generic_timer": SIMS["generic"],
    "generic_no_timer": TimerlessSim,
    "fox_ess": SIMS["fox_ess"],
    "sigenergy": SIMS["sigenergy"],
}


@pytest.fixture
def options(inverter: str) -> dict[str, Any]:
    """Return the generic options, without the timer for the timerless inverter."""
    return without_timer() if inverter == "generic_no_timer" else base_options()


def cutoff(rig: Rig) -> float:
    """Return the inverter's discharge cutoff SOC as it reads now."""
    return float(state_of(rig.hass, rig.inverter.controls["cutoff"]) or "nan")


async def async_started(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    inverter: str,
) -> Rig:
    """Set the site up on the inverter, start a discharge and let it run a minute."""
    rig = await async_setup_rig(hass, freezer, entry, sim=SIMULATED[inverter], **SITE)
    await rig.async_run(30)
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(60)
    assert rig.plant.running
    assert MIN_SOC < cutoff(rig) < rig.plant.soc  # a floor of ours is on the cutoff
    return rig


@pytest.mark.parametrize("inverter", list(SIMULATED))
async def test_min_soc_comes_back_after_a_restart_mid_discharge(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    inverter: str,
) -> None:
    """A crash mid-discharge, then a restart: the stop puts the user's min SOC back."""
    rig = await async_started(hass, freezer, config_entry, inverter)
    await async_crash_and_restart(rig)
    await rig.async_run(120)
    assert rig.reasons == ("restart",)
    assert not rig.plant.running
    assert cutoff(rig) == MIN_SOC
    assert RESTART_NOTICE in notices(hass)
    assert rig.plant.breach_kwh == 0.0
    await async_heal(rig)


@pytest.mark.parametrize("inverter", list(SIMULATED))
async def test_min_soc_left_unrestored_comes_back_after_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    inverter: str,
) -> None:
    """The stop holds but min SOC cannot be written; after a restart it is written."""
    rig = await async_started(hass, freezer, config_entry, inverter)
    floor = cutoff(rig)
    rig.controls.break_entity(rig.inverter.controls["cutoff"], Behaviour.RAISE)
    await async_call(hass, "stop_discharge")
    await rig.async_run(60)
    assert cutoff(rig) == floor  # left high: safe, reported
    assert state_of(hass, "sensor.export_monitor_error_state") == (
        "cutoff_soc_set_failed"
    )
    await async_heal(rig)
    await async_crash_and_restart(rig)
    await rig.async_run(60)
    assert cutoff(rig) == MIN_SOC
    assert "cutoff_soc_set_failed" not in notices(hass)  # mended: withdrawn
    assert rig.reasons == ("user",)
    await async_heal(rig)
