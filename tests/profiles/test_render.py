"""Pure tests of rendering a profile's write into a service call and checking its read-back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import pytest

from custom_components.export_monitor.profiles.base import (
    Literal,
    Op,
    ReadBack,
    Rearm,
    Role,
    Value,
    Write,
)
from custom_components.export_monitor.profiles.render import (
    Call,
    EntityFacts,
    Expect,
    RenderError,
    WriteValues,
    end_time,
    readback_failure,
    render,
    slot_minutes_left,
)

TZ: Final = ZoneInfo("Europe/Berlin")
NOW: Final = datetime(2026, 6, 1, 12, 0, 0, tzinfo=TZ)
VALUES: Final = WriteValues(
    now=NOW, power_kw=3.2567, backstop_minutes=12.5, cutoff_soc=31.2
)
IDS: Final = {
    Role.ENABLE: "switch.force",
    Role.POWER: "number.power",
    Role.CUTOFF: "number.cutoff",
    Role.TIMER: "number.timer",
    Role.MODE: "select.mode",
    Role.TRIGGER: "button.apply",
    Role.SLOT_END: "time.slot_end",
    Role.SLOT_START: "select.slot_start",
    Role.DEVICE: "abc123",
}
FACTS: Final = {
    "number.power": EntityFacts(state="0", unit="W", step=100.0),
    "number.cutoff": EntityFacts(state="10", unit="%", step=1.0),
    "number.timer": EntityFacts(state="5", unit="min", step=1.0),
}


def _render(write: Write, values: WriteValues = VALUES, **facts: EntityFacts) -> Call:
    """Render a write with the test's entities; it must target a set role."""
    call = render(write, IDS, {**FACTS, **facts}, values)
    assert call is not None
    return call


@pytest.mark.parametrize(
    ("write", "service", "data"),
    [
        (Write(op=Op.TURN_ON, role=Role.ENABLE), "switch.turn_on", {}),
        (Write(op=Op.TURN_OFF, role=Role.ENABLE), "switch.turn_off", {}),
        (Write(op=Op.PRESS, role=Role.TRIGGER), "button.press", {}),
        (
            Write(op=Op.SELECT, role=Role.MODE, value="Force Discharge"),
            "select.select_option",
            {"option": "Force Discharge"},
        ),
        (
            Write(op=Op.SET_TIME, role=Role.SLOT_END, value=Value.END),
            "time.set_value",
            {"time": "12:12:30"},
        ),
        (
            Write(op=Op.SET_TIME, role=Role.SLOT_START, value=Value.NOW),
            "select.select_option",
            {"option": "12:00:00"},
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.POWER_KW),
            "number.set_value",
            {"value": 3200.0},
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.ZERO_POWER),
            "number.set_value",
            {"value": 0},
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.CUTOFF, value=Value.CUTOFF),
            "number.set_value",
            {"value": 32.0},
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.TIMER, value=Value.TIMER),
            "number.set_value",
            {"value": 12.0},
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.TIMER, value=Value.TIMER_S),
            "number.set_value",
            {"value": 750},
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.TIMER, value=Value.TIMER_MIN),
            "number.set_value",
            {"value": 12},
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.POWER_W),
            "number.set_value",
            {"value": 3256},
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.NEG_POWER_W),
            "number.set_value",
            {"value": -3256},
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.POWER, value=7),
            "number.set_value",
            {"value": 7},
        ),
    ],
    ids=[
        "on",
        "off",
        "press",
        "select",
        "time_end",
        "select_time_now",
        "power_kw_in_w_on_step",
        "zero",
        "cutoff_up_to_step",
        "timer_in_minutes_down",
        "timer_s",
        "timer_min",
        "power_w",
        "neg_power_w",
        "literal",
    ],
)
def test_entity_writes(write: Write, service: str, data: dict[str, Literal]) -> None:
    """Every op and value becomes the service and data the entity's domain takes."""
    call = _render(write)
    assert f"{call.domain}.{call.service}" == service
    assert call.entity_id == IDS[write.role] if write.role else False
    assert call.data == data


