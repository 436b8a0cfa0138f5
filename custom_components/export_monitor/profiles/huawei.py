"""Huawei (wlcrs/huawei_solar): the forcible_discharge service, timed on the inverter.

Facts from docs/research inverter-profiles.md section 4; the section is named on each line
that uses one. Never forcible_discharge_soc: it has no time bound (sem-community#532).
"""

from __future__ import annotations

from functools import partial
from typing import Final

from .base import (
    DEVICE_DOMAINS,
    SENSOR_DOMAINS,
    Backstop,
    BackstopKind,
    Control,
    InverterProfile,
    Op,
    PowerMeaning,
    ReadBack,
    Rearm,
    Role,
    Running,
    Value,
    Write,
)

_control: Final = partial(Control, integration="huawei_solar")

# 4 Services: device_id (a Batteries device), duration 1-1440 min, power W (int).
_DISCHARGE: Final = Write(
    op=Op.CALL_SERVICE,
    service="huawei_solar.forcible_discharge",
    fields=(
        ("device_id", Value.DEVICE_ID),
        ("duration", Value.TIMER_MIN),
        ("power", Value.POWER_W),
    ),
    readback=ReadBack.NONE,
)
# 4 Services: stops a forcible charge or discharge.
_STOP: Final = Write(
    op=Op.CALL_SERVICE,
    service="huawei_solar.stop_forcible_charge",
    fields=(("device_id", Value.DEVICE_ID),),
    readback=ReadBack.NONE,
)

HUAWEI: Final = InverterProfile(
    key="huawei",
    controls=(
        _control(role=Role.DEVICE, domains=DEVICE_DOMAINS),  # 4: the Batteries device
        # 4 Read-back: sensor.<batteries>_forcible_charge, "Discharging at {P}W ..."
        _control(
            role=Role.STATUS,
            domains=SENSOR_DOMAINS,
            suffix="forcible_charge",
            required=False,
        ),
    ),
    start=(_DISCHARGE,),
    set_power=(_DISCHARGE,),  # 11.5: re-issuing the service is a new command
    keepalive=(_DISCHARGE,),  # 11.5: re-issue = re-arm, with the timer left
    # 4: stop_forcible_charge is the stop; no power-0 fallback exists (power > 0).
    stop_ladder=((_STOP,),),
    reconcile=(_STOP,),  # 0.4: adopt and stop after a restart
    # 4 SoC floor: end_of_discharge_soc is 0-20 % only; the timer is the dead-man.
    set_cutoff=(),
    # 4 Read-back: the status sensor where configured; else nothing is readable.
    running=Running(role=Role.STATUS, on_states=("Discharging",), prefix=True),
    power_meaning=PowerMeaning.BATTERY,  # 4 Power semantics
    # 4 Backstop: duration on the inverter, up to 24 h.
    backstop=Backstop(
        kind=BackstopKind.DURATION, max_s=1440 * 60, rearm=Rearm.REWRITE_SAME
    ),
    readback_latency_s=30.0,  # 4 Read-back: battery power every 30 s
    write_budget_per_day=None,  # 4 Flash: forcible registers are command registers
)
