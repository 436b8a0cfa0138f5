"""Fewer writes: keep-alive only where the profile's own backstop expires; a flash budget per day."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.export_monitor.inverter import flash_store_key
from custom_components.export_monitor.profiles.solaredge import SOLAREDGE
from tests.conftest import CUTOFF, DURATION
from tests.discharge import ENTRY_ID, async_start, async_stop
from tests.resilience import Rig, async_heal, async_setup_rig, state_of
from tests.vendors.alpha_ess import DURATION as ALPHA_DURATION, AlphaEssSim
from tests.vendors.base import VendorSim
from tests.vendors.generic import GenericSim
from tests.vendors.huawei import DISCHARGE, HuaweiSim
from tests.vendors.solaredge import COMMAND_MODE, DEFAULT_MODE, SolarEdgeSim

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+01:00", tick=True)

STATUS: Final = "sensor.export_monitor_discharge_status"
TODAY: Final = "2026-06-15"
BUDGET: Final = SOLAREDGE.write_budget_per_day
# A default mode the user left that is not the safe one: the start must write it.
CHARGE: Final = "Charge from Solar Power"


async def _async_rig(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    sim: Callable[..., VendorSim],
) -> Rig:
    """Set up a site with a large headroom (8 kWh) in London, driven by `sim`."""
    await hass.config.async_set_time_zone("Europe/London")
    return await async_setup_rig(hass, freezer, entry, sim=sim, pv_kwh=12.0)


async def test_a_service_timer_is_kept_alive_before_it_ends(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Huawei's duration (a service field, unreadable) is re-sent before it ends.

    40 minutes of discharge with a 15-minute timer: the inverter's own timer never
    lapses while the discharge should run, and it is re-sent about every 12.6 minutes
    (twice its 30 s read-back and the reaction delay before its end; it was every
    7.5 minutes, at half its period: 6 sends).
    """
    rig = await _async_rig(hass, freezer, config_entry, HuaweiSim)
    await async_start(hass, power_kw=3.0)
    for _ in range(40):
        await rig.async_run(60)
        assert rig.inverter.drive().on is True
    assert rig.reasons == ()
    assert state_of(hass, STATUS) == "active"
    assert rig.inverter.writes[DISCHARGE] == 4
    await async_stop(hass)
    await async_heal(rig)


