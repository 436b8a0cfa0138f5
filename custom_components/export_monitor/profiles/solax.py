"""SolaX Gen4-6 (wills106 solax_modbus), mode 1 remote control: select, power, trigger.

Facts from docs/research inverter-profiles.md section 3; the section is named on each line
that uses one. The command holds for `remotecontrol_duration` seconds unless re-sent.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from .base import (
    BUTTON_DOMAINS,
    NUMBER_DOMAINS,
    SELECT_DOMAINS,
    SENSOR_DOMAINS,
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

_control: Final = partial(Control, integration="solax_modbus")
BATTERY_CONTROL: Final = "Enabled Battery Control"  # 3: target = battery power, - = out
DISABLED: Final = "Disabled"  # 3 Stop: with a trigger press it stops the autorepeat too
# 3: the command's life on the inverter; >= poll + 5 s, and 11.5 uses 30.
COMMAND_S: Final = 30

_PRESS: Final = Write(op=Op.PRESS, role=Role.TRIGGER)

SOLAX: Final = InverterProfile(
    key="solax",
    controls=(
        # 3: select.<hub>_remotecontrol_power_control (local to HA, RAM)
        _control(
            role=Role.MODE,
            domains=SELECT_DOMAINS,
            suffix="remotecontrol_power_control",
            options=(BATTERY_CONTROL, DISABLED),
        ),
        # 3: number.<hub>_remotecontrol_active_power, W, -30000..30000, step 100
        _control(
            role=Role.POWER, domains=NUMBER_DOMAINS, suffix="remotecontrol_active_power"
        ),
        # 3: number.<hub>_remotecontrol_duration, s, default 20
        _control(
            role=Role.TIMER, domains=NUMBER_DOMAINS, suffix="remotecontrol_duration"
        ),
        # 3: number.<hub>_remotecontrol_autorepeat_duration, s (re-sent every poll)
        _control(
            role=Role.REPEAT,
            domains=NUMBER_DOMAINS,
            suffix="remotecontrol_autorepeat_duration",
        ),
        # 3: button.<hub>_remotecontrol_trigger writes the block at 0x7C
        _control(
            role=Role.TRIGGER, domains=BUTTON_DOMAINS, suffix="remotecontrol_trigger"
        ),
        # 3 Read-back: sensor.<hub>_modbus_power_control (register 0x100)
        _control(
            role=Role.STATUS,
            domains=SENSOR_DOMAINS,
            suffix="modbus_power_control",
            required=False,
        ),
    ),
    # 3 Start: power, mode, duration, autorepeat, then press the trigger.
    start=(
        Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.NEG_POWER_W),
        Write(op=Op.SELECT, role=Role.MODE, value=BATTERY_CONTROL),
        Write(op=Op.SET_NUMBER, role=Role.TIMER, value=COMMAND_S),
        Write(op=Op.SET_NUMBER, role=Role.REPEAT, value=Value.TIMER_S),
        _PRESS,
    ),
    # 3 Update power: the running autorepeat picks it up at the next poll.
    set_power=(Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.NEG_POWER_W),),
    # 3: a press re-sends the block and restarts the autorepeat for the new length.
    keepalive=(Write(op=Op.SET_NUMBER, role=Role.REPEAT, value=Value.TIMER_S), _PRESS),
    stop_ladder=(
        (Write(op=Op.SELECT, role=Role.MODE, value=DISABLED), _PRESS),  # 3 Stop
        # Battery control at 0 W: the battery idles, nothing more is exported from it.
        (Write(op=Op.SET_NUMBER, role=Role.POWER, value=Value.ZERO_POWER), _PRESS),
    ),
    # 0.4: SolaX forgets the autorepeat on restart; a Disabled block ends any command.
    reconcile=(Write(op=Op.SELECT, role=Role.MODE, value=DISABLED), _PRESS),
    # 3 SoC floor: selfuse_discharge_min_soc is EEPROM and guards only the HA-side
    # autorepeat, no inverter-side bound: not written.
    set_cutoff=(),
    # 3 Read-back: every computed mode reads back as "Enabled Power Control".
    running=Running(role=Role.STATUS, on_states=("Enabled",), prefix=True),
    power_meaning=PowerMeaning.BATTERY,  # 3 Sign conventions
    # 3 Backstop: the block expires after its duration; the normal work mode follows.
    backstop=Backstop(
        kind=BackstopKind.COMMAND_TIMEOUT,
        max_s=float(COMMAND_S),
        rearm=Rearm.REWRITE_SAME,
        keepalive_s=COMMAND_S / 2,  # 11.6 rule 5: re-arm at half the backstop
    ),
    readback_latency_s=15.0,  # 3: default scan 15 s
    write_budget_per_day=None,  # 3: remotecontrol_* are RAM, "as often as desired"
)
