"""The Sigenergy profile (Remote EMS switch, control mode, kW limit): its writes."""

from __future__ import annotations

from custom_components.export_monitor.profiles import PROFILES
from custom_components.export_monitor.profiles.base import (
    BackstopKind,
    PowerMeaning,
    ReadBack,
    Role,
)
from custom_components.export_monitor.profiles.render import EntityFacts
from custom_components.export_monitor.profiles.sigenergy import SIGENERGY

from .steps import rendered, steps

CUTOFF = ("set_number", "cutoff", "cutoff")
POWER = ("set_number", "power", "power_kw")
DISCHARGING = ("select", "mode", "Command Discharging (PV First)")
SELF_CONSUMPTION = ("select", "mode", "Maximum Self Consumption")


def test_registered_with_its_integration_entities() -> None:
    """The flow can suggest each control from the sigen integration's entities."""
    assert PROFILES["sigenergy"] is SIGENERGY
    assert {c.integration for c in SIGENERGY.controls} == {"sigen"}
    assert {c.role: c.suffix for c in SIGENERGY.controls} == {
        Role.ENABLE: "remote_ems_controlled_by_home_assistant",
        Role.MODE: "remote_ems_control_mode",
        Role.POWER: "ess_max_discharging_limit",
        Role.CUTOFF: "ess_discharge_cut_off_state_of_charge",
    }
    mode = SIGENERGY.control(Role.MODE)
    assert mode is not None
    assert mode.options == (
        "Command Discharging (PV First)",
        "Maximum Self Consumption",
    )


def test_start_sets_the_floor_first_then_remote_ems_then_the_mode() -> None:
    """The floor is the dead-man: written before anything runs; the mode last."""
    assert steps(SIGENERGY.start) == [
        CUTOFF,
        ("turn_on", "enable", None),
        POWER,
        DISCHARGING,
    ]
    assert steps(SIGENERGY.set_power) == [POWER]
    assert steps(SIGENERGY.set_cutoff) == [CUTOFF]


def test_stop_ladder() -> None:
    """Self-consumption, then Remote EMS off, then a 0 kW limit."""
    rungs = [steps(rung) for rung in SIGENERGY.stop_ladder]
    assert rungs == [
        [SELF_CONSUMPTION],
        [("turn_off", "enable", None)],
        [("set_number", "power", "zero_power")],
    ]
    assert steps(SIGENERGY.reconcile) == [SELF_CONSUMPTION]


def test_no_backstop_the_floor_is_the_only_bound() -> None:
    """Remote EMS persists: no keep-alive, the SOC floor is mandatory."""
    assert SIGENERGY.backstop.kind is BackstopKind.NONE
    assert SIGENERGY.keepalive == ()
    assert SIGENERGY.needs_soc_floor


def test_never_a_floor_above_the_soc() -> None:
    """A cut-off above the SOC makes the plant import from the grid to reach it."""
    assert SIGENERGY.cutoff_above_soc_imports


def test_capabilities() -> None:
    """A battery limit, register read-back within 5 s, no documented flash wear."""
    assert SIGENERGY.power_meaning is PowerMeaning.BATTERY
    assert {w.readback for w in SIGENERGY.start} == {ReadBack.AT_ONCE}
    assert SIGENERGY.readback_latency_s == 5.0
    assert SIGENERGY.write_budget_per_day is None
    assert SIGENERGY.running is not None
    assert SIGENERGY.running.on_states == ("Command Discharging (PV First)",)


def test_rendered_start_for_a_sample_plan() -> None:
    """3.2567 kW with the floor at 31.2 %: floor 31.5 % (step 0.5 up), 3.256 kW."""
    ids = {
        Role.ENABLE: "switch.sigen_plant_remote_ems_controlled_by_home_assistant",
        Role.MODE: "select.sigen_plant_remote_ems_control_mode",
        Role.POWER: "number.sigen_plant_ess_max_discharging_limit",
        Role.CUTOFF: "number.sigen_plant_ess_discharge_cut_off_state_of_charge",
    }
    facts = {
        ids[Role.POWER]: EntityFacts(state="10", unit="kW", step=0.001),
        ids[Role.CUTOFF]: EntityFacts(state="5", unit="%", step=0.5),
    }
    assert rendered(SIGENERGY.start, ids, facts) == [
        ("number.set_value", ids[Role.CUTOFF], {"value": 31.5}),
        ("switch.turn_on", ids[Role.ENABLE], {}),
        ("number.set_value", ids[Role.POWER], {"value": 3.256}),
        (
            "select.select_option",
            ids[Role.MODE],
            {"option": "Command Discharging (PV First)"},
        ),
    ]
