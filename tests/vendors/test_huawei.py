"""The simulated Huawei (huawei_solar) on its own: services, inverter-timed duration."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest

from tests.vendors.conftest import async_advance, async_call, exporting, state
from tests.vendors.huawei import DISCHARGE, DISCHARGE_SOC, STOP, SUMMARY, HuaweiSim

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00")


@pytest.fixture
async def huawei(hass: HomeAssistant) -> HuaweiSim:
    """Return an idle Huawei battery."""
    sim = HuaweiSim(hass=hass)
    await sim.async_setup()
    return sim


async def test_forcible_discharge_runs_its_duration_alone(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, huawei: HuaweiSim
) -> None:
    """3000 W for 2 min: summary at the next 30 s poll; HA dies; it ends on time."""
    await async_call(
        hass, DISCHARGE, device_id=huawei.device_id, duration=2, power=3000
    )
    assert exporting(huawei) == (True, 3.0)
    assert huawei.drive().ends == dt_util.utcnow() + timedelta(minutes=2)
    assert state(hass, SUMMARY) == "Stopped"
    await async_advance(hass, freezer, 30)
    assert state(hass, SUMMARY) == "Discharging at 3000W for 2 minutes"
    huawei.die()
    await async_advance(hass, freezer, 90)
    assert exporting(huawei) == (False, 0.0)


async def test_stop(huawei: HuaweiSim, hass: HomeAssistant) -> None:
    """stop_forcible_charge ends it."""
    await async_call(
        hass, DISCHARGE, device_id=huawei.device_id, duration=60, power=3000
    )
    await async_call(hass, STOP, device_id=huawei.device_id)
    assert exporting(huawei) == (False, 0.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [("device_id", "inverter"), ("power", 6000), ("power", "3 kW"), ("duration", 0)],
    ids=["other_device", "above_rated", "not_a_number", "no_duration"],
)
async def test_refused_fields(
    huawei: HuaweiSim, hass: HomeAssistant, field: str, value: object
) -> None:
    """What the integration refuses raises and starts nothing."""
    data = {"device_id": huawei.device_id, "duration": 2, "power": 3000, field: value}
    with pytest.raises(HomeAssistantError):
        await async_call(hass, DISCHARGE, **data)
    assert exporting(huawei) == (False, 0.0)


async def test_the_soc_variant_has_no_time_bound(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, huawei: HuaweiSim
) -> None:
    """forcible_discharge_soc runs on until its target SOC (a trap)."""
    await async_call(
        hass, DISCHARGE_SOC, device_id=huawei.device_id, target_soc=12, power=3000
    )
    huawei.die()
    await async_advance(hass, freezer, 3600)
    assert exporting(huawei) == (True, 3.0)
    assert huawei.drive().floor_soc == 12.0
    assert huawei.traps == ["no_time_bound"]