@pytest.mark.parametrize(
    ("unit", "step", "power_kw", "written"),
    [
        ("kW", 0.1, 3.25, 3.2),
        ("W", None, 3.2567, 3256.7),
        (None, None, 2.5, 2.5),
        ("", 0.5, 2.9, 2.5),
    ],
    ids=["kw_step", "w_no_step", "no_unit_is_kw", "blank_unit_is_kw"],
)
def test_power_kw_in_the_entity_unit_rounded_down(
    unit: str | None, step: float | None, power_kw: float, written: float
) -> None:
    """Power goes out in W or kW, rounded down: never more than planned."""
    write = Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.POWER_KW)
    values = WriteValues(now=NOW, power_kw=power_kw)
    call = _render(write, values, **{"number.power": EntityFacts(unit=unit, step=step)})
    assert call.data == {"value": written}
    assert call.expect is not None
    assert call.expect.at_most is None
    assert call.expect.at_least is None


@pytest.mark.parametrize(
    ("unit", "step", "state", "rearm", "written"),
    [
        ("min", 1.0, "12", Rearm.REWRITE_CHANGED, 11.0),
        ("min", 1.0, "12", Rearm.REWRITE_SAME, 12.0),
        ("min", 1.0, "12", Rearm.PREFER_CHANGED, 11.0),
        ("min", 1.0, "unknown", Rearm.REWRITE_CHANGED, 12.0),
        ("min", 1.0, None, Rearm.REWRITE_CHANGED, 12.0),
        ("s", 30.0, "0", Rearm.NOT_NEEDED, 750.0),
        ("h", 0.01, "0", Rearm.NOT_NEEDED, 0.2),
    ],
    ids=[
        "changed",
        "same",
        "prefer_changed",
        "unreadable",
        "no_state",
        "seconds",
        "hours",
    ],
)
def test_timer_in_the_entity_unit(
    unit: str,
    step: float,
    state: str | None,
    rearm: Rearm,
    written: float,
) -> None:
    """The timer is rounded down to the step, and changed when only a change re-arms."""
    write = Write(op=Op.SET_NUMBER, role=Role.TIMER, value=Value.TIMER)
    values = WriteValues(now=NOW, backstop_minutes=12.5, rearm=rearm)
    facts = EntityFacts(state=state, unit=unit, step=step)
    call = _render(write, values, **{"number.timer": facts})
    assert call.data == {"value": written}
    assert call.expect == Expect(
        entity_id="number.timer",
        number=written,
        tolerance=step / 2,
        at_most=written,
    )


def test_cutoff_without_step_rounds_up_to_whole_percent() -> None:
    """A floor is never written lower than asked; it must read back at least that."""
    write = Write(op=Op.SET_NUMBER, role=Role.CUTOFF, value=Value.CUTOFF)
    call = _render(write, **{"number.cutoff": EntityFacts()})
    assert call.data == {"value": 32.0}
    assert call.expect is not None
    assert call.expect.at_least == 32.0


@pytest.mark.parametrize(
    ("write", "facts", "detail"),
    [
        (
            Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.POWER_KW),
            EntityFacts(unit="%"),
            "unit is not W or kW",
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.TIMER, value=Value.TIMER),
            EntityFacts(unit="days"),
            "unit is not s, min or h",
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.TIMER, value=Value.TIMER),
            EntityFacts(unit=None),
            "unit is not s, min or h",
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.TIMER, value=Value.DEVICE_ID),
            EntityFacts(),
            "a device id is a service field",
        ),
        (
            Write(op=Op.PRESS, role=Role.TIMER),
            EntityFacts(),
            "number.x cannot take press",
        ),
    ],
    ids=["power_unit", "timer_unit", "timer_no_unit", "device_to_entity", "bad_op"],
)
def test_writes_that_cannot_be_sent(
    write: Write, facts: EntityFacts, detail: str
) -> None:
    """A wrong unit or op is refused with the reason, never guessed at."""
    ids = {**IDS, Role.POWER: "number.x", Role.TIMER: "number.x"}
    with pytest.raises(RenderError, match=detail):
        render(write, ids, {"number.x": facts}, VALUES)


@pytest.mark.parametrize("value", [Value.TIMER, Value.TIMER_S, Value.TIMER_MIN])
def test_a_timer_under_a_minute_is_refused(value: Value) -> None:
    """Less than a minute left cannot arm the inverter's timer, in any unit."""
    write = Write(op=Op.SET_NUMBER, role=Role.TIMER, value=value)
    values = WriteValues(now=NOW, backstop_minutes=0.99)
    with pytest.raises(RenderError, match="less than one minute left"):
        render(write, IDS, FACTS, values)


