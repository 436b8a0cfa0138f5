"""An inverter that ends a discharge by itself is noticed; ignored starts are retried."""

from __future__ import annotations

from itertools import pairwise
from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, EVENT_CALL_SERVICE
from homeassistant.core import Event, HomeAssistant, callback
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor.const import CONF_AUTO_DISCHARGE
from tests.conftest import DURATION, ENABLE, base_options
from tests.discharge import ERROR, async_call
from tests.resilience import Rig, async_heal, async_setup_rig, state_of

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
AUTO: Final = {CONF_AUTO_DISCHARGE: True}


@pytest.fixture
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Return the entry options, changed by an indirect parameter."""
    return {**base_options(), **getattr(request, "param", {})}


def record_calls(rig: Rig, entity_id: str, service: str) -> list[Any]:
    """Record the data of every `service` call on `entity_id`."""
    seen: list[Any] = []

    @callback
    def _async_on_call(event: Event) -> None:
        """Note a matching call."""
        data = event.data["service_data"]
        if event.data["service"] == service and data.get(ATTR_ENTITY_ID) == entity_id:
            seen.append(data.get("value"))

    rig.hass.bus.async_listen(EVENT_CALL_SERVICE, _async_on_call)
    return seen


# -- #9: a timer that re-arms only on a changed value --------------------------------


async def test_timer_that_rearms_only_on_a_change_keeps_running(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Re-arms change the value, so such a timer never runs out mid-discharge (#9)."""
    rig = await async_setup_rig(hass, freezer, config_entry, pv_kwh=4.1, export_kwh=0.6)
    rig.inverter.timer_on_change_only = True  # type: ignore[attr-defined]
    arms = record_calls(rig, DURATION, "set_value")
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(40 * 60)
    assert rig.plant.running is True
    assert rig.reasons == ()
    assert all(a != b for a, b in pairwise(arms))
    await async_heal(rig)


async def test_inverter_that_ends_the_discharge_by_itself_is_noticed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Flow gone while the switch reads on: ended with a reason within 90 s (#9)."""
    rig = await async_setup_rig(hass, freezer, config_entry, pv_kwh=4.1, export_kwh=0.6)
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(300)
    rig.plant.running = False  # its own timer ran out, or it dropped out by itself
    await rig.async_run(90)
    assert rig.reasons == ("inverter_not_obeying",)
    assert state_of(hass, ERROR) == "inverter_not_obeying"
    assert state_of(hass, ENABLE) == "off"
    await async_heal(rig)


# -- #10: after an ignored start, bounded retries with growing pauses ----------------


@pytest.mark.parametrize("options", [AUTO], indirect=True, ids=["auto"])
async def test_ignored_start_is_retried_with_growing_pauses(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """An inverter ignoring starts gets 3 retries (after 5, 15, 45 min), then none (#10)."""
    rig = await async_setup_rig(
        hass, freezer, config_entry, pv_kwh=4.1, export_kwh=2.6, obeys=False
    )
    starts = record_calls(rig, ENABLE, "turn_on")
    await rig.async_run(120)
    assert len(starts) == 1
    await rig.async_run(5 * 60)
    assert len(starts) == 2
    await rig.async_run(17 * 60)  # each retry is verified (90 s), then 15 min
    assert len(starts) == 3
    await rig.async_run(30 * 60)
    assert len(starts) == 3  # 45 min, not 15
    await rig.async_run(20 * 60)
    assert len(starts) == 4
    await rig.async_run(120 * 60)
    assert len(starts) == 4  # given up for the day
    assert rig.reasons == ("inverter_not_obeying",) * 4
    assert state_of(hass, ERROR) == "inverter_not_obeying"
    await async_heal(rig)
