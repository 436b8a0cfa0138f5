"""Delayed meters: export values that arrive minutes late under a fresh timestamp.

With a grid power sensor the export of a discharge is the larger of the counter and the
counter at the start plus the integrated export power, and the counter's lag is learned
into the reserve (logic/lag.py). Without one, the declared delay is in the reserve
(bench.md section 6, scenario adv_delayed_export).
"""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor.const import (
    CONF_EXPORT_METER_DELAY_SECONDS,
    CONF_GRID_POWER_ENTITY,
)
from tests.conftest import EXPORT, GRID, base_options
from tests.discharge import async_call
from tests.resilience import Rig, async_heal, async_setup_rig, delayed_meter

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")


@pytest.fixture
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Return the entry options, changed by an indirect parameter."""
    return {**base_options(), **getattr(request, "param", {})}


async def _run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    delay_s: float,
    late: tuple[str, ...] = (EXPORT,),
) -> Rig:
    """Run a 3 kW discharge into 2 kWh of headroom with late meters (the counter)."""
    rig = await async_setup_rig(hass, freezer, entry, pv_kwh=4.1, export_kwh=1.6)
    for entity_id in late:
        rig.plant.faults[entity_id] = delayed_meter(delay_s)
    await rig.async_run(60)
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(3600)
    return rig


@pytest.mark.parametrize("delay_s", [120.0, 300.0])
async def test_delayed_counter_with_grid_sensor(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    delay_s: float,
) -> None:
    """Values minutes late: the integrated grid power bounds export; 0.000 kWh over."""
    rig = await _run(hass, freezer, config_entry, delay_s)
    assert rig.plant.breach_kwh == pytest.approx(0.0, abs=1e-9)
    assert rig.reasons[0] == "headroom_exhausted"
    assert rig.plant.export_kwh > 1.6 + 1.2  # most of the 2 kWh of headroom
    # The lag was learned into the reserve, and is kept with the cadence.
    cadence = config_entry.runtime_data.controller.cadence
    assert cadence.lag_seconds >= delay_s - 20
    assert cadence.to_data()["lags"]
    await async_heal(rig)


NO_GRID = {CONF_GRID_POWER_ENTITY: None}


@pytest.mark.parametrize(
    "options",
    [
        {**NO_GRID, CONF_EXPORT_METER_DELAY_SECONDS: 120},
        {**NO_GRID, CONF_EXPORT_METER_DELAY_SECONDS: 300},
    ],
    indirect=True,
    ids=["declared_120", "declared_300"],
)
async def test_delayed_counter_without_grid_sensor_declared(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """No grid sensor, the delay declared: the reserve covers it; 0.000 kWh over."""
    rig = await _run(
        hass, freezer, config_entry, float(options[CONF_EXPORT_METER_DELAY_SECONDS])
    )
    assert rig.plant.breach_kwh == pytest.approx(0.0, abs=1e-9)
    assert rig.reasons[0] == "headroom_exhausted"
    assert rig.plant.export_kwh > 1.6 + 0.8
    await async_heal(rig)


@pytest.mark.parametrize("delay_s", [150.0, 240.0])
async def test_grid_power_as_late_as_the_counter(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    delay_s: float,
) -> None:
    """One late feed for counter and grid power: the start's echo gives the lag."""
    rig = await _run(hass, freezer, config_entry, delay_s, (EXPORT, GRID))
    assert rig.plant.breach_kwh == pytest.approx(0.0, abs=1e-9)
    assert rig.plant.export_kwh > 1.6 + 1.2  # most of the 2 kWh of headroom
    # The lag from the start to grid power's first answer is in the reserve, and kept.
    cadence = config_entry.runtime_data.controller.cadence
    assert cadence.lag_seconds >= delay_s - 20
    assert cadence.to_data()["echoes"]
    await async_heal(rig)
