"""Tests of the inverter as a profile drives it: sequences, ladder, reading, budget."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.export_monitor.actuator import (
    ActuatorError,
    ExportMonitorActuator,
)
from custom_components.export_monitor.inverter import ExportMonitorInverter
from custom_components.export_monitor.profiles.base import (
    SELECT_DOMAINS,
    SENSOR_DOMAINS,
    Control,
    InverterProfile,
    Op,
    ReadBack,
    Role,
    Running,
    Value,
    Write,
)
from custom_components.export_monitor.profiles.generic import GENERIC
from custom_components.export_monitor.profiles.givenergy import GIVENERGY
from custom_components.export_monitor.profiles.render import WriteValues

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")

ENABLE: Final = "input_boolean.force"
POWER: Final = "input_number.power"
CUTOFF: Final = "input_number.cutoff"
TIMER: Final = "input_number.timer"
MODE: Final = "select.mode"
STATUS: Final = "sensor.status"
GENERIC_CONTROLS: Final = {
    Role.ENABLE: ENABLE,
    Role.POWER: POWER,
    Role.CUTOFF: CUTOFF,
    Role.TIMER: TIMER,
}
# A vendor that starts by a service and reads its state from a status text.
SERVICE_ONLY: Final = InverterProfile(
    key="test_service",
    controls=(
        Control(role=Role.DEVICE, domains=()),
        Control(role=Role.STATUS, domains=SENSOR_DOMAINS, required=False),
        Control(role=Role.MODE, domains=SELECT_DOMAINS, flash=True, required=False),
    ),
    start=(
        Write(
            op=Op.CALL_SERVICE,
            service="vendor.discharge",
            fields=(("device_id", Value.DEVICE_ID), ("power", Value.POWER_W)),
        ),
    ),
    stop_ladder=(
        (Write(op=Op.CALL_SERVICE, service="vendor.stop"),),
        (Write(op=Op.SELECT, role=Role.MODE, value="Self Use"),),
    ),
    reconcile=(Write(op=Op.CALL_SERVICE, service="vendor.stop"),),
    set_power=(
        Write(op=Op.SELECT, role=Role.MODE, value="Force", readback=ReadBack.NONE),
    ),
    running=Running(role=Role.STATUS, on_states=("Forced",), prefix=True),
    write_budget_per_day=2,
)
SERVICE_CONTROLS: Final = {
    Role.DEVICE: "dev1",
    Role.STATUS: STATUS,
    Role.MODE: MODE,
}


def _now() -> datetime:
    """Return Home Assistant's local time now."""
    return dt_util.now()


def _inverter(
    hass: HomeAssistant,
    profile: InverterProfile,
    controls: dict[Role, str],
    outcomes: list[bool] | None = None,
) -> ExportMonitorInverter:
    """Return an inverter over the given controls."""
    sink = [] if outcomes is None else outcomes
    actuator = ExportMonitorActuator(hass, sink.append)
    return ExportMonitorInverter(hass, profile, lambda: controls, actuator)


def _generic_states(hass: HomeAssistant) -> None:
    """Give the generic helpers their states: idle, 3 kW, 20 %, 5 min."""
    hass.states.async_set(ENABLE, "off")
    hass.states.async_set(POWER, "3.0", {"unit_of_measurement": "kW", "step": 0.1})
    hass.states.async_set(CUTOFF, "20.0", {"unit_of_measurement": "%", "step": 1})
    hass.states.async_set(TIMER, "5.0", {"unit_of_measurement": "min", "step": 1})


@pytest.mark.parametrize(
    ("state", "running"),
    [
        ("Forced discharge", True),
        ("Self use", False),
        ("unavailable", None),
        ("unknown", None),
        (None, None),
    ],
    ids=["forced", "other", "unavailable", "unknown", "missing"],
)
async def test_is_running_from_the_status(
    hass: HomeAssistant, state: str | None, running: bool | None
) -> None:
    """A status that starts with an on-state means running; unreadable is None."""
    if state is not None:
        hass.states.async_set(STATUS, state)
    inverter = _inverter(hass, SERVICE_ONLY, SERVICE_CONTROLS)
    assert inverter.is_running() is running


async def test_nothing_readable_is_none(hass: HomeAssistant) -> None:
    """A service-only profile with no running rule never claims a state."""
    profile = InverterProfile(
        key="blind", controls=SERVICE_ONLY.controls, start=(), stop_ladder=((),)
    )
    assert _inverter(hass, profile, SERVICE_CONTROLS).is_running() is None


