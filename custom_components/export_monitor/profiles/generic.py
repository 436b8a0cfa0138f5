"""The generic profile: an on/off entity, power and cutoff numbers, an optional timer."""

from __future__ import annotations

from typing import Final

from .base import (
    NUMBER_DOMAINS,
    SWITCH_DOMAINS,
    Backstop,
    BackstopKind,
    Control,
    InverterProfile,
    Op,
    Rearm,
    Role,
    Running,
    Value,
    Write,
)

GENERIC: Final = InverterProfile(
    key="generic",
    controls=(
        Control(role=Role.ENABLE, domains=SWITCH_DOMAINS),
        Control(role=Role.POWER, domains=NUMBER_DOMAINS),
        Control(role=Role.CUTOFF, domains=NUMBER_DOMAINS),
        Control(role=Role.TIMER, domains=NUMBER_DOMAINS, required=False),
    ),
    start=(
        Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.POWER_KW),
        Write(op=Op.SET_NUMBER, role=Role.CUTOFF, value=Value.CUTOFF),
        Write(op=Op.SET_NUMBER, role=Role.TIMER, value=Value.TIMER),
        Write(op=Op.TURN_ON, role=Role.ENABLE),
    ),
    set_power=(Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.POWER_KW),),
    keepalive=(Write(op=Op.SET_NUMBER, role=Role.TIMER, value=Value.TIMER),),
    stop_ladder=(
        (Write(op=Op.TURN_OFF, role=Role.ENABLE),),
        (Write(op=Op.SET_NUMBER, role=Role.TIMER, value=Value.TIMER),),
        (Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.ZERO_POWER),),
    ),
    reconcile=(Write(op=Op.TURN_OFF, role=Role.ENABLE),),
    set_cutoff=(Write(op=Op.SET_NUMBER, role=Role.CUTOFF, value=Value.CUTOFF),),
    running=Running(role=Role.ENABLE, on_states=("on",)),
    backstop=Backstop(kind=BackstopKind.DURATION, rearm=Rearm.PREFER_CHANGED),
)