def test_an_optional_role_left_unset_is_skipped() -> None:
    """A write to a role with no entity (the generic timer) renders to nothing."""
    write = Write(op=Op.SET_NUMBER, role=Role.TIMER, value=Value.TIMER)
    ids = {role: entity for role, entity in IDS.items() if role is not Role.TIMER}
    assert render(write, ids, FACTS, VALUES) is None
    assert render(Write(op=Op.PRESS), IDS, FACTS, VALUES) is None


def test_service_call_fields() -> None:
    """A service write fills its fields; it has no entity to read back."""
    write = Write(
        op=Op.CALL_SERVICE,
        service="huawei_solar.forcible_discharge",
        fields=(
            ("device_id", Value.DEVICE_ID),
            ("power", Value.POWER_W),
            ("power_kw", Value.POWER_KW),
            ("duration", Value.TIMER_MIN),
            ("floor", Value.CUTOFF),
            ("mode", "discharge"),
        ),
    )
    call = _render(write)
    assert call == Call(
        domain="huawei_solar",
        service="forcible_discharge",
        entity_id=None,
        data={
            "device_id": "abc123",
            "power": 3256,
            "power_kw": 3.256,
            "duration": 12,
            "floor": 32.0,
            "mode": "discharge",
        },
        expect=None,
        readback=ReadBack.NONE,
    )


def test_service_call_without_a_device() -> None:
    """A service that needs the device cannot be sent without one."""
    write = Write(
        op=Op.CALL_SERVICE, service="x.y", fields=(("device_id", Value.DEVICE_ID),)
    )
    with pytest.raises(RenderError, match="no device chosen"):
        render(write, {}, {}, VALUES)


@pytest.mark.parametrize(
    ("write", "expect", "readback"),
    [
        (
            Write(op=Op.TURN_ON, role=Role.ENABLE, readback=ReadBack.POLLED),
            Expect(entity_id="switch.force", state="on"),
            ReadBack.POLLED,
        ),
        (
            Write(op=Op.TURN_OFF, role=Role.ENABLE),
            Expect(entity_id="switch.force", state="off"),
            ReadBack.AT_ONCE,
        ),
        (Write(op=Op.PRESS, role=Role.TRIGGER), None, ReadBack.NONE),
        (
            Write(op=Op.TURN_ON, role=Role.ENABLE, readback=ReadBack.NONE),
            None,
            ReadBack.NONE,
        ),
        (Write(op=Op.SET_NUMBER, role=Role.POWER), None, ReadBack.NONE),
        (
            Write(op=Op.SELECT, role=Role.MODE, value="Force Discharge"),
            Expect(entity_id="select.mode", state="Force Discharge"),
            ReadBack.AT_ONCE,
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.POWER, value="3"),
            Expect(entity_id="number.power", state="3"),
            ReadBack.AT_ONCE,
        ),
        (
            Write(op=Op.SET_NUMBER, role=Role.CUTOFF, value=Value.CUTOFF),
            Expect(
                entity_id="number.cutoff", number=32.0, tolerance=0.5, at_least=32.0
            ),
            ReadBack.AT_ONCE,
        ),
    ],
    ids=[
        "on_polled",
        "off",
        "press",
        "none",
        "no_value",
        "select",
        "text_number",
        "cutoff",
    ],
)
def test_expected_read_back(
    write: Write, expect: Expect | None, readback: ReadBack
) -> None:
    """Each write says what confirms it, and how; nothing readable means no check."""
    call = _render(write)
    assert call.expect == expect
    assert call.readback is readback


@pytest.mark.parametrize(
    ("expect", "state", "failure"),
    [
        (Expect(entity_id="s.x", state="on"), "on", None),
        (Expect(entity_id="s.x", state="on"), "off", "did not read back"),
        (Expect(entity_id="s.x", state="on"), None, "did not read back"),
        (Expect(entity_id="n.x", number=3.0, tolerance=0.05), "3.04", None),
        (
            Expect(entity_id="n.x", number=3.0, tolerance=0.05),
            "3.1",
            "read back 3.1, wanted 3.0",
        ),
        (
            Expect(entity_id="n.x", number=3.0, tolerance=0.05),
            "unavailable",
            "read back nothing, wanted 3.0",
        ),
        (
            Expect(entity_id="n.x", number=3.0, tolerance=0.05),
            None,
            "read back nothing, wanted 3.0",
        ),
        (
            Expect(entity_id="n.x", number=10.0, tolerance=0.5, at_most=10.0),
            "10.3",
            "read back 10.3, more than 10.0",
        ),
        (
            Expect(entity_id="n.x", number=20.0, tolerance=0.5, at_least=20.0),
            "19.8",
            "read back 19.8, less than 20.0",
        ),
    ],
    ids=[
        "same",
        "other",
        "missing",
        "within",
        "off_step",
        "unreadable",
        "gone",
        "timer_longer",
        "floor_lower",
    ],
)
def test_readback_failure(
    expect: Expect, state: str | None, failure: str | None
) -> None:
    """A state confirms a write only when it shows what was written, safely rounded."""
    assert readback_failure(expect, state) == failure


