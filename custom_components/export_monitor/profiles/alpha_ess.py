"""Alpha ESS over Modbus (alphaess_modbus, senalse or Poshy163): switch plus numbers.

Facts from docs/research inverter-profiles.md section 8 (8a Hillview helpers, 8b Poshy163,
8c senalse); the section is named on each line that uses one.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from .base import (
    NUMBER_DOMAINS,
    SWITCH_DOMAINS,
    Backstop,
    BackstopKind,
    Control,
    InverterProfile,
    Op,
    PowerMeaning,
    Rearm,
    Role,
    Running,
    Value,
    Write,
)

# 8b, 8c: both HACS integrations share this domain.
_control: Final = partial(Control, integration="alphaess_modbus")

_POWER: Final = Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.POWER_KW)
_TIMER: Final = Write(op=Op.SET_NUMBER, role=Role.TIMER, value=Value.TIMER)
_ON: Final = Write(op=Op.TURN_ON, role=Role.ENABLE)

ALPHA_ESS: Final = InverterProfile(
    key="alpha_ess",
    controls=(
        # 8b, 8c: switch.alphaess_{helper,inverter}_force_discharging
        _control(role=Role.ENABLE, domains=SWITCH_DOMAINS, suffix="force_discharging"),
        # 8b, 8c: kW 0-20, step 0.1 (8a: round down)
        _control(
            role=Role.POWER, domains=NUMBER_DOMAINS, suffix="force_discharging_power"
        ),
        # 8b: 4-100 %, part of the dispatch block (RAM, 8a)
        _control(
            role=Role.CUTOFF,
            domains=NUMBER_DOMAINS,
            suffix="force_discharging_cutoff_soc",
        ),
        # 8b, 8c: 0-480 min, step 5; the dispatch duration register (8a)
        _control(
            role=Role.TIMER, domains=NUMBER_DOMAINS, suffix="force_discharging_duration"
        ),
    ),
    # 8a: parameters first, activation last; an interrupted sequence is inert.
    start=(
        _POWER,
        Write(op=Op.SET_NUMBER, role=Role.CUTOFF, value=Value.CUTOFF),
        _TIMER,
        _ON,
    ),
    # 8c: a power change re-writes the setpoint without resetting the countdown (v1.14).
    set_power=(_POWER,),
    # 8a: the duration is refreshed only on a changed value; 11.5: then turn on again.
    keepalive=(_TIMER, _ON),
    stop_ladder=(
        (Write(op=Op.TURN_OFF, role=Role.ENABLE),),  # 8b, 8c: off = dispatch reset
        (Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.ZERO_POWER),),  # 8c
        (_TIMER,),  # the timer at its shortest ends the dispatch on the inverter (8a)
    ),
    # 0.4, 8b: the switch state is in memory and forgotten on restart: adopt and stop.
    reconcile=(Write(op=Op.TURN_OFF, role=Role.ENABLE),),
    set_cutoff=(Write(op=Op.SET_NUMBER, role=Role.CUTOFF, value=Value.CUTOFF),),
    running=Running(role=Role.ENABLE, on_states=("on",)),
    power_meaning=PowerMeaning.BATTERY,  # 0.2, 8c: Force Discharging is battery power
    # 8a: dispatch duration register 0x0887, 0-480 min; it returns to normal by itself.
    backstop=Backstop(
        kind=BackstopKind.DURATION, max_s=480 * 60, rearm=Rearm.REWRITE_CHANGED
    ),
    readback_latency_s=5.0,  # 0.6: dispatch registers every 5 s
    write_budget_per_day=None,  # 0.7, 8a: dispatch registers 0x0880-0x088A are RAM
    cutoff_raise_pct=1.0,  # 8a: the cutoff register truncates (0.392 %/bit): ask +1 %
    # 8a, 8b: the package writes the dispatch block (its SOC too) on activation or a
    # changed power or duration only: a new floor reaches the inverter at a re-arm.
    cutoff_needs_rearm=True,
)
