"""A vendor profile for tests of the flow and its suggestions: no backstop, a device."""

from __future__ import annotations

from typing import Final

from custom_components.export_monitor.profiles.base import (
    DEVICE_DOMAINS,
    NUMBER_DOMAINS,
    SELECT_DOMAINS,
    SENSOR_DOMAINS,
    Backstop,
    BackstopKind,
    Control,
    InverterProfile,
    Op,
    Role,
    Write,
)

VENDOR_INTEGRATION: Final = "vendor_modbus"
VENDOR_PROFILE: Final = InverterProfile(
    key="vendor",
    controls=(
        Control(
            role=Role.DEVICE,
            domains=DEVICE_DOMAINS,
            integration=VENDOR_INTEGRATION,
            suffix="battery_soc",
        ),
        Control(
            role=Role.MODE,
            domains=SELECT_DOMAINS,
            integration=VENDOR_INTEGRATION,
            suffix="work_mode",
            options=("Force Discharge", "Self Use"),
        ),
        Control(
            role=Role.POWER,
            domains=NUMBER_DOMAINS,
            integration=VENDOR_INTEGRATION,
            suffix="discharge_power",
        ),
        Control(
            role=Role.CUTOFF,
            domains=NUMBER_DOMAINS,
            required=False,
            integration=VENDOR_INTEGRATION,
            suffix="min_soc",
        ),
        Control(role=Role.STATUS, domains=SENSOR_DOMAINS, required=False),
        Control(role=Role.REPEAT, domains=NUMBER_DOMAINS, required=False),
    ),
    start=(Write(op=Op.SELECT, role=Role.MODE, value="Force Discharge"),),
    stop_ladder=((Write(op=Op.SELECT, role=Role.MODE, value="Self Use"),),),
    backstop=Backstop(kind=BackstopKind.NONE),
)
