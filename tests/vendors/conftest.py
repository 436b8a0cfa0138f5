"""Fixtures for the fakes' own tests: one simulated vendor in a real hass, time in hand."""

from __future__ import annotations

import math

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from tests.vendors.base import Drive, VendorSim


async def async_advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move time on in 1 s steps, firing the fake's polls and timers."""
    for _ in range(math.ceil(seconds)):
        freezer.tick(1.0)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


async def async_call(hass: HomeAssistant, service: str, **data: object) -> None:
    """Call a service ("domain.service"), blocking."""
    domain, _, name = service.partition(".")
    await hass.services.async_call(domain, name, data, blocking=True)
    await hass.async_block_till_done()


def state(hass: HomeAssistant, entity_id: str) -> str:
    """Return what an entity shows."""
    current = hass.states.get(entity_id)
    assert current is not None
    return current.state


def exporting(sim: VendorSim) -> tuple[bool | None, float | None]:
    """Return whether the inverter discharges now, and at what power."""
    drive: Drive = sim.drive()
    return drive.on, drive.power_kw if drive.on else 0.0
