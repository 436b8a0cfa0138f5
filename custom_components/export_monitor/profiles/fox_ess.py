"""Fox ESS over Modbus (nathanmarlor/foxess_modbus): work-mode select plus a power number.

Facts from docs/research inverter-profiles.md section 2; the section is named on each line
that uses one. Its watchdog falls back to Feed-in First, which keeps exporting: the SOC floor
is the only bound when Home Assistant dies, and a restart must select Self Use.
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
    Role,
    Running,
    Value,
    polled,
)

_control: Final = partial(Control, integration="foxess_modbus")
# 2: a virtual option the integration appends to the work modes.
FORCE_DISCHARGE: Final = "Force Discharge"
SELF_USE: Final = "Self Use"  # 2: the only stop; "Feed-in First" kept exporting (#558)

_POWER: Final = polled(Op.SET_NUMBER, Role.POWER, Value.POWER_KW)
_SELF_USE: Final = polled(Op.SELECT, Role.MODE, SELF_USE)
_CUTOFF: Final = polled(Op.SET_NUMBER, Role.CUTOFF, Value.CUTOFF)

FOX_ESS: Final = InverterProfile(
    key="fox_ess",
    controls=(
        # 2: select.<p>_work_mode; its register (41000) is a setting: flash
        _control(
            role=Role.MODE,
            domains=SELECT_DOMAINS,
            suffix="work_mode",
            options=(FORCE_DISCHARGE, SELF_USE),
            flash=True,
        ),
        # 2: number.<p>_force_discharge_power, kW, step 0.001, written at the next poll
        _control(
            role=Role.POWER, domains=NUMBER_DOMAINS, suffix="force_discharge_power"
        ),
        # 2: number.<p>_min_soc_on_grid, 10-100 %, respected by force discharge; a setting
        _control(
            role=Role.CUTOFF,
            domains=NUMBER_DOMAINS,
            suffix="min_soc_on_grid",
            flash=True,
        ),
    ),
    # 2 Start: power, then the mode; the floor first, as it is the only dead-man.
    start=(
        _CUTOFF,
        _POWER,
        polled(Op.SELECT, Role.MODE, FORCE_DISCHARGE),
    ),
    set_power=(_POWER,),  # 2: applied at the next poll
    # 2 Backstop: the integration's own polling reloads the watchdog; nothing to re-send.
    keepalive=(),
    stop_ladder=(
        (_SELF_USE,),  # 2 Stop
        # Remote control at 0 W AC output exports nothing (2 Power semantics).
        (polled(Op.SET_NUMBER, Role.POWER, Value.ZERO_POWER),),
    ),
    # 2 Backstop: after a restart the inverter sits in Feed-in First: select Self Use.
    reconcile=(_SELF_USE,),
    set_cutoff=(_CUTOFF,),
    # 2 Read-back: the select's option is the integration's intent, shown at once.
    running=Running(role=Role.MODE, on_states=(FORCE_DISCHARGE,)),
    power_meaning=PowerMeaning.AC_OUTPUT,  # 2 Power semantics: house load first (#661)
    # 2 Backstop: watchdog 2 x poll (20 s RTU, 30 s TCP), then Feed-in First (exports).
    backstop=Backstop(kind=BackstopKind.WATCHDOG, max_s=30.0, fallback_exports=True),
    # 0.6: poll 10-15 s; #1113's timeout_set = 60 implies a 30 s poll setting.
    readback_latency_s=30.0,
    # 2 Flash: work mode and Min SoC are settings; assumed EEPROM-class (0.7 figure).
    write_budget_per_day=EEPROM_WRITES_PER_DAY,
)
