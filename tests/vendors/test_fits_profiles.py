"""Each profile fits its fake: every control's entity, domain, name and options; services."""

from __future__ import annotations

from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest

from custom_components.export_monitor.profiles import PROFILES
from custom_components.export_monitor.profiles.base import Control, Op, Role
from tests.vendors import SIMS

CONTROLS: Final = [
    (key, control)
    for key, profile in PROFILES.items()
    for control in profile.controls
    if control.role is not Role.DEVICE
]
SERVICES: Final = sorted(
    {
        (key, str(write.service))
        for key, profile in PROFILES.items()
        for sequence in (
            profile.start,
            profile.set_power,
            profile.keepalive,
            profile.reconcile,
            *profile.stop_ladder,
        )
        for write in sequence
        if write.op is Op.CALL_SERVICE
    }
)


def test_every_profile_has_a_fake() -> None:
    """Every registered profile has a simulated counterpart, and nothing else has."""
    assert set(SIMS) == set(PROFILES)


@pytest.mark.parametrize(
    ("key", "control"), CONTROLS, ids=[f"{key}-{c.role}" for key, c in CONTROLS]
)
async def test_the_fake_offers_the_control(
    hass: HomeAssistant, key: str, control: Control
) -> None:
    """The fake has an entity for the role, of an allowed domain, named and optioned so."""
    sim = SIMS[key](hass=hass)
    await sim.async_setup()
    entity_id = sim.controls[control.role.value]
    state = hass.states.get(entity_id)
    assert state is not None
    assert entity_id.partition(".")[0] in control.domains
    assert entity_id.endswith(control.suffix or "")
    assert set(control.options) <= set(state.attributes.get("options", ()))


@pytest.mark.parametrize(("key", "service"), SERVICES, ids=[s for _, s in SERVICES])
async def test_the_fake_offers_the_service(
    hass: HomeAssistant, key: str, service: str
) -> None:
    """Every service the profile calls is registered, with a device to target."""
    sim = SIMS[key](hass=hass)
    await sim.async_setup()
    assert hass.services.has_service(*service.split("."))
    assert dr.async_get(hass).async_get(sim.controls[Role.DEVICE.value]) is not None
