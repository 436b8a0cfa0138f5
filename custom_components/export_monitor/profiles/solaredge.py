"""SolarEdge (solaredge_modbus_multi): storage command mode, command timeout, limit.

Facts from docs/research inverter-profiles.md section 7; the section is named on each line
that uses one. The command times out to the default mode; re-writing the mode re-arms it.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from .base import (
    EEPROM_WRITES_PER_DAY,
    NUMBER_DOMAINS,
    SELECT_DOMAINS,
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
    polled,
)

_control: Final = partial(Control, integration="solaredge_modbus_multi")
EXPORT: Final = "Discharge to Maximize Export"  # 7 Start: command mode 4
SELF_CONSUMPTION: Final = "Maximize Self Consumption"  # 7 Stop and the safe default


_TIMER: Final = polled(Op.SET_NUMBER, Role.TIMER, Value.TIMER_S)
_POWER: Final = polled(Op.SET_NUMBER, Role.POWER, Value.POWER_KW)
_EXPORT: Final = polled(Op.SELECT, Role.MODE, EXPORT)
_SELF_CONSUMPTION: Final = polled(Op.SELECT, Role.MODE, SELF_CONSUMPTION)

SOLAREDGE: Final = InverterProfile(
    key="solaredge",
    controls=(
        # 7: select.solaredge_i1_storage_command_mode (0xE00D)
        _control(
            role=Role.MODE,
            domains=SELECT_DOMAINS,
            suffix="storage_command_mode",
            options=(EXPORT, SELF_CONSUMPTION),
        ),
        # 7: select.solaredge_i1_storage_default_mode (0xE00A): what the timeout
        # returns to; a long-term setting (the integration's flash warning)
        _control(
            role=Role.FALLBACK,
            domains=SELECT_DOMAINS,
            suffix="storage_default_mode",
            options=(SELF_CONSUMPTION,),
            flash=True,
        ),
        # 7: number.solaredge_i1_storage_command_timeout, 0-86400 s (0xE00B)
        _control(
            role=Role.TIMER, domains=NUMBER_DOMAINS, suffix="storage_command_timeout"
        ),
        # 7: number.solaredge_i1_storage_discharge_limit, W (0xE010)
        _control(
            role=Role.POWER, domains=NUMBER_DOMAINS, suffix="storage_discharge_limit"
        ),
    ),
    # 7 Start: a safe default first, then timeout and limit, the command mode last.
    start=(
        polled(Op.SELECT, Role.FALLBACK, SELF_CONSUMPTION),
        _TIMER,
        _POWER,
        _EXPORT,
    ),
    set_power=(_POWER,),
    keepalive=(_TIMER, _EXPORT),  # 7 Backstop: writing the mode restarts the timer
    stop_ladder=(
        (_SELF_CONSUMPTION,),  # 7 Stop
        (polled(Op.SET_NUMBER, Role.POWER, Value.ZERO_POWER),),
    ),
    reconcile=(_SELF_CONSUMPTION,),
    set_cutoff=(),  # 7: storage_backup_reserve applies only with backup hardware
    running=Running(role=Role.MODE, on_states=(EXPORT,)),
    power_meaning=PowerMeaning.BATTERY,  # 7 Power semantics: caps battery discharge
    # 7 Backstop: Storage Command Timeout, 0-86400 s, then the default mode.
    backstop=Backstop(
        kind=BackstopKind.COMMAND_TIMEOUT, max_s=86400.0, rearm=Rearm.REWRITE_SAME
    ),
    readback_latency_s=300.0,  # 7 Read-back: default scan 300 s
    # 7 Flash: command registers reset on inverter restart (RAM, evcc); the default
    # mode is a setting.
    write_budget_per_day=EEPROM_WRITES_PER_DAY,
)
