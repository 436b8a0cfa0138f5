"""A profile's write made concrete: the service call, its data and its read-back, pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
import math
from typing import Final

from ..logic.deadman import (
    SHORTEST_BACKSTOP_MINUTES,
    backstop_setting,
    changed_backstop_setting,
    duration_scale,
    readback_problem,
)
from ..logic.readings import parse_number
from ..logic.supervision import BACKSTOP_MAX_MINUTES
from ..logic.units import setpoint_power_scale
from .base import SERVICES, Field, Literal, Op, ReadBack, Rearm, Role, Value, Write

# Read-back tolerance of a number entity with no step attribute.
DEFAULT_STEP: Final = 0.001
# The grain of a SOC floor sent with no entity step (a service field): whole percent.
CUTOFF_GRAIN: Final = 1.0
_EPSILON: Final = 1e-9
_TIMERS: Final = (Value.TIMER, Value.TIMER_S, Value.TIMER_MIN)
_TIME_FORMAT: Final = "%H:%M:%S"
_TIME_DOMAINS: Final = ("time", "input_datetime")
# Time-slot selects (GivTCP) offer whole minutes only.
_MINUTE_DOMAINS: Final = ("select", "input_select")


class RenderError(ValueError):
    """A write cannot be sent as asked (a unit, a step or a missing control)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class EntityFacts:
    """What a write needs to know of its target entity now."""

    state: str | None = None
    unit: str | None = None
    step: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class WriteValues:
    """The plan and clock values a write is filled in from."""

    now: datetime  # Home Assistant's local time, aware
    power_kw: float = 0.0
    backstop_minutes: float = 0.0  # the longest the inverter may run alone
    cutoff_soc: float = 100.0
    # Home Assistant's clock minus the inverter's, when a clock role measures it.
    clock_offset_s: float = 0.0
    rearm: Rearm = Rearm.NOT_NEEDED
    # The inverter stores power quantised down (GivEnergy: % of capacity), so a power
    # read back lower than written confirms it; elsewhere lower means ignored.
    power_reads_lower: bool = False
    # Times go out in whole minutes (the inverter holds no seconds).
    whole_minutes: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Expect:
    """What the target entity must show once the write has landed."""

    entity_id: str
    state: str | None = None  # an exact state (on/off, an option, a time)
    number: float | None = None  # a numeric value, within `tolerance`
    tolerance: float = 0.0
    at_most: float | None = None
    at_least: float | None = None
    # Less than asked is safe (a power the inverter quantises down, e.g. % of capacity).
    lower_is_safe: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Call:
    """One Home Assistant service call and how it is confirmed."""

    domain: str
    service: str
    entity_id: str | None
    data: Mapping[str, Literal]
    expect: Expect | None
    readback: ReadBack


def render(
    write: Write,
    entity_ids: Mapping[Role, str],
    entity_facts: Mapping[str, EntityFacts],
    values: WriteValues,
) -> Call | None:
    """Return the call for a write; None when it targets an optional role left unset."""
    if write.op is Op.CALL_SERVICE:
        return _service_call(write, entity_ids, values)
    if write.role is None or write.role not in entity_ids:
        return None
    entity_id = entity_ids[write.role]
    domain = entity_id.partition(".")[0]
    service = SERVICES.get((write.op, domain))
    if service is None:
        raise RenderError(f"{entity_id} cannot take {write.op}")
    facts = entity_facts.get(entity_id, EntityFacts())
    service_domain, _, service_name = service.partition(".")
    data: dict[str, Literal] = {}
    value: Literal | None = None
    if write.value is not None:
        value = _entity_value(write.value, facts, values)
        minutes = values.whole_minutes or domain in _MINUTE_DOMAINS
        if write.op is Op.SET_TIME and minutes:
            value = _whole_minute(str(value))
        data[_value_key(write.op, domain)] = value
    expect = None
    if write.readback is not ReadBack.NONE:
        expect = _expect(write, entity_id, facts, value, values.power_reads_lower)
    return Call(
        domain=service_domain,
        service=service_name,
        entity_id=entity_id,
        data=data,
        expect=expect,
        readback=write.readback if expect is not None else ReadBack.NONE,
    )


