"""A time slot written on the inverter's own clock (GivEnergy), read from its clock role."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from datetime import timedelta
from functools import partial
from typing import Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor.actuator import ActuatorError
from custom_components.export_monitor.profiles.base import Role
from custom_components.export_monitor.profiles.givenergy import GIVENERGY
from custom_components.export_monitor.profiles.render import WriteValues
from tests.discharge import (
    ERROR,
    HEALTH,
    async_call,
    async_start,
    local,
    notification_id,
    notifications,
)
from tests.resilience import Rig, async_heal, async_setup_rig, state_of
from tests.test_inverter import _inverter
from tests.vendors.givenergy import (
    CLOCK,
    ECO,
    MODE,
    SLOT_END,
    SLOT_START,
    TIMED_EXPORT,
    GivEnergySim,
)

UNREADABLE: Final = "inverter_clock_unreadable"
NO_SLOT: Final = "00:00:00"

pytestmark = pytest.mark.freeze_time("2026-06-15 11:00:00+00:00", tick=True)


@pytest.fixture(params=[300.0, -300.0], ids=["ahead", "behind"])
async def rig(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    request: pytest.FixtureRequest,
) -> AsyncGenerator[Rig]:
    """Set up a GivEnergy site whose inverter clock is 5 minutes off, at noon."""
    await hass.config.async_set_time_zone("Europe/London")
    freezer.move_to(local("2026-06-15T12:00:00"))
    sim = partial(GivEnergySim, clock_offset_s=request.param)
    # 0.6 kWh of headroom (12 minutes at 3 kW): longer than the first slot.
    built = await async_setup_rig(hass, freezer, config_entry, sim=sim, export_kwh=3.0)
    yield built
    await async_heal(built)


async def test_the_slot_is_on_the_inverters_clock(rig: Rig) -> None:
    """The slot starts at the inverter's now, so the inverter discharges at once."""
    inverter = rig.inverter
    assert isinstance(inverter, GivEnergySim)
    clock = inverter.clock()
    await async_start(rig.hass, power_kw=3.0)
    await rig.async_run(20)
    assert state_of(rig.hass, SLOT_START) == clock.strftime("%H:%M:00")
    assert state_of(rig.hass, SLOT_END) > clock.strftime("%H:%M:00")
    assert inverter.drive().on is True
    assert rig.reasons == ()


async def test_the_slot_end_is_moved_on_while_it_runs(rig: Rig) -> None:
    """The slot is the backstop: read back from its end, it is re-armed before it ends."""
    inverter = rig.inverter
    assert isinstance(inverter, GivEnergySim)
    await async_start(rig.hass, power_kw=3.0)
    await rig.async_run(20)
    first_end = state_of(rig.hass, SLOT_END)
    await rig.async_run(5 * 60)
    assert state_of(rig.hass, SLOT_END) > first_end
    assert inverter.drive().on is True
    assert rig.reasons == ()


class ClockShown:
    """Makes the simulated GivTCP publish `reading` as the inverter's clock (None: its own)."""

    def __init__(self, inverter: GivEnergySim) -> None:
        """Wrap the fake's publishing of its entities."""
        self.inverter = inverter
        self.reading: str | None = None
        self._show = inverter.show
        inverter.show = self._show_clock  # type: ignore[method-assign]

    def _show_clock(self, entity_id: str, state: str) -> None:
        """Publish an entity; the clock as set, while a reading is set."""
        if entity_id == CLOCK and self.reading is not None:
            state = self.reading
        self._show(entity_id, state)

    def reads(self, reading: str | None) -> None:
        """Make the clock read `reading` now and at every poll (None: the true clock)."""
        self.reading = reading
        self._show(CLOCK, reading or self.inverter.clock().isoformat())


def _clock_of(rig: Rig) -> ClockShown:
    """Return the clock control of the rig's GivEnergy fake."""
    inverter = rig.inverter
    assert isinstance(inverter, GivEnergySim)
    return ClockShown(inverter)


BAD_READINGS: Final[dict[str, Callable[[GivEnergySim], str]]] = {
    "unknown": lambda _sim: "unknown",
    "unavailable": lambda _sim: "unavailable",
    "not_a_time": lambda _sim: "12:3x",
    "an_hour_off": lambda sim: (sim.clock() - timedelta(hours=1)).isoformat(),
}


@pytest.mark.parametrize("reading", BAD_READINGS.values(), ids=list(BAD_READINGS))
async def test_a_start_is_refused_while_the_clock_cannot_be_used(
    rig: Rig, reading: Callable[[GivEnergySim], str]
) -> None:
    """No slot is written without a clock to write it on; the user sees why.

    Before, the start took the clocks to agree: with the inverter behind, the slot
    ended that much later than sized.
    """
    clock = _clock_of(rig)
    clock.reads(reading(clock.inverter))
    await rig.async_run(10)
    with pytest.raises(ServiceValidationError) as refused:
        await async_start(rig.hass, power_kw=3.0)
    assert refused.value.translation_key == f"start_blocked_{UNREADABLE}"
    await rig.async_run(20)
    assert clock.inverter.writes[SLOT_START] == 0
    assert clock.inverter.writes[SLOT_END] == 0
    assert clock.inverter.writes[MODE] == 0
    assert state_of(rig.hass, MODE) == ECO
    assert (state_of(rig.hass, ERROR), state_of(rig.hass, HEALTH)) == (
        UNREADABLE,
        "error",
    )
    assert notification_id(UNREADABLE) in notifications(rig.hass)
    response = await async_call(rig.hass, "calculate_discharge")
    assert response is not None
    assert (response["can_start"], response["blockers"]) == (False, [UNREADABLE])
    # The clock reads again: the refusal clears by itself, and a start goes ahead.
    clock.reads(None)
    await rig.async_run(10)
    assert state_of(rig.hass, ERROR) == "none"
    assert notification_id(UNREADABLE) not in notifications(rig.hass)
    await async_start(rig.hass, power_kw=3.0)
    await rig.async_run(20)
    assert state_of(rig.hass, MODE) == TIMED_EXPORT
    assert clock.inverter.drive().on is True


