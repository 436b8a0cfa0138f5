"""What an inverter profile is: controls, primitive writes and capabilities, as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final


class Role(StrEnum):
    """What a control entity does for a forced export."""

    ENABLE = "enable"  # on/off: on = forced export running
    MODE = "mode"  # select: an option that means forced export
    POWER = "power"  # number: the power setpoint
    CUTOFF = "cutoff"  # number: the battery's discharge cutoff SOC, %
    TIMER = "timer"  # number: the inverter-side timer (duration or command timeout)
    TRIGGER = "trigger"  # button: applies the written parameters
    SLOT_START = "slot_start"  # select/time: a discharge slot's start, inverter clock
    SLOT_END = "slot_end"  # select/time: a discharge slot's end, inverter clock
    STATUS = "status"  # sensor: register-backed status of the forced export
    CLOCK = "clock"  # sensor: the inverter's own clock, for time slots
    DEVICE = "device"  # a device (id) that services are targeted at
    REPEAT = "repeat"  # number: how long the vendor integration re-sends the command
    FALLBACK = (
        "fallback"  # select: the mode the inverter returns to when its backstop ends
    )


class Op(StrEnum):
    """A primitive write."""

    SET_NUMBER = "set_number"
    SELECT = "select"
    SET_TIME = "set_time"
    TURN_ON = "turn_on"
    TURN_OFF = "turn_off"
    PRESS = "press"
    CALL_SERVICE = "call_service"


class Value(StrEnum):
    """A value filled in when a write is sent, from the plan and the clock."""

    POWER_KW = "power_kw"  # in the entity's unit (W or kW) when written to a number
    POWER_W = "power_w"
    NEG_POWER_W = "neg_power_w"  # discharge as a negative battery/grid power
    ZERO_POWER = "zero_power"
    TIMER = "timer"  # the inverter-side timer, in the entity's unit (s, min, h)
    TIMER_S = "timer_s"
    TIMER_MIN = "timer_min"
    CUTOFF = "cutoff"  # the SOC floor to write, %
    NOW = "now"  # "HH:MM:SS" on the inverter's clock
    END = "end"  # now + the timer, "HH:MM:SS" on the inverter's clock
    DEVICE_ID = "device_id"


type Literal = str | float | int | bool
type Field = Value | Literal


class ReadBack(StrEnum):
    """How a write is confirmed."""

    AT_ONCE = "at_once"  # the entity's state reflects the write when the call returns
    POLLED = "polled"  # the entity shows it at the integration's next poll
    NONE = "none"  # nothing readable: the power flow is the proof


class PowerMeaning(StrEnum):
    """What the power setpoint controls."""

    BATTERY = "battery"  # battery discharge power (or limit)
    AC_OUTPUT = "ac_output"  # inverter AC output: house load first, the rest exported
    GRID_TARGET = "grid_target"  # power at the grid connection
    RATE_CAP = "rate_cap"  # a cap on a full-power discharge


class BackstopKind(StrEnum):
    """What ends a forced export when Home Assistant goes silent."""

    DURATION = "duration"  # a timer on the inverter, written as a duration
    COMMAND_TIMEOUT = "command_timeout"  # a command expires unless re-sent
    WATCHDOG = "watchdog"  # the integration's own polling keeps it alive
    SLOT_END = "slot_end"  # a time slot's end on the inverter's clock
    NONE = "none"  # nothing: it runs until the SOC floor


class Rearm(StrEnum):
    """How the backstop is extended."""

    REWRITE_SAME = "rewrite_same"  # writing the same value restarts it
    REWRITE_CHANGED = "rewrite_changed"  # only a changed value restarts it
    # Not known which: a changed value is written where one fits; at the shortest
    # timer the same value goes out (it may re-arm; the flow check notices if not).
    PREFER_CHANGED = "prefer_changed"
    NOT_NEEDED = "not_needed"  # nothing expires


@dataclass(frozen=True, kw_only=True, slots=True)
class Control:
    """A control the profile needs, as the config flow asks for it."""

    role: Role
    domains: tuple[str, ...]
    required: bool = True
    # For suggestions from the entity registry: the vendor integration and the
    # end of its entities' unique ids or entity ids.
    integration: str | None = None
    suffix: str | None = None
    # Select options that must exist on the entity.
    options: tuple[str, ...] = ()
    # Writing it wears the inverter's flash (counted against the write budget).
    flash: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Write:
    """One primitive write: to a role's entity, or a service with fields."""

    op: Op
    role: Role | None = None
    value: Field | None = None  # number value, select option or time
    service: str | None = None  # "domain.service" for CALL_SERVICE
    fields: tuple[tuple[str, Field], ...] = ()
    readback: ReadBack = ReadBack.AT_ONCE