def _value_key(op: Op, domain: str) -> str:
    """Return the data key that carries a primitive's value."""
    if op is Op.SET_NUMBER:
        return "value"
    return "time" if domain in _TIME_DOMAINS else "option"


def readback_failure(expect: Expect, state: str | None) -> str | None:
    """Return why an entity's state does not confirm a write, None when it does."""
    if expect.number is None:
        return None if state == expect.state else "did not read back"
    parsed = None if state is None else parse_number(state)
    actual = parsed if isinstance(parsed, float) else None
    if expect.lower_is_safe and actual is not None and 0.0 <= actual <= expect.number:
        return None
    return readback_problem(
        actual,
        expect.number,
        expect.tolerance * 2.0,
        at_most=expect.at_most,
        at_least=expect.at_least,
    )


def _service_call(
    write: Write, entity_ids: Mapping[Role, str], values: WriteValues
) -> Call:
    """Return a service call with its fields filled in; nothing to read back."""
    domain, _, service = (write.service or "").partition(".")
    data = {
        name: _field_value(field, entity_ids, values) for name, field in write.fields
    }
    return Call(
        domain=domain,
        service=service,
        entity_id=None,
        data=data,
        expect=None,
        readback=ReadBack.NONE,
    )


def _field_value(
    field: Field, entity_ids: Mapping[Role, str], values: WriteValues
) -> Literal:
    """Return a service field's value: a literal, the device, or a plan value."""
    if not isinstance(field, Value):
        return field
    if field is Value.DEVICE_ID:
        if Role.DEVICE not in entity_ids:
            raise RenderError("no device chosen")
        return entity_ids[Role.DEVICE]
    if field is Value.POWER_KW:
        return math.floor(values.power_kw * 1000.0 + _EPSILON) / 1000.0
    if field is Value.CUTOFF:
        return _round_up(values.cutoff_soc, CUTOFF_GRAIN)
    return _plain_value(field, values)


def _entity_value(value: Field, facts: EntityFacts, values: WriteValues) -> Literal:
    """Return the value written to an entity, in its unit and on its step."""
    if not isinstance(value, Value):
        return value
    if value is Value.POWER_KW:
        return _power_in_unit(values.power_kw, facts)
    if value is Value.TIMER:
        return _timer_in_unit(facts, values)
    if value is Value.CUTOFF:
        return _round_up(values.cutoff_soc, facts.step or CUTOFF_GRAIN)
    if value is Value.DEVICE_ID:
        raise RenderError("a device id is a service field")
    return _plain_value(value, values)


def _plain_value(value: Value, values: WriteValues) -> Literal:
    """Return a value that does not depend on the target entity."""
    watts = math.floor(values.power_kw * 1000.0 + _EPSILON)
    timer_s = math.floor(min(values.backstop_minutes, BACKSTOP_MAX_MINUTES) * 60.0)
    if value in _TIMERS and timer_s < SHORTEST_BACKSTOP_MINUTES * 60.0:
        raise RenderError("less than one minute left")
    plain: dict[Value, Literal] = {
        Value.POWER_W: watts,
        Value.NEG_POWER_W: -watts,
        Value.ZERO_POWER: 0,
        Value.TIMER_S: timer_s,
        Value.TIMER_MIN: timer_s // 60,
        Value.NOW: _inverter_time(values.now, values).strftime(_TIME_FORMAT),
        Value.END: end_time(values),
    }
    return plain[value]


def _power_in_unit(power_kw: float, facts: EntityFacts) -> float:
    """Return a power in the entity's unit (W or kW), rounded down to its step."""
    scale = setpoint_power_scale(facts.unit)
    if scale is None:
        raise RenderError("unit is not W or kW")
    return _round_down(power_kw / scale, facts.step or DEFAULT_STEP)


