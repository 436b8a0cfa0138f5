"""scripts/develop --profile NAME: the vendor's simulated integration drives the plant."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pytest

from custom_components.export_monitor.profiles import OFFERED
from sim.vendors import VENDORS
from tests.e2e.server import ROOT, Instance, running, wait_for

BATTERY_POWER: Final = "sensor.sim_battery_power"
EXPORT_TODAY: Final = "sensor.sim_export_energy_today"
DEVICE: Final = "<the simulator's device>"
# How each case starts a forced export: service calls (domain.service, data).
type Calls = tuple[tuple[str, dict[str, Any]], ...]
THROUGH_THE_MONITOR: Final[Calls] = (
    ("export_monitor.start_discharge", {"power_kw": 2.0, "duration_minutes": 10}),
)
CASES: Final[dict[str, Calls]] = {
    # The monitor's own service, through the profile's controls.
    "generic": THROUGH_THE_MONITOR,
    "alpha_ess": THROUGH_THE_MONITOR,
    # The vendor's own entities and services, as its integration offers them.
    "fox_ess": (
        (
            "number.set_value",
            {"entity_id": "number.foxess_force_discharge_power", "value": 2.0},
        ),
        (
            "select.select_option",
            {"entity_id": "select.foxess_work_mode", "option": "Force Discharge"},
        ),
    ),
    "huawei": (
        (
            "huawei_solar.forcible_discharge",
            {"device_id": DEVICE, "duration": 10, "power": 2000},
        ),
    ),
    "sigenergy": (
        (
            "switch.turn_on",
            {"entity_id": "switch.sigen_plant_remote_ems_controlled_by_home_assistant"},
        ),
        (
            "number.set_value",
            {"entity_id": "number.sigen_plant_ess_max_discharging_limit", "value": 2},
        ),
        (
            "select.select_option",
            {
                "entity_id": "select.sigen_plant_remote_ems_control_mode",
                "option": "Command Discharging (PV First)",
            },
        ),
    ),
    "solax": (
        (
            "number.set_value",
            {"entity_id": "number.solax_remotecontrol_active_power", "value": -2000},
        ),
        (
            "select.select_option",
            {
                "entity_id": "select.solax_remotecontrol_power_control",
                "option": "Enabled Battery Control",
            },
        ),
        (
            "number.set_value",
            {
                "entity_id": "number.solax_remotecontrol_autorepeat_duration",
                "value": 600,
            },
        ),
        ("button.press", {"entity_id": "button.solax_remotecontrol_trigger"}),
    ),
    "givenergy": (
        # A slot over the whole day but its first minute (crossing midnight).
        (
            "select.select_option",
            {
                "entity_id": "select.givtcp_sim_discharge_start_time_slot_1",
                "option": "00:01:00",
            },
        ),
        (
            "number.set_value",
            {"entity_id": "number.givtcp_sim_battery_discharge_rate", "value": 2000},
        ),
        (
            "select.select_option",
            {"entity_id": "select.givtcp_sim_mode", "option": "Timed Export"},
        ),
    ),
    "solaredge": (
        (
            "select.select_option",
            {
                "entity_id": "select.solaredge_i1_storage_control_mode",
                "option": "Remote Control",
            },
        ),
        (
            "number.set_value",
            {"entity_id": "number.solaredge_i1_storage_discharge_limit", "value": 2000},
        ),
        (
            "select.select_option",
            {
                "entity_id": "select.solaredge_i1_storage_command_mode",
                "option": "Discharge to Maximize Export",
            },
        ),
    ),
}

# Vendors the monitor drives once the profile flow and the profile-driven inverter are
# on main (checked by hand with both branches merged: Fox ESS and Huawei moved).
# Only profiles the setup offers (profiles.OFFERED) can be set up through the flow.
MONITOR_DRIVES: Final = tuple(
    p
    for p in ("fox_ess", "huawei", "solax", "givenergy", "sigenergy", "solaredge")
    if p in OFFERED
)
# A forced export started by hand through an offered vendor's own entities is one the
# monitor did not start: the monitor (set up for offered profiles) turns it off and
# reports unexpected_discharge (docs/troubleshooting.md). Whether the plant reaches
# 2 kW first is a race between the monitor's next look and the simulated meters (Fox
# ESS's work mode reads back at once, and under load the monitor won: CI at f8402db),
# so only the outcome is asserted; test_monitor_drives_the_vendor shows the monitor
# moving the plant. Where the running control reads back at once, it must be turned
# back: the control and the state it is turned back to.
TURNED_BACK: Final[dict[str, tuple[str, str]]] = {
    "givenergy": ("select.givtcp_sim_mode", "Eco"),
    "fox_ess": ("select.foxess_work_mode", "Self Use"),
}
ERROR_STATE: Final = "sensor.export_monitor_error_state"
STATUS: Final = "sensor.export_monitor_discharge_status"
AUTO_DISCHARGE: Final = "switch.export_monitor_auto_discharge"
PACKAGE: Final = ROOT / "custom_components" / "export_monitor"
PROFILE_FLOW: Final = (PACKAGE / "inverter.py").exists() and (
    "async_step_profile" in (PACKAGE / "config_flow.py").read_text()
)

pytestmark = pytest.mark.timeout(300)


def call(instance: Instance, service: str, data: dict[str, Any]) -> None:
    """Call a service over the REST API (DEVICE: the simulator's device); it must succeed."""
    if data.get("device_id") == DEVICE:
        data = data | {"device_id": device_id(instance, VENDORS["huawei"].device_name)}
    response = instance.api(
        "POST", f"/api/services/{service.replace('.', '/')}", json=data
    )
    assert response.status_code == 200, f"{service}: {response.text}"


def device_id(instance: Instance, name: str | None) -> str:
    """Return the registry id of a device, by its name."""
    template = {"template": f"{{{{ device_id('{name}') }}}}"}
    return instance.api("POST", "/api/template", json=template).text.strip()


def battery_w(instance: Instance) -> float:
    """Return the simulated battery's power (W, discharge positive)."""
    return float(instance.state(BATTERY_POWER).json()["state"])


def starts_a_discharge(instance: Instance, calls: Calls) -> None:
    """Make the calls; the battery must reach 2 kW and the export counter move."""
    wait_for(
        "an idle battery",
        lambda: instance.state(BATTERY_POWER).json()["state"],
        lambda state: state not in ("unknown", "unavailable"),
        timeout=30,
    )
    assert battery_w(instance) < 1000.0
    exported = float(instance.state(EXPORT_TODAY).json()["state"])

    for service, data in calls:
        call(instance, service, data)

    wait_for("a 2 kW discharge", lambda: battery_w(instance), (1900.0).__le__, 30)
    wait_for(
        "the export counter to move",
        lambda: float(instance.state(EXPORT_TODAY).json()["state"]),
        exported.__lt__,
        timeout=30,
    )


def is_stopped_as_unexpected(instance: Instance, calls: Calls, profile: str) -> None:
    """Make the calls; the monitor turns the export off unexpected_discharge, unforced."""
    wait_for(
        "an idle battery",
        lambda: instance.state(BATTERY_POWER).json()["state"],
        lambda state: state not in ("unknown", "unavailable"),
        timeout=30,
    )
    # The development set-up discharges by itself (auto discharge in the export window):
    # turned off first, so the only forced export is the one started by hand.
    call(instance, "switch.turn_off", {"entity_id": AUTO_DISCHARGE})
    call(instance, "export_monitor.stop_discharge", {})
    wait_for(
        "an idle monitor",
        lambda: instance.state(STATUS).json()["state"],
        "idle".__eq__,
        timeout=30,
    )
    for service, data in calls:
        call(instance, service, data)

    wait_for(
        "unexpected_discharge",
        lambda: instance.state(ERROR_STATE).json()["state"],
        "unexpected_discharge".__eq__,
        timeout=30,
    )
    if profile in TURNED_BACK:
        control, off = TURNED_BACK[profile]
        wait_for(
            f"{control} turned back to {off}",
            lambda: instance.state(control).json()["state"],
            off.__eq__,
            timeout=30,
        )
    wait_for("the battery to stop", lambda: battery_w(instance), (1000.0).__gt__, 30)


@pytest.mark.parametrize("profile", CASES)
def test_profile_drives_the_simulated_vendor(tmp_path: Path, profile: str) -> None:
    """The vendor's entities are served; a forced export through them moves the plant.

    Unless the monitor is set up for it: then it is turned off as unexpected.
    """
    with running(tmp_path, "--profile", profile) as instance:
        for entity in VENDORS[profile].entities:
            response = instance.state(entity.entity_id)
            assert response.status_code == 200, entity.entity_id
        # A profile the setup does not offer yet gets no monitor entry, only the vendor.
        health = instance.state("sensor.export_monitor_system_health")
        assert (health.status_code == 200) is (profile in OFFERED)
        if profile in OFFERED and CASES[profile] is not THROUGH_THE_MONITOR:
            is_stopped_as_unexpected(instance, CASES[profile], profile)
        else:
            starts_a_discharge(instance, CASES[profile])


@pytest.mark.skipif(
    not PROFILE_FLOW, reason="the profile flow and inverter.py are not on main"
)
@pytest.mark.parametrize("profile", MONITOR_DRIVES)
def test_monitor_drives_the_vendor(tmp_path: Path, profile: str) -> None:
    """export_monitor.start_discharge drives the vendor's own entities and services."""
    with running(tmp_path, "--profile", profile) as instance:
        starts_a_discharge(instance, THROUGH_THE_MONITOR)
        status = instance.state(STATUS).json()
        assert status["state"] == "active"