async def test_generic_start_writes_only_what_differs(hass: HomeAssistant) -> None:
    """Setpoints already shown are not written again; the timer and the on always are."""
    _generic_states(hass)
    calls = async_mock_service(hass, "input_number", "set_value")
    on = async_mock_service(hass, "input_boolean", "turn_on")
    inverter = _inverter(hass, GENERIC, GENERIC_CONTROLS)
    hass.states.async_set(ENABLE, "on")  # the mocked turn_on changes nothing
    hass.states.async_set(TIMER, "12.0", {"unit_of_measurement": "min", "step": 1})
    values = _values(power_kw=3.0, cutoff_soc=25.0, backstop_minutes=12.5)
    with pytest.raises(ActuatorError) as err:
        # The mocked services change no state: the cutoff does not read back.
        await inverter.async_start(values)
    assert err.value.translation_key == "cutoff_soc_set_failed"
    assert [(c.data["entity_id"], c.data["value"]) for c in calls] == [(CUTOFF, 25.0)]
    assert on == []
    assert inverter.number(Role.CUTOFF) == 20.0
    assert inverter.number(Role.TIMER) == 12.0
    assert inverter.entity(Role.TIMER) == TIMER


async def test_generic_ladder_and_reconcile(hass: HomeAssistant) -> None:
    """Rung 0 turns off; later rungs shorten the timer, then zero the power."""
    _generic_states(hass)
    hass.states.async_set(TIMER, "1.0", {"unit_of_measurement": "min", "step": 1})
    hass.states.async_set(POWER, "0", {"unit_of_measurement": "kW", "step": 0.1})
    off = async_mock_service(hass, "input_boolean", "turn_off")
    numbers = async_mock_service(hass, "input_number", "set_value")
    inverter = _inverter(hass, GENERIC, GENERIC_CONTROLS)
    values = _values(backstop_minutes=1.0)
    for rung in range(inverter.rungs + 1):  # past the last rung stays on it
        await inverter.async_stop(values, rung)
    await inverter.async_reconcile(values)
    assert len(off) == 2
    assert [(c.data["entity_id"], c.data["value"]) for c in numbers] == [
        (TIMER, 1.0),
        (POWER, 0),
        (POWER, 0),
    ]


async def test_generic_power_cutoff_and_keepalive(hass: HomeAssistant) -> None:
    """Power, floor and keep-alive each write their one entity, read back."""
    _generic_states(hass)
    inverter = _inverter(hass, GENERIC, GENERIC_CONTROLS)
    assert inverter.is_running() is False
    numbers = async_mock_service(hass, "input_number", "set_value")
    await inverter.async_set_power(_values(power_kw=3.0))  # already 3 kW: skipped
    assert numbers == []
    with pytest.raises(ActuatorError):
        # 3 kW read back is more than 2 kW: a lower power is written, not skipped.
        await inverter.async_set_power(_values(power_kw=2.0))
    numbers.clear()
    await inverter.async_set_cutoff(_values(cutoff_soc=19.2))  # 20 % is above
    with pytest.raises(ActuatorError) as err:
        await inverter.async_keepalive(_values(backstop_minutes=10))
    assert err.value.translation_key == "duration_set_failed"
    assert [(c.data["entity_id"], c.data["value"]) for c in numbers] == [(TIMER, 10.0)]


async def test_a_write_that_cannot_be_rendered_is_a_translated_failure(
    hass: HomeAssistant,
) -> None:
    """A timer under a minute is refused before anything is sent."""
    _generic_states(hass)
    inverter = _inverter(hass, GENERIC, GENERIC_CONTROLS)
    with pytest.raises(ActuatorError) as err:
        await inverter.async_keepalive(_values(backstop_minutes=0.5))
    assert err.value.translation_key == "duration_set_failed"
    assert err.value.translation_placeholders == {
        "entity_id": TIMER,
        "detail": "less than one minute left",
    }


async def test_service_profile_start_stop_and_the_write_budget(
    hass: HomeAssistant,
) -> None:
    """Service writes go out with their fields; flash writes stop at the daily budget."""
    hass.states.async_set(MODE, "Self Use")
    start = async_mock_service(hass, "vendor", "discharge")
    stop = async_mock_service(hass, "vendor", "stop")
    select = async_mock_service(hass, "select", "select_option")
    outcomes: list[bool] = []
    inverter = _inverter(hass, SERVICE_ONLY, SERVICE_CONTROLS, outcomes)
    await inverter.async_start(_values(power_kw=2.5))
    await inverter.async_stop(_values())
    await inverter.async_reconcile(_values())
    assert [c.data for c in start] == [{"device_id": "dev1", "power": 2500}]
    assert len(stop) == 2
    await inverter.async_set_power(_values())
    await inverter.async_stop(_values(), 1)  # Self Use is shown: read back at once
    assert inverter.flash_writes == 2
    with pytest.raises(ActuatorError) as err:
        await inverter.async_set_power(_values())
    assert err.value.translation_key == "discharge_start_failed"
    assert err.value.translation_placeholders == {
        "entity_id": MODE,
        "detail": "today's budget of 2 flash writes is spent",
    }
    assert len(select) == 2
    # A new local day has a new budget.
    tomorrow = _values(now=_now() + timedelta(days=1))
    await inverter.async_set_power(tomorrow)
    assert inverter.flash_writes == 1
    assert len(select) == 3