async def test_the_automatic_start_waits_for_the_clock(rig: Rig) -> None:
    """Automatic starts are not tried while the clock is unknown; then one goes ahead."""
    clock = _clock_of(rig)
    clock.reads("unknown")
    await rig.hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": "switch.export_monitor_auto_discharge"},
        blocking=True,
    )
    await rig.async_run(120)
    assert clock.inverter.writes[SLOT_START] == 0
    assert clock.inverter.writes[MODE] == 0
    assert state_of(rig.hass, ERROR) == UNREADABLE
    # Told on the error state only: GivTCP's first poll usually ends it.
    assert UNREADABLE not in rig.seen_notices
    clock.reads(None)
    await rig.async_run(20)
    assert state_of(rig.hass, MODE) == TIMED_EXPORT
    assert state_of(rig.hass, ERROR) == "none"


async def test_a_running_slot_is_not_moved_without_a_clock(rig: Rig) -> None:
    """The clock is lost while it runs: the slot end is not re-written; it stops.

    The slot already written would end by itself; moving it on needs the clock, so
    the re-arm fails and the discharge is stopped (Eco, the slot cleared).
    """
    clock = _clock_of(rig)
    await async_start(rig.hass, power_kw=3.0)
    await rig.async_run(20)
    first_end = state_of(rig.hass, SLOT_END)
    assert clock.inverter.drive().on is True
    ends = clock.inverter.writes[SLOT_END]
    clock.reads("unavailable")
    await rig.async_run(5 * 60)
    assert rig.reasons == ("rearm_failed",)
    assert state_of(rig.hass, MODE) == ECO
    assert state_of(rig.hass, SLOT_END) == NO_SLOT
    # Only the stop's clearing went to the slot end, never a moved end.
    assert clock.inverter.writes[SLOT_END] == ends + 1
    assert first_end != NO_SLOT
    assert state_of(rig.hass, ERROR) == UNREADABLE
    assert clock.inverter.drive().on is False


GIVTCP_CLOCK: Final = {
    Role.MODE: "select.givtcp_sa1234_mode",
    Role.SLOT_START: "select.givtcp_sa1234_discharge_start_time_slot_1",
    Role.SLOT_END: "select.givtcp_sa1234_discharge_end_time_slot_1",
    Role.CLOCK: "sensor.givtcp_sa1234_invertor_time",
}


async def test_no_time_is_sent_on_a_clock_that_shows_none(hass: HomeAssistant) -> None:
    """A slot write fails untried; a stop still goes out; the slot reads as sent."""
    sent: list[tuple[str, str]] = []

    async def _async_select(call: ServiceCall) -> None:
        """Show the option written."""
        sent.append((call.data["entity_id"], call.data["option"]))
        hass.states.async_set(call.data["entity_id"], call.data["option"])

    hass.services.async_register("select", "select_option", _async_select)
    for role in (Role.SLOT_START, Role.SLOT_END):
        hass.states.async_set(GIVTCP_CLOCK[role], NO_SLOT)
    hass.states.async_set(GIVTCP_CLOCK[Role.MODE], ECO)
    hass.states.async_set(GIVTCP_CLOCK[Role.CLOCK], dt_util.now().isoformat())
    inverter = _inverter(hass, GIVENERGY, GIVTCP_CLOCK)
    values = WriteValues(now=dt_util.now(), backstop_minutes=12.5)
    await inverter.async_keepalive(values)
    assert len(sent) == 1
    assert inverter.backstop_minutes() == pytest.approx(12.0, abs=1.0)
    hass.states.async_set(GIVTCP_CLOCK[Role.CLOCK], "unknown")
    # Not read on a clock that shows no time: the minutes sent stand.
    assert inverter.backstop_minutes() == 12.5
    for attempt in (inverter.async_keepalive, inverter.async_start):
        with pytest.raises(ActuatorError) as refused:
            await attempt(values)
        assert refused.value.translation_key == UNREADABLE
    assert len(sent) == 1
    # The stop clears the slot with a fixed time: it needs no clock.
    await inverter.async_stop(values)
    assert sent[1:] == [
        (GIVTCP_CLOCK[Role.MODE], ECO),
        (GIVTCP_CLOCK[Role.SLOT_START], NO_SLOT),
        (GIVTCP_CLOCK[Role.SLOT_END], NO_SLOT),
    ]
