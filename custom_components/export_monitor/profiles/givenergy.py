"""GivEnergy (GivTCP over MQTT): a discharge slot on the inverter's clock, Timed Export.

Facts from docs/research inverter-profiles.md section 5a; the section is named on each line
that uses one. The slot recurs daily and the mode persists: stop must clear the slot.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from .base import (
    NUMBER_DOMAINS,
    SELECT_DOMAINS,
    SENSOR_DOMAINS,
    TIME_DOMAINS,
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

# 5a: GivTCP publishes its entities by MQTT discovery; all are inverter settings (flash).
_control: Final = partial(Control, integration="mqtt", flash=True)
TIMED_EXPORT: Final = "Timed Export"  # 5a: discharge for export in the slot
ECO: Final = "Eco"  # 5a Stop
# A slot from midnight to midnight is empty: nothing fires today or tomorrow.
NO_SLOT: Final = "00:00:00"


_POWER: Final = polled(Op.SET_NUMBER, Role.POWER, Value.POWER_KW)
_CUTOFF: Final = polled(Op.SET_NUMBER, Role.CUTOFF, Value.CUTOFF)
_ECO: Final = polled(Op.SELECT, Role.MODE, ECO)
# The start goes first: a slot end cleared first, before its start, would leave a
# slot from now to midnight (an end before its start wraps past 00:00).
_CLEAR_SLOT: Final = (
    polled(Op.SET_TIME, Role.SLOT_START, NO_SLOT),
    polled(Op.SET_TIME, Role.SLOT_END, NO_SLOT),
)
_END: Final = polled(Op.SET_TIME, Role.SLOT_END, Value.END)

GIVENERGY: Final = InverterProfile(
    key="givenergy",
    controls=(
        # 5a: select.givtcp_<sn>_discharge_{start,end}_time_slot_1, "HH:MM:SS", 1 min
        _control(
            role=Role.SLOT_START,
            domains=TIME_DOMAINS,
            suffix="discharge_start_time_slot_1",
        ),
        _control(
            role=Role.SLOT_END,
            domains=TIME_DOMAINS,
            suffix="discharge_end_time_slot_1",
        ),
        # 5a: number.givtcp_<sn>_battery_discharge_rate, W, stored as % of capacity
        _control(
            role=Role.POWER, domains=NUMBER_DOMAINS, suffix="battery_discharge_rate"
        ),
        # 5a: number.givtcp_<sn>_battery_power_reserve, 4-100 %
        _control(
            role=Role.CUTOFF, domains=NUMBER_DOMAINS, suffix="battery_power_reserve"
        ),
        # 5a: select.givtcp_<sn>_mode
        _control(
            role=Role.MODE,
            domains=SELECT_DOMAINS,
            suffix="mode",
            options=(TIMED_EXPORT, ECO),
        ),
        # 5a Backstop: the inverter's clock (Predbat: inverter_clock_skew_*); GivTCP
        # names it Invertor_Time (GivTCP write.py updateControlCache, Predbat inverter.py)
        _control(
            role=Role.CLOCK,
            domains=SENSOR_DOMAINS,
            suffix="invertor_time",
            required=False,
            flash=False,
        ),
    ),
    # 5a Start: the window first, rate and reserve, the mode last.
    start=(
        polled(Op.SET_TIME, Role.SLOT_START, Value.NOW),
        _END,
        _POWER,
        _CUTOFF,
        polled(Op.SELECT, Role.MODE, TIMED_EXPORT),
    ),
    set_power=(_POWER,),
    keepalive=(_END,),  # 11.5: extend the slot end
    stop_ladder=(
        (_ECO, *_CLEAR_SLOT),  # 5a Stop: Eco, then clear the slot
        _CLEAR_SLOT,  # with no slot Timed Export discharges nothing
        (polled(Op.SET_NUMBER, Role.POWER, Value.ZERO_POWER),),
    ),
    reconcile=(_ECO, *_CLEAR_SLOT),  # 0.4: GivTCP's revert job can be lost (#409)
    set_cutoff=(_CUTOFF,),
    running=Running(role=Role.MODE, on_states=(TIMED_EXPORT,)),
    power_meaning=PowerMeaning.RATE_CAP,  # 0.2: full-power discharge, capped
    # 5a Backstop: the slot end, on the inverter's clock, every day.
    backstop=Backstop(
        kind=BackstopKind.SLOT_END,
        rearm=Rearm.REWRITE_SAME,
        inverter_clock=True,
        recurs_daily=True,
    ),
    # 5a Read-back: optimistic cache, registers at the next loop; Predbat waits 30 s.
    readback_latency_s=30.0,
    # 5a Flash: ~270 register writes a day, ~6 registers per mode change: 270 / 6.
    write_budget_per_day=45,
    # 5a: slots in 1-minute steps; GivTCP's time entities take HH:MM only.
    whole_minute_slots=True,
)
