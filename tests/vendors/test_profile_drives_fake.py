"""Each profile's own writes, rendered as the monitor renders them, drive its fake right.

No controller here: a profile's sequences (start, the normal stop, reconcile) are rendered
by `profiles/render.py` for a sample plan (3 kW, a 2-minute timer, a 70 % floor) and sent
as service calls to the vendor's fake in a real Home Assistant, at a moment that is not a
whole minute. What the fake's inverter then does must be what the profile means: export
at no more than the plan's power, stop, stop again after a restart, and, when Home
Assistant dies after a start, end by its own backstop or hold the floor the profile wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.export_monitor.profiles import PROFILES
from custom_components.export_monitor.profiles.base import InverterProfile, Role, Write
from custom_components.export_monitor.profiles.render import (
    EntityFacts,
    WriteValues,
    render,
)
from tests.conftest import SOC
from tests.vendors import SIMS
from tests.vendors.base import VendorSim
from tests.vendors.conftest import async_advance

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:30+00:00")
POWER_KW: Final = 3.0
TIMER_MINUTES: Final = 2.0
FLOOR: Final = 70.0


@pytest.fixture
async def fake(hass: HomeAssistant, profile: InverterProfile) -> VendorSim:
    """Return the profile's fake, at 80 % SOC, in London."""
    await hass.config.async_set_time_zone("Europe/London")
    hass.states.async_set(SOC, "80", {"unit_of_measurement": "%"})
    sim = SIMS[profile.key](hass=hass)
    await sim.async_setup()
    return sim


def facts(hass: HomeAssistant, entity_ids: Sequence[str]) -> dict[str, EntityFacts]:
    """Return what each control shows now: state, unit, step."""
    shown = {}
    for entity_id in entity_ids:
        state = hass.states.get(entity_id)
        if state is not None:
            shown[entity_id] = EntityFacts(
                state=state.state,
                unit=state.attributes.get("unit_of_measurement"),
                step=state.attributes.get("step"),
            )
    return shown


async def async_send(
    hass: HomeAssistant,
    sim: VendorSim,
    profile: InverterProfile,
    writes: Sequence[Write],
) -> None:
    """Render each write for the sample plan and send it."""
    roles = {role.value: role for role in Role}
    entity_ids = {roles[key]: value for key, value in sim.controls.items()}
    for write in writes:
        values = WriteValues(
            now=dt_util.now(),
            power_kw=POWER_KW,
            backstop_minutes=TIMER_MINUTES,
            cutoff_soc=FLOOR,
            # Home Assistant's clock minus the inverter's.
            clock_offset_s=-float(getattr(sim, "clock_offset_s", 0.0)),
            rearm=profile.backstop.rearm,
        )
        call = render(write, entity_ids, facts(hass, list(entity_ids.values())), values)
        if call is None:
            continue
        data = dict(call.data)
        if call.entity_id is not None:
            data["entity_id"] = call.entity_id
        await hass.services.async_call(call.domain, call.service, data, blocking=True)
        await hass.async_block_till_done()


async def async_started(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sim: VendorSim,
    profile: InverterProfile,
) -> None:
    """Send the start and wait out the profile's read-back latency."""
    await async_send(hass, sim, profile, profile.start)
    await async_advance(hass, freezer, min(profile.readback_latency_s, 15.0) + 1.0)


async def async_alone(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let three hours pass with Home Assistant dead (no timer of its own runs)."""
    for _ in range(180):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
    await hass.async_block_till_done()


STARTING: Final = [pytest.param(profile, id=key) for key, profile in PROFILES.items()]


@pytest.fixture(params=STARTING)
def profile(request: pytest.FixtureRequest) -> InverterProfile:
    """Return each profile in turn."""
    return request.param  # type: ignore[no-any-return]


async def test_start_exports_at_most_the_plan(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: VendorSim,
    profile: InverterProfile,
) -> None:
    """The start sequence makes the inverter export, at no more than the plan's power."""
    await async_started(hass, freezer, fake, profile)
    drive = fake.drive()
    assert drive.on is True
    assert 0.0 < (drive.power_kw or 0.0) <= POWER_KW


async def test_the_normal_stop_stops(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: VendorSim,
    profile: InverterProfile,
) -> None:
    """The stop ladder's first rung ends the export."""
    await async_started(hass, freezer, fake, profile)
    await async_send(hass, fake, profile, profile.stop_ladder[0])
    await async_advance(hass, freezer, 1.0)
    assert fake.drive().on is False


async def test_reconcile_after_a_restart_stops(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: VendorSim,
    profile: InverterProfile,
) -> None:
    """After a restart (the vendor integration forgot), reconcile ends the export."""
    await async_started(hass, freezer, fake, profile)
    fake.restart()
    await async_send(hass, fake, profile, profile.reconcile)
    await async_advance(hass, freezer, 60.0)
    assert fake.drive().on is False


async def test_ha_dies_the_inverter_alone_is_bounded(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: VendorSim,
    profile: InverterProfile,
) -> None:
    """HA dies after a start: its backstop ends the export, or the floor written holds."""
    await async_started(hass, freezer, fake, profile)
    fake.die()
    await async_alone(hass, freezer)
    drive = fake.drive()
    exports = drive.exports(dt_util.utcnow())
    assert exports is False or (drive.floor_soc or 0.0) >= FLOOR
    assert exports is False or profile.needs_soc_floor


@pytest.mark.freeze_time("2026-06-15 11:00:00+00:00")
@pytest.mark.parametrize("profile", [PROFILES["givenergy"]], ids=["givenergy"])
async def test_on_a_whole_minute_the_slot_runs_then_holds_the_floor(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: VendorSim,
    profile: InverterProfile,
) -> None:
    """Started on a whole minute, GivTCP takes the slot; HA dies: the reserve holds."""
    await async_started(hass, freezer, fake, profile)
    assert fake.drive().on is True
    fake.die()
    await async_alone(hass, freezer)
    # The next day's slot (12:00-12:02 London) comes round again.
    freezer.move_to("2026-06-16 11:00:30+00:00")
    drive = fake.drive()
    assert drive.on is True
    assert drive.floor_soc == FLOOR
