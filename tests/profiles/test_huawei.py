"""The Huawei profile (huawei_solar services): its calls, in order."""

from __future__ import annotations

from custom_components.export_monitor.profiles import PROFILES
from custom_components.export_monitor.profiles.base import (
    BackstopKind,
    Op,
    PowerMeaning,
    ReadBack,
    Rearm,
    Role,
)
from custom_components.export_monitor.profiles.huawei import HUAWEI

from .steps import rendered, steps

DISCHARGE = (
    "call_service",
    "huawei_solar.forcible_discharge",
    (("device_id", "device_id"), ("duration", "timer_min"), ("power", "power_w")),
)
STOP = (
    "call_service",
    "huawei_solar.stop_forcible_charge",
    (("device_id", "device_id"),),
)


def test_registered_with_a_device_and_an_optional_status_sensor() -> None:
    """The Batteries device is required; the status sensor is optional."""
    assert PROFILES["huawei"] is HUAWEI
    assert HUAWEI.roles == (Role.DEVICE, Role.STATUS)
    device = HUAWEI.control(Role.DEVICE)
    status = HUAWEI.control(Role.STATUS)
    assert device is not None
    assert status is not None
    assert device.required
    assert device.domains == ()
    assert not status.required
    assert status.suffix == "forcible_charge"
    assert {c.integration for c in HUAWEI.controls} == {"huawei_solar"}


def test_start_power_and_keepalive_call_forcible_discharge() -> None:
    """One timed call starts, changes power and re-arms (re-issuing re-arms)."""
    assert steps(HUAWEI.start) == [DISCHARGE]
    assert steps(HUAWEI.set_power) == [DISCHARGE]
    assert steps(HUAWEI.keepalive) == [DISCHARGE]
    assert HUAWEI.backstop.rearm is Rearm.REWRITE_SAME


def test_stop_and_reconcile_call_stop_forcible_charge() -> None:
    """The vendor's stop is the only rung: no power 0 exists (power must be > 0)."""
    assert [steps(rung) for rung in HUAWEI.stop_ladder] == [[STOP]]
    assert steps(HUAWEI.reconcile) == [STOP]


def test_never_forcible_discharge_soc() -> None:
    """forcible_discharge_soc has no time bound: no write of the profile calls it."""
    services = {w.service for w in list(HUAWEI.writes)}
    assert "huawei_solar.forcible_discharge_soc" not in services
    assert services == {
        "huawei_solar.forcible_discharge",
        "huawei_solar.stop_forcible_charge",
    }


def test_service_only_no_readable_switch() -> None:
    """No write reads back; running comes from the status sensor, where configured."""
    writes = list(HUAWEI.writes)
    assert {w.op for w in writes} == {Op.CALL_SERVICE}
    assert {w.readback for w in writes} == {ReadBack.NONE}
    assert HUAWEI.running is not None
    assert HUAWEI.running.role is Role.STATUS
    assert HUAWEI.running.prefix
    assert "Discharging at 3000W for 12 minutes".startswith(HUAWEI.running.on_states)
    assert not "Stopped".startswith(HUAWEI.running.on_states)


def test_capabilities() -> None:
    """A duration on the inverter up to 24 h; battery power; 30 s to read back."""
    assert HUAWEI.backstop.kind is BackstopKind.DURATION
    assert HUAWEI.backstop.max_s == 86400
    assert not HUAWEI.needs_soc_floor
    assert HUAWEI.set_cutoff == ()
    assert HUAWEI.power_meaning is PowerMeaning.BATTERY
    assert HUAWEI.readback_latency_s == 30.0
    assert HUAWEI.write_budget_per_day is None


def test_rendered_calls_for_a_sample_plan() -> None:
    """3.2567 kW for 12.5 min: 3256 W for 12 min (rounded down), to the device."""
    ids = {Role.DEVICE: "batteries-device-id"}
    assert rendered(HUAWEI.start, ids, {}) == [
        (
            "huawei_solar.forcible_discharge",
            None,
            {"device_id": "batteries-device-id", "duration": 12, "power": 3256},
        )
    ]
    assert rendered(HUAWEI.stop_ladder[0], ids, {}) == [
        (
            "huawei_solar.stop_forcible_charge",
            None,
            {"device_id": "batteries-device-id"},
        )
    ]