async def test_a_stop_goes_out_beyond_the_flash_budget(hass: HomeAssistant) -> None:
    """A spent budget refuses a start's flash write, never a stop's: it is counted."""
    hass.states.async_set(MODE, "Force")
    async_mock_service(hass, "vendor", "stop")
    select = async_mock_service(hass, "select", "select_option")
    inverter = _inverter(hass, SERVICE_ONLY, SERVICE_CONTROLS)
    await inverter.async_set_power(_values())
    await inverter.async_set_power(_values())
    with pytest.raises(ActuatorError):
        await inverter.async_set_power(_values())
    # The fallback rung selects Self Use (it wears flash): sent, and read back.
    hass.states.async_set(MODE, "Self Use")
    await inverter.async_stop(_values(), 1)
    assert len(select) == 3
    assert inverter.flash_writes == 3


async def test_abort_before_a_write(hass: HomeAssistant) -> None:
    """A start checks before each write and stops at the first refusal."""
    _generic_states(hass)
    inverter = _inverter(hass, GENERIC, GENERIC_CONTROLS)
    numbers = async_mock_service(hass, "input_number", "set_value")

    def _closing(_write: Write) -> None:
        raise ActuatorError("closing")

    with pytest.raises(ActuatorError):
        await inverter.async_start(_values(power_kw=5.0), _closing)
    assert numbers == []


def _values(
    *,
    power_kw: float = 0.0,
    cutoff_soc: float = 100.0,
    backstop_minutes: float = 0.0,
    now: datetime | None = None,
) -> WriteValues:
    """Return write values for now with some fields set."""
    return WriteValues(
        now=now or _now(),
        power_kw=power_kw,
        cutoff_soc=cutoff_soc,
        backstop_minutes=backstop_minutes,
    )


async def test_a_givtcp_time_entity_gets_whole_minutes(hass: HomeAssistant) -> None:
    """GivTCP's slot time entities keep HH:MM: an end with seconds would never read back."""
    slot_end = "time.givtcp_sa1234_discharge_end_time_slot_1"
    sent: list[str] = []

    async def _async_set_time(call: ServiceCall) -> None:
        """Store the time as GivTCP does: its handler takes the first five characters."""
        sent.append(call.data["time"])
        hass.states.async_set(slot_end, f"{call.data['time'][:5]}:00")

    hass.services.async_register("time", "set_value", _async_set_time)
    hass.states.async_set(slot_end, "00:00:00")
    inverter = _inverter(hass, GIVENERGY, {Role.SLOT_END: slot_end})
    values = WriteValues(now=_now() + timedelta(seconds=37), backstop_minutes=12.5)
    await inverter.async_keepalive(values)
    # 12:00:37 + 12.5 min = 12:13:07, sent as 12:13: 13 minutes from 12:00 on.
    assert sent == ["12:13:00"]
    assert inverter.backstop_minutes() == pytest.approx(13.0)


GIVTCP: Final = {
    Role.MODE: "select.givtcp_sa1234_mode",
    Role.SLOT_START: "select.givtcp_sa1234_discharge_start_time_slot_1",
    Role.SLOT_END: "select.givtcp_sa1234_discharge_end_time_slot_1",
}


@pytest.mark.parametrize(
    ("refused", "holds"),
    [(Role.SLOT_END, True), (Role.MODE, False)],
    ids=["slot_clear_refused", "eco_refused"],
)
async def test_a_stop_holds_once_its_mode_reads_off(
    hass: HomeAssistant, refused: Role, holds: bool
) -> None:
    """Eco read back ends the export: a slot that cannot be cleared fails no stop."""
    for entity_id in GIVTCP.values():
        hass.states.async_set(entity_id, "Timed Export")
    sent: list[str] = []

    async def _async_select(call: ServiceCall) -> None:
        """Show the option, or refuse it on the refused control."""
        entity_id = call.data["entity_id"]
        sent.append(entity_id)
        if entity_id == GIVTCP[refused]:
            raise HomeAssistantError("the inverter did not answer")
        hass.states.async_set(entity_id, call.data["option"])

    hass.services.async_register("select", "select_option", _async_select)
    inverter = _inverter(hass, GIVENERGY, GIVTCP)
    if holds:
        await inverter.async_stop(_values())
        await inverter.async_reconcile(_values())
    else:
        with pytest.raises(ActuatorError) as err:
            await inverter.async_stop(_values())
        assert err.value.translation_key == "discharge_stop_failed"
    assert inverter.is_running() is not holds
    # Eco first; the slot is cleared start first, and only after Eco landed.
    order = [GIVTCP[Role.MODE], GIVTCP[Role.SLOT_START], GIVTCP[Role.SLOT_END]]
    assert sent == (order * 2 if holds else order[:1])
