"""An inverter that exports more than its power setpoint reads back (bench.md section 6).

The setpoint reads back as written, yet the battery discharges at a higher power, as when
the inverter's own limit or mode overrides the number (scenario adv_power_ignored). The
monitor must not dead-reckon at the setpoint: what it measures (grid power, battery power
or the counter's rate), and the inverter's assumed maximum until then, bound the export.
"""

from __future__ import annotations

from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor.const import (
    CONF_BATTERY_POWER_ENTITY,
    CONF_EXPORT_METER_INTERVAL_SECONDS,
    CONF_EXPORT_METER_RESOLUTION_KWH,
    CONF_GRID_POWER_ENTITY,
)
from tests.conftest import EXPORT, base_options
from tests.discharge import async_call
from tests.resilience import Rig, async_heal, async_setup_rig, coarse_slow_meter

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")

NO_POWER_SENSORS: Final = (CONF_GRID_POWER_ENTITY, CONF_BATTERY_POWER_ENTITY)
# Neither a power sensor nor a declared meter: the counter is all the monitor has.
UNDECLARED_METER: Final = (
    *NO_POWER_SENSORS,
    CONF_EXPORT_METER_INTERVAL_SECONDS,
    CONF_EXPORT_METER_RESOLUTION_KWH,
)


@pytest.fixture
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Return the entry options without the keys an indirect parameter names."""
    removed: tuple[str, ...] = getattr(request, "param", ())
    return {key: value for key, value in base_options().items() if key not in removed}


async def _async_setup(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    actual_kw: float,
) -> Rig:
    """Set up a site with 2 kWh of headroom whose inverter runs at `actual_kw`."""
    return await async_setup_rig(
        hass, freezer, entry, pv_kwh=4.1, export_kwh=1.6, actual_power_kw=actual_kw
    )


async def _async_discharge(rig: Rig) -> None:
    """Ask for 3 kW into the 2 kWh of headroom and let an hour pass."""
    await rig.async_run(60)
    await async_call(rig.hass, "start_discharge", power_kw=3.0)
    await rig.async_run(3600)


@pytest.mark.parametrize(
    "options",
    [(), (CONF_GRID_POWER_ENTITY,), NO_POWER_SENSORS],
    indirect=True,
    ids=["grid_and_battery", "battery_only", "counter_only"],
)
@pytest.mark.parametrize("actual_kw", [4.5, 6.0])
async def test_export_above_the_setpoint_stays_within_the_allowance(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    actual_kw: float,
) -> None:
    """A 3 kW setpoint, 4.5 or 6 kW of real export: 0.000 kWh beyond the allowance."""
    rig = await _async_setup(hass, freezer, config_entry, actual_kw)

    await _async_discharge(rig)

    assert rig.plant.breach_kwh == pytest.approx(0.0, abs=1e-9)
    assert rig.reasons
    # Still useful: most of the 2 kWh of headroom was exported before the stop.
    assert rig.plant.export_kwh > 1.6 + 1.0
    await async_heal(rig)


@pytest.mark.parametrize(
    "options", [UNDECLARED_METER], indirect=True, ids=["undeclared"]
)
@pytest.mark.parametrize("actual_kw", [4.5, 6.0])
async def test_export_above_the_setpoint_with_a_coarse_slow_counter(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    actual_kw: float,
) -> None:
    """Only a 0.1 kWh / 300 s counter sees the excess: still 0.000 kWh beyond."""
    rig = await _async_setup(hass, freezer, config_entry, actual_kw)
    rig.plant.faults[EXPORT] = coarse_slow_meter(0.1, 300.0)

    await _async_discharge(rig)

    assert rig.plant.breach_kwh == pytest.approx(0.0, abs=1e-9)
    assert rig.reasons
    # Still useful: measured 1.81 kWh at 4.5 kW and 1.42 kWh at 6 kW of the 2 kWh.
    assert rig.plant.export_kwh > 1.6 + 1.2
    await async_heal(rig)
