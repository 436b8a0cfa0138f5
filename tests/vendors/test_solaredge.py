"""The simulated SolarEdge on its own: command timeout, 300 s polls, cloud override."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from tests.vendors.conftest import async_advance, async_call, exporting, state
from tests.vendors.solaredge import (
    COMMAND_MODE,
    EXPORT,
    LIMIT,
    SELF_CONSUMPTION,
    TIMEOUT,
    SolarEdgeSim,
)

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00")


async def async_command(hass: HomeAssistant, timeout_s: float = 120) -> None:
    """Write the timeout and the limit, then the command mode."""
    await async_call(hass, "input_number.set_value", entity_id=TIMEOUT, value=timeout_s)
    await async_call(hass, "input_number.set_value", entity_id=LIMIT, value=3000)
    await async_call(
        hass, "input_select.select_option", entity_id=COMMAND_MODE, option=EXPORT
    )


async def async_sim(hass: HomeAssistant, **tweaks: object) -> SolarEdgeSim:
    """Return a set-up SolarEdge."""
    sim = SolarEdgeSim(hass=hass, **tweaks)  # type: ignore[arg-type]
    await sim.async_setup()
    return sim


async def test_the_command_runs_its_timeout_alone(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Re-writing the mode re-arms; HA dies; the default mode returns on time."""
    sim = await async_sim(hass)
    await async_command(hass)
    assert exporting(sim) == (True, 3.0)
    await async_advance(hass, freezer, 60)
    await async_call(
        hass, "input_select.select_option", entity_id=COMMAND_MODE, option=EXPORT
    )
    assert sim.drive().ends == dt_util.utcnow() + timedelta(seconds=120)
    sim.die()
    await async_advance(hass, freezer, 120)
    assert exporting(sim) == (False, 0.0)


async def test_refresh_after_a_write_is_debounced(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The first write reads back at once; the next ones when the 10 s cooldown ends."""
    sim = await async_sim(hass)
    await async_command(hass)
    assert state(hass, TIMEOUT) == "120.0"
    assert state(hass, COMMAND_MODE) == SELF_CONSUMPTION
    await async_advance(hass, freezer, 10)
    assert state(hass, COMMAND_MODE) == EXPORT
    assert sim.traps.count("flash_write") == 3


async def test_read_back_only_at_the_next_poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Without the refresh, a write shows at the 300 s poll, though the inverter acts."""
    sim = await async_sim(hass, refresh_after_write=False)
    await async_command(hass, timeout_s=900)
    assert exporting(sim) == (True, 3.0)
    await async_advance(hass, freezer, 299)
    assert state(hass, COMMAND_MODE) == SELF_CONSUMPTION
    await async_advance(hass, freezer, 1)
    assert state(hass, COMMAND_MODE) == EXPORT


async def test_a_cloud_programme_overrides_within_seconds(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The command mode is put back 1 s after the write (solaredge-modbus-multi#589)."""
    sim = await async_sim(hass, override_after_s=1.0)
    await async_command(hass)
    await async_advance(hass, freezer, 1)
    assert exporting(sim) == (False, 0.0)
    assert "command_overridden" in sim.traps
