"""A sequence of polled writes waits once for its parameters, once for its activation.

SolarEdge (solaredge_modbus_multi) shows its registers at the integration's poll, every
300 s when its refresh after a write fails. A start writes the timeout, the limit and the
command mode: waiting for each in turn took three polls (15 minutes). The parameters
now go out together and one poll confirms them all; only then does the activation go
out (a timer or limit the inverter did not take must never run), confirmed at the next.
"""

from __future__ import annotations

import asyncio
from typing import Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from custom_components.export_monitor.actuator import (
    ActuatorError,
    ExportMonitorActuator,
)
from custom_components.export_monitor.inverter import ExportMonitorInverter
from custom_components.export_monitor.profiles.base import Role
from custom_components.export_monitor.profiles.render import WriteValues
from custom_components.export_monitor.profiles.solaredge import SOLAREDGE
from tests.vendors.conftest import async_advance
from tests.vendors.solaredge import COMMAND_MODE, EXPORT, LIMIT, TIMEOUT, SolarEdgeSim

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00")

POLL_S: Final = 300.0


async def _async_inverter(
    hass: HomeAssistant, outcomes: list[bool]
) -> tuple[SolarEdgeSim, ExportMonitorInverter]:
    """Return a SolarEdge that shows writes only at its poll, and the monitor's side."""
    sim = SolarEdgeSim(hass=hass, refresh_after_write=False)
    await sim.async_setup()
    controls = {Role(role): entity_id for role, entity_id in sim.controls.items()}
    actuator = ExportMonitorActuator(hass, outcomes.append)
    return sim, ExportMonitorInverter(hass, SOLAREDGE, lambda: controls, actuator)


def _values(power_kw: float = 3.0, minutes: float = 10.0) -> WriteValues:
    """Return a plan: the power, a 10-minute timer unless told."""
    return WriteValues(now=dt_util.now(), power_kw=power_kw, backstop_minutes=minutes)


async def _async_turns() -> None:
    """Let the start run as far as it can without time passing."""
    for _ in range(200):  # loop turns, not time
        await asyncio.sleep(0)


async def test_polled_parameters_are_confirmed_by_one_poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Timeout and limit go out together; one poll confirms both, then the mode goes."""
    outcomes: list[bool] = []
    sim, inverter = await _async_inverter(hass, outcomes)
    start = asyncio.create_task(inverter.async_start(_values()))
    await _async_turns()
    # The default mode already reads Maximize Self Consumption: not re-written.
    assert set(sim.writes) == {TIMEOUT, LIMIT}
    assert sim.drive().on is False
    await async_advance(hass, freezer, POLL_S)
    await _async_turns()
    assert sim.writes[COMMAND_MODE] == 1
    assert sim.drive().on is True
    # The mode shows only at the next poll: the session, not the start, judges it.
    assert start.done()
    await start
    assert outcomes == [True, True]
    await async_advance(hass, freezer, POLL_S)
    assert hass.states.get(COMMAND_MODE).state == EXPORT  # type: ignore[union-attr]


async def test_a_parameter_never_shown_fails_before_the_activation(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A limit the inverter did not take fails the start: the mode never goes out."""
    outcomes: list[bool] = []
    sim, inverter = await _async_inverter(hass, outcomes)
    start = asyncio.create_task(inverter.async_start(_values()))
    await _async_turns()
    assert sim.registers is not None
    sim.registers[LIMIT] = "2500.0"  # taken, then changed by the inverter
    await async_advance(hass, freezer, SOLAREDGE.readback_latency_s + 1)
    with pytest.raises(ActuatorError) as err:
        await start
    assert err.value.translation_key == "discharge_power_set_failed"
    assert err.value.translation_placeholders == {
        "entity_id": LIMIT,
        "detail": "read back 2500.0, wanted 3000.0 within 300 s",
    }
    assert outcomes == [False]
    assert COMMAND_MODE not in sim.writes
    assert sim.drive().on is False


@pytest.mark.parametrize("minutes", [113.0 / 60.0, 10.0, 15.0])
async def test_a_start_does_not_wait_for_a_polled_activation(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: float
) -> None:
    """Whatever the timer, the start ends when the mode goes out.

    With a 113 s command timeout, ending before the next poll could show the mode,
    the start waited for it, so the session began only after the inverter had
    stopped by itself, and the discharge ran unsupervised (test_fault[solaredge-
    read_back_at_next_poll-active] ended inverter_not_obeying); with a longer one it
    ran a whole poll without the headroom rule. The session judges it.
    """
    outcomes: list[bool] = []
    sim, inverter = await _async_inverter(hass, outcomes)
    start = asyncio.create_task(inverter.async_start(_values(minutes=minutes)))
    await _async_turns()
    assert set(sim.writes) == {TIMEOUT, LIMIT}
    await async_advance(hass, freezer, POLL_S)
    await _async_turns()
    assert start.done()
    assert sim.writes[COMMAND_MODE] == 1
    assert sim.drive().on is True
    await start
    assert outcomes == [True, True]
