"""Fresh means the value moves: stuck, coarse and slow export counters (review #2, #3)."""

from __future__ import annotations

from collections.abc import Callable
import math
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.conftest import EXPORT, base_options
from tests.discharge import async_call
from tests.resilience import ERROR, Rig, async_heal, async_setup_rig, state_of

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")

type Publish = Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]]]
# The meter declared by nobody: the monitor must assume 300 s / 0.1 kWh until it learns.
UNDECLARED = {
    "export_meter_interval_seconds": None,
    "export_meter_resolution_kwh": None,
}


@pytest.fixture
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Return the entry options, changed by an indirect parameter."""
    return {**base_options(), **getattr(request, "param", {})}


def slow_meter(every_s: float) -> Publish:
    """Return a counter that re-reports every step but changes only every `every_s`."""
    held: dict[str, Any] = {}

    def publish(value: str, attributes: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        now = dt_util.utcnow()
        if "at" not in held or (now - held["at"]).total_seconds() >= every_s:
            held["value"], held["at"] = value, now
        return held["value"], attributes

    return publish


def truncating_meter(step_kwh: float) -> Publish:
    """Return a counter with a coarse resolution that truncates."""

    def publish(value: str, attributes: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        shown = math.floor(float(value) / step_kwh + 1e-9) * step_kwh
        return f"{shown:.3f}", attributes

    return publish


async def _run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    *,
    export_kwh: float,
    pv_kwh: float,
    meter: Publish,
    power_kw: float,
    seconds: float,
) -> Rig:
    """Set up the site with a faulty export meter, start, and let time pass."""
    rig = await async_setup_rig(
        hass, freezer, entry, pv_kwh=pv_kwh, export_kwh=export_kwh
    )
    rig.plant.faults[EXPORT] = meter
    rig.plant.publish()
    await rig.async_settle()
    await async_call(hass, "start_discharge", power_kw=power_kw)
    await rig.async_run(seconds)
    return rig


async def test_stuck_counter_that_keeps_reporting_is_stale(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A counter re-writing its last value while 3 kW flows is stale: stop, no breach."""
    rig = await _run(
        hass,
        freezer,
        config_entry,
        export_kwh=2.6,
        pv_kwh=4.1,
        meter=slow_meter(10**9),
        power_kw=3.0,
        seconds=5400,
    )
    assert rig.plant.breach_kwh == pytest.approx(0.0, abs=1e-9)
    assert rig.reasons[0] == "data_unsafe"
    assert state_of(hass, ERROR) == "stale_data"
    await async_heal(rig)


@pytest.mark.parametrize("options", [UNDECLARED], indirect=True, ids=["undeclared"])
async def test_coarse_counter_never_breaches(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """0.1 kWh steps at 0.5 kW come 720 s apart: still 0.000 kWh over, and useful."""
    rig = await _run(
        hass,
        freezer,
        config_entry,
        export_kwh=3.2,
        pv_kwh=4.15,
        meter=truncating_meter(0.1),
        power_kw=0.5,
        seconds=4200,
    )
    assert rig.plant.breach_kwh == pytest.approx(0.0, abs=1e-9)
    assert rig.reasons
    assert rig.plant.export_kwh > 3.3  # it did export a good part of the 0.45 kWh
    assert config_entry.runtime_data.controller.cadence.resolution_kwh == pytest.approx(
        0.1
    )
    await async_heal(rig)


@pytest.mark.parametrize("options", [UNDECLARED], indirect=True, ids=["undeclared"])
async def test_slow_register_with_little_headroom_is_refused(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Less headroom than 300 s of export of an unlearned meter: no start, no breach."""
    rig = await async_setup_rig(
        hass, freezer, config_entry, pv_kwh=4.1, export_kwh=3.4983
    )
    rig.plant.faults[EXPORT] = slow_meter(300)
    rig.plant.publish()
    await rig.async_settle()
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_discharge", power_kw=3.0)
    assert err.value.translation_key == "start_blocked_no_headroom"
    await rig.async_run(600)
    assert rig.plant.breach_kwh == pytest.approx(0.0, abs=1e-9)
    await async_heal(rig)


@pytest.mark.parametrize("options", [UNDECLARED], indirect=True, ids=["undeclared"])
async def test_slow_register_with_headroom_starts_and_exports(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A 300 s register with a kWh of headroom: it starts, exports most, never breaches."""
    rig = await _run(
        hass,
        freezer,
        config_entry,
        export_kwh=2.4,
        pv_kwh=4.1,
        meter=slow_meter(300),
        power_kw=3.0,
        seconds=1800,
    )
    assert rig.plant.breach_kwh == pytest.approx(0.0, abs=1e-9)
    assert rig.plant.export_kwh > 2.8
    await async_heal(rig)