@pytest.mark.parametrize(
    ("now", "minutes", "offset_s", "end"),
    [
        (NOW, 12.5, 0.0, "12:12:30"),
        (NOW, 12.5, 90.0, "12:11:00"),
        (NOW, 12.5, -90.0, "12:14:00"),
        (NOW.replace(hour=23, minute=55), 12.0, 0.0, "23:59:59"),
        (NOW.replace(hour=23, minute=50), 5.0, -420.0, "23:59:59"),
        (NOW, -3.0, 0.0, "12:00:00"),
    ],
    ids=[
        "same_clock",
        "inverter_behind",
        "inverter_ahead",
        "ha_midnight",
        "inverter_midnight",
        "negative_timer",
    ],
)
def test_end_time_on_the_inverter_clock(
    now: datetime, minutes: float, offset_s: float, end: str
) -> None:
    """A slot end is now + the timer on the inverter's clock and never wraps midnight."""
    values = WriteValues(now=now, backstop_minutes=minutes, clock_offset_s=offset_s)
    assert end_time(values) == end


@pytest.mark.parametrize(
    ("end", "offset_s", "minutes"),
    [
        ("12:04:00", 0.0, 4.0),
        ("12:04:00", -120.0, 2.0),
        ("12:04:00", 120.0, 6.0),
        ("11:59:00", 0.0, 0.0),
        ("00:00:00", 0.0, 0.0),
        ("unknown", 0.0, None),
        (None, 0.0, None),
    ],
    ids=[
        "same",
        "inverter_ahead",
        "inverter_behind",
        "passed",
        "cleared",
        "bad",
        "none",
    ],
)
def test_slot_minutes_left(
    end: str | None, offset_s: float, minutes: float | None
) -> None:
    """A slot end on the inverter's clock is read back as the minutes it still runs."""
    assert slot_minutes_left(end, NOW, offset_s) == minutes


def test_now_on_the_inverter_clock() -> None:
    """A slot start is now on the inverter's clock, truncated to the second."""
    write = Write(op=Op.SET_TIME, role=Role.SLOT_END, value=Value.NOW)
    values = WriteValues(
        now=NOW + timedelta(microseconds=900_000), clock_offset_s=-30.0
    )
    assert _render(write, values).data == {"time": "12:00:30"}


@pytest.mark.parametrize(
    ("value", "time"),
    [(Value.NOW, "12:00:00"), (Value.END, "12:13:00")],
    ids=["start", "end"],
)
def test_a_slot_select_gets_whole_minutes(value: Value, time: str) -> None:
    """A time written to a select (GivTCP's slots) is rounded down to its minute."""
    write = Write(op=Op.SET_TIME, role=Role.SLOT_START, value=value)
    values = WriteValues(now=NOW + timedelta(seconds=37), backstop_minutes=12.5)
    call = _render(write, values)
    assert call.service == "select_option"
    assert call.data == {"option": time}


@pytest.mark.parametrize(
    ("state", "failure"),
    [
        ("2500", None),
        ("0", None),
        ("3300", "read back 3300.0, wanted 3200.0"),
        ("-1", "read back -1.0, wanted 3200.0"),
    ],
    ids=["quantised_down", "zero", "higher", "negative"],
)
def test_a_power_read_back_lower_is_safe(state: str, failure: str | None) -> None:
    """Less power than asked (a rate stored as % of capacity) confirms the write."""
    write = Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.POWER_KW)
    values = WriteValues(now=NOW, power_kw=3.2567, power_reads_lower=True)
    expect = _render(write, values).expect
    assert expect is not None
    assert expect.lower_is_safe
    assert readback_failure(expect, state) == failure


def test_a_power_read_back_lower_is_ignored_elsewhere() -> None:
    """Where power is not quantised, a lower read-back means the write was ignored."""
    write = Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.POWER_KW)
    expect = _render(write).expect
    assert expect is not None
    assert not expect.lower_is_safe
    assert readback_failure(expect, "0") == "read back 0.0, wanted 3200.0"
