"""Sigenergy (TypQxQ Sigenergy-Local-Modbus): Remote EMS switch, control mode, kW limit.

Facts from docs/research inverter-profiles.md section 6; the section is named on each line
that uses one. There is no backstop: the discharge cut-off SOC is the only bound.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from .base import (
    NUMBER_DOMAINS,
    SELECT_DOMAINS,
    SWITCH_DOMAINS,
    Backstop,
    BackstopKind,
    Control,
    InverterProfile,
    Op,
    PowerMeaning,
    Role,
    Running,
    Value,
    Write,
)

_control: Final = partial(Control, integration="sigen")
DISCHARGING: Final = "Command Discharging (PV First)"  # 6 Start (Predbat's choice)
SELF_CONSUMPTION: Final = "Maximum Self Consumption"  # 6 Stop

_CUTOFF: Final = Write(op=Op.SET_NUMBER, role=Role.CUTOFF, value=Value.CUTOFF)
_POWER: Final = Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.POWER_KW)
_SELF_CONSUMPTION: Final = Write(op=Op.SELECT, role=Role.MODE, value=SELF_CONSUMPTION)

SIGENERGY: Final = InverterProfile(
    key="sigenergy",
    controls=(
        # 6: register 40029; turning it on switches the plant to remote EMS
        _control(
            role=Role.ENABLE,
            domains=SWITCH_DOMAINS,
            suffix="remote_ems_controlled_by_home_assistant",
        ),
        # 6: register 40031; available only while the switch is on
        _control(
            role=Role.MODE,
            domains=SELECT_DOMAINS,
            suffix="remote_ems_control_mode",
            options=(DISCHARGING, SELF_CONSUMPTION),
        ),
        # 6: register 40034, kW, step 0.001; a limit, applied globally
        _control(
            role=Role.POWER, domains=NUMBER_DOMAINS, suffix="ess_max_discharging_limit"
        ),
        # 6: register 40048, 0-100 %; the only inverter-side bound
        _control(
            role=Role.CUTOFF,
            domains=NUMBER_DOMAINS,
            suffix="ess_discharge_cut_off_state_of_charge",
        ),
    ),
    # 6 Start, with the floor first: it is the dead-man, set before anything runs.
    start=(
        _CUTOFF,
        Write(op=Op.TURN_ON, role=Role.ENABLE),
        _POWER,
        Write(op=Op.SELECT, role=Role.MODE, value=DISCHARGING),
    ),
    set_power=(_POWER,),
    keepalive=(),  # 6 Backstop: nothing expires
    stop_ladder=(
        (_SELF_CONSUMPTION,),  # 6 Stop
        (Write(op=Op.TURN_OFF, role=Role.ENABLE),),  # 6: back to local self-consumption
        (Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.ZERO_POWER),),
    ),
    reconcile=(_SELF_CONSUMPTION,),  # 6 Traps: remote EMS persists (#75)
    # 6 Stop 2: the limit applies globally; left low it throttles self-consumption.
    after_stop=(_POWER,),
    set_cutoff=(_CUTOFF,),
    # 6 Entities: the select is available only while the switch is on; off, none runs.
    running=Running(role=Role.MODE, on_states=(DISCHARGING,), gate=Role.ENABLE),
    power_meaning=PowerMeaning.BATTERY,  # 6 Power semantics: a battery limit
    backstop=Backstop(kind=BackstopKind.NONE),  # 6 Backstop: none
    readback_latency_s=5.0,  # 6 Read-back: awaited refresh after a write, 5 s poll
    write_budget_per_day=None,  # 6 Flash: not documented
    # 6 Backstop caveat: a cut-off above the SOC imports from the grid to reach it.
    cutoff_above_soc_imports=True,
)