async def test_a_timer_is_rearmed_two_minutes_before_its_end(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """The generic duration: 40 minutes of discharge, 4 timer writes, never lapsing.

    Re-armed 2 min before its end (15, then 14 min: its value must change) instead of
    at half its period (6 writes before); the SOC floor far below is not rewritten.
    """
    rig = await _async_rig(hass, freezer, config_entry, GenericSim)
    calls = async_capture_events(hass, EVENT_CALL_SERVICE)
    await async_start(hass, power_kw=3.0)
    for _ in range(40):
        await rig.async_run(60)
        assert rig.inverter.drive().on is True
        assert rig.plant.running is True
    assert rig.reasons == ()
    assert _values(calls, DURATION) == [15.0, 14.0, 15.0, 14.0]
    # The SOC (80 -> 60 %) never comes within 3 steps of the floor: written once
    # (before: lowered every 5 minutes, 44, 43, 41, 20).
    assert _values(calls, CUTOFF) == [44.0]
    await async_stop(hass)
    await async_heal(rig)


async def test_a_slow_inverter_is_rearmed_before_its_timer_ends(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Huawei acting on each command 100 s late, read back at its 30 s poll: no lapse.

    The re-arm goes out 143 s before the 15-minute timer ends (twice the reaction
    delay and the read-back of two writes), so it lands before the end even this late.
    """
    rig = await _async_rig(hass, freezer, config_entry, HuaweiSim)
    await async_start(hass, power_kw=3.0)
    rig.inverter.delay_s = 100.0
    rig.inverter.break_target(DISCHARGE, "delay")
    for _ in range(30 * 6):
        await rig.async_step()
        assert rig.inverter.drive().on is True
    assert rig.reasons == ()
    assert rig.inverter.writes[DISCHARGE] == 3
    await async_stop(hass)
    await async_heal(rig)


def _values(calls: list[Event], entity_id: str) -> list[Any]:
    """Return the values written to a number entity, in order."""
    return [
        call.data["service_data"]["value"]
        for call in calls
        if call.data["service_data"].get("entity_id") == entity_id
    ]


def _stored(hass_storage: dict[str, Any]) -> dict[str, Any]:
    """Return the stored count of today's flash writes."""
    return dict(hass_storage[flash_store_key(ENTRY_ID)]["data"])


async def test_the_flash_budget_holds_across_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Today's flash writes are kept: after a restart the spent budget still refuses.

    SolarEdge's default mode wears flash: the start writes it only when it differs.
    """
    hass_storage[flash_store_key(ENTRY_ID)] = {
        "version": 1,
        "minor_version": 1,
        "key": flash_store_key(ENTRY_ID),
        "data": {"day": TODAY, "used": BUDGET - 1},
    }
    rig = await _async_rig(hass, freezer, config_entry, SolarEdgeSim)
    _leave_default_mode(rig, CHARGE)
    await async_start(hass, power_kw=3.0)
    assert _stored(hass_storage) == {"day": TODAY, "used": BUDGET}
    await async_stop(hass)
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await rig.async_settle()
    _leave_default_mode(rig, CHARGE)
    with pytest.raises(HomeAssistantError) as err:
        await async_start(hass, power_kw=3.0)
    assert err.value.translation_key == "discharge_start_failed"
    assert state_of(hass, DEFAULT_MODE) == CHARGE
    assert state_of(hass, STATUS) == "idle"
    await async_heal(rig)


async def test_a_shown_flash_setting_is_not_rewritten(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A default mode that already reads the safe one is not written again."""
    rig = await _async_rig(hass, freezer, config_entry, SolarEdgeSim)
    await async_start(hass, power_kw=3.0)
    await async_stop(hass)
    await rig.async_run(10)
    await async_start(hass, power_kw=3.0)
    await async_stop(hass)
    assert rig.inverter.writes[DEFAULT_MODE] == 0
    assert rig.inverter.writes[COMMAND_MODE] == 4
    assert flash_store_key(ENTRY_ID) not in hass_storage
    await async_heal(rig)


def _leave_default_mode(rig: Rig, mode: str) -> None:
    """Have the user leave the inverter's default mode at `mode`."""
    sim = rig.inverter
    assert isinstance(sim, SolarEdgeSim)
    assert sim.registers is not None
    sim.registers[DEFAULT_MODE] = mode
    sim.poll()


async def test_a_timer_that_rearms_on_change_is_never_sent_the_same_value(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Alpha ESS: only the shortest timer fits, and it holds it: no keep-alive is sent.

    The helper package re-arms the dispatch only on a changed duration: the same value
    again would re-arm nothing, and the dispatch would run out under a discharge
    believed to run. With PV raising the allowance as fast as the discharge uses it,
    the headroom leaves 1-2 min for the timer; the monitor stops before it ends.
    """
    rig = await async_setup_rig(
        hass, freezer, config_entry, sim=AlphaEssSim, export_kwh=3.46
    )
    calls = async_capture_events(hass, EVENT_CALL_SERVICE)
    await async_start(hass, power_kw=3.0)
    for _ in range(12):
        rig.plant.pv_kwh += 3.0 * 10.0 / 3600.0
        await rig.async_step()
    # Before, 1 min was written five times: four re-armed nothing.
    assert _values(calls, ALPHA_DURATION) == [1.0]
    assert "same_value_not_rearmed" not in rig.inverter.traps
    assert rig.reasons == ("headroom_exhausted",)
    assert rig.plant.breach_kwh <= 1e-9
    await async_heal(rig)