@dataclass(frozen=True, kw_only=True, slots=True)
class Running:
    """How to read whether a forced export is running from a role's state."""

    role: Role
    on_states: tuple[str, ...]  # states (or prefixes with `prefix`) that mean running
    prefix: bool = False
    # An on/off control that must be on for anything to run: off, nothing runs,
    # whatever the role's entity shows (it may then be unavailable).
    gate: Role | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Backstop:
    """The inverter-side bound on a forced export when Home Assistant goes silent."""

    kind: BackstopKind
    max_s: float | None = None  # the longest the backstop can be set to
    rearm: Rearm = Rearm.NOT_NEEDED
    # Re-sent this often (seconds) while running, when the backstop expires by itself.
    keepalive_s: float | None = None
    # On expiry the inverter falls into a state that can keep exporting.
    fallback_exports: bool = False
    # The backstop counts on the inverter's clock, which may differ from HA's.
    inverter_clock: bool = False
    # The backstop is a daily time slot: left set, it starts again tomorrow.
    recurs_daily: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class InverterProfile:
    """A vendor's control surface for a forced export, as data."""

    key: str
    controls: tuple[Control, ...]
    start: tuple[Write, ...]  # parameters first, activation last
    stop_ladder: tuple[tuple[Write, ...], ...]  # rung 0 is the normal stop
    set_power: tuple[Write, ...] = ()  # empty: a power change needs a restart
    keepalive: tuple[Write, ...] = ()  # re-arms the backstop
    reconcile: tuple[Write, ...] = ()  # at start-up, when a discharge may be running
    set_cutoff: tuple[Write, ...] = ()  # writes the SOC floor (empty: not writable)
    # Set back once the stop's flow has ended: settings a discharge changed that apply
    # outside it too (Value.POWER_KW is then the inverter's maximum power).
    after_stop: tuple[Write, ...] = ()
    running: Running | None = None  # None: not readable (service-only)
    power_meaning: PowerMeaning = PowerMeaning.BATTERY
    backstop: Backstop = field(default_factory=lambda: Backstop(kind=BackstopKind.NONE))
    readback_latency_s: float = 0.0  # worst time to an honest read-back
    write_budget_per_day: int | None = None  # flash-wearing writes per day
    # The inverter truncates the written cutoff by up to this (%): ask this much higher.
    cutoff_raise_pct: float = 0.0
    # A cutoff above the SOC makes the inverter charge from the grid to reach it.
    cutoff_above_soc_imports: bool = False
    # A cutoff written while running takes effect only when the keep-alive re-arms.
    cutoff_needs_rearm: bool = False
    # Slot times are held in whole minutes (GivEnergy's HHMM registers), whatever
    # entity carries them: a time entity drops the seconds too.
    whole_minute_slots: bool = False

    def control(self, role: Role) -> Control | None:
        """Return the control with this role, None when the profile has none."""
        return next((c for c in self.controls if c.role is role), None)

    @property
    def roles(self) -> tuple[Role, ...]:
        """Return every role the profile uses, in the order the flow asks for them."""
        return tuple(c.role for c in self.controls)

    @property
    def writes(self) -> tuple[Write, ...]:
        """Return every write of every sequence, for checks over the whole profile."""
        sequences = (
            self.start,
            self.set_power,
            self.keepalive,
            self.reconcile,
            self.set_cutoff,
            self.after_stop,
            *self.stop_ladder,
        )
        return tuple(write for sequence in sequences for write in sequence)

    @property
    def backstop_expires(self) -> bool:
        """Return whether the backstop ends a discharge by itself unless re-armed."""
        backstop = self.backstop
        return (
            backstop.kind not in (BackstopKind.NONE, BackstopKind.WATCHDOG)
            and backstop.rearm is not Rearm.NOT_NEEDED
            and bool(self.keepalive)
        )

    @property
    def needs_soc_floor(self) -> bool:
        """Return whether only the SOC floor bounds a discharge if HA goes silent."""
        backstop = self.backstop
        return (
            backstop.kind is BackstopKind.NONE
            or backstop.fallback_exports
            or backstop.recurs_daily
        )


def polled(op: Op, role: Role, value: Field | None = None) -> Write:
    """Return a write to a role's entity, confirmed at the integration's next poll."""
    return Write(op=op, role=role, value=value, readback=ReadBack.POLLED)


# Home Assistant services for each primitive, by the target entity's domain.
SERVICES: Final[dict[tuple[Op, str], str]] = {
    (Op.SET_NUMBER, "number"): "number.set_value",
    (Op.SET_NUMBER, "input_number"): "input_number.set_value",
    (Op.SELECT, "select"): "select.select_option",
    (Op.SELECT, "input_select"): "input_select.select_option",
    (Op.SET_TIME, "time"): "time.set_value",
    (Op.SET_TIME, "input_datetime"): "input_datetime.set_datetime",
    (Op.SET_TIME, "select"): "select.select_option",
    (Op.SET_TIME, "input_select"): "input_select.select_option",
    (Op.TURN_ON, "switch"): "switch.turn_on",
    (Op.TURN_ON, "input_boolean"): "input_boolean.turn_on",
    (Op.TURN_OFF, "switch"): "switch.turn_off",
    (Op.TURN_OFF, "input_boolean"): "input_boolean.turn_off",
    (Op.PRESS, "button"): "button.press",
    (Op.PRESS, "input_button"): "input_button.press",
}

# EEPROM rated for 100000 writes (SolaX docs, research 0.7 and 3) spread over ten years.
EEPROM_WRITES_PER_DAY: Final = 27

NUMBER_DOMAINS: Final = ("number", "input_number")
SWITCH_DOMAINS: Final = ("switch", "input_boolean")
SELECT_DOMAINS: Final = ("select", "input_select")
BUTTON_DOMAINS: Final = ("button", "input_button")
TIME_DOMAINS: Final = ("time", "input_datetime", "select", "input_select")
SENSOR_DOMAINS: Final = ("sensor",)
DEVICE_DOMAINS: Final[tuple[str, ...]] = ()  # a device, not an entity