def _timer_in_unit(facts: EntityFacts, values: WriteValues) -> float:
    """Return the inverter-side timer in the entity's unit, rounded down to its step."""
    scale = duration_scale(facts.unit)
    if scale is None:
        raise RenderError("unit is not s, min or h")
    if values.rearm in (Rearm.REWRITE_CHANGED, Rearm.PREFER_CHANGED):
        current = None if facts.state is None else parse_number(facts.state)
        setting = changed_backstop_setting(
            values.backstop_minutes,
            scale,
            facts.step,
            current if isinstance(current, float) else None,
        )
    else:
        setting = backstop_setting(values.backstop_minutes, scale, facts.step)
    if setting is None:
        raise RenderError("less than one minute left")
    return setting


def end_time(values: WriteValues) -> str:
    """Return now + the timer on the inverter's clock, never past midnight."""
    now = values.now
    last = datetime.combine(now.date(), time(23, 59, 59), now.tzinfo)
    end = min(now + timedelta(minutes=max(0.0, values.backstop_minutes)), last)
    on_inverter = _inverter_time(end, values)
    inverter_day = _inverter_time(now, values).date()
    if on_inverter.date() != inverter_day:
        # Past the inverter's own midnight a slot end would wrap to the morning.
        return "23:59:59"
    return on_inverter.strftime(_TIME_FORMAT)


def slot_minutes_left(end: str | None, now: datetime, offset_s: float) -> float | None:
    """Return the minutes to a slot end shown "HH:MM:SS" on the inverter's clock.

    None when it is not a time; 0 once it has passed (or the slot is cleared).
    """
    try:
        ends_at = time.fromisoformat(end or "")
    except ValueError:
        return None
    on_inverter = now - timedelta(seconds=offset_s)
    ends = datetime.combine(on_inverter.date(), ends_at, on_inverter.tzinfo)
    return max(0.0, (ends - on_inverter).total_seconds() / 60.0)


def _whole_minute(clock: str) -> str:
    """Return an "HH:MM:SS" time rounded down to its minute: a slot starts or ends sooner."""
    return f"{clock[:5]}:00"


def _inverter_time(moment: datetime, values: WriteValues) -> datetime:
    """Return a moment on the inverter's clock."""
    return moment - timedelta(seconds=values.clock_offset_s)


def _expect(
    write: Write,
    entity_id: str,
    facts: EntityFacts,
    value: Literal | None,
    power_reads_lower: bool,
) -> Expect | None:
    """Return what the entity must read once the write has landed."""
    if write.op is Op.TURN_ON:
        return Expect(entity_id=entity_id, state="on")
    if write.op is Op.TURN_OFF:
        return Expect(entity_id=entity_id, state="off")
    if write.op is Op.PRESS or value is None:
        return None
    if write.op is not Op.SET_NUMBER or isinstance(value, str | bool):
        return Expect(entity_id=entity_id, state=str(value))
    number = float(value)
    return Expect(
        entity_id=entity_id,
        number=number,
        tolerance=(facts.step or DEFAULT_STEP) / 2.0,
        # A timer read back longer than asked would outlast the headroom, and a
        # floor read back lower would let the battery go further.
        at_most=number if write.value in _TIMERS else None,
        at_least=number if write.value is Value.CUTOFF else None,
        lower_is_safe=power_reads_lower and write.value is Value.POWER_KW,
    )


def _round_down(value: float, grain: float) -> float:
    """Return a value rounded down to a multiple of `grain`."""
    return round(math.floor(value / grain + _EPSILON) * grain, 9)


def _round_up(value: float, grain: float) -> float:
    """Return a value rounded up to a multiple of `grain`."""
    return round(math.ceil(value / grain - _EPSILON) * grain, 9)
