"""The Alpha ESS profile (alphaess_modbus switch plus numbers): its writes, in order."""

from __future__ import annotations

from custom_components.export_monitor.profiles import PROFILES
from custom_components.export_monitor.profiles.alpha_ess import ALPHA_ESS
from custom_components.export_monitor.profiles.base import (
    BackstopKind,
    PowerMeaning,
    ReadBack,
    Rearm,
    Role,
)
from custom_components.export_monitor.profiles.render import EntityFacts

from .steps import rendered, steps

POWER = ("set_number", "power", "power_kw")
CUTOFF = ("set_number", "cutoff", "cutoff")
TIMER = ("set_number", "timer", "timer")
ON = ("turn_on", "enable", None)
OFF = ("turn_off", "enable", None)


def test_registered_with_its_integration_entities() -> None:
    """The flow can suggest each control from alphaess_modbus's entities."""
    assert PROFILES["alpha_ess"] is ALPHA_ESS
    assert ALPHA_ESS.roles == (Role.ENABLE, Role.POWER, Role.CUTOFF, Role.TIMER)
    assert {c.integration for c in ALPHA_ESS.controls} == {"alphaess_modbus"}
    assert [c.suffix for c in ALPHA_ESS.controls] == [
        "force_discharging",
        "force_discharging_power",
        "force_discharging_cutoff_soc",
        "force_discharging_duration",
    ]
    assert all(c.required for c in ALPHA_ESS.controls)


def test_start_writes_parameters_then_turns_on() -> None:
    """Power, cutoff and duration first; the switch last, so a broken start is inert."""
    assert steps(ALPHA_ESS.start) == [POWER, CUTOFF, TIMER, ON]
    assert steps(ALPHA_ESS.set_power) == [POWER]
    assert steps(ALPHA_ESS.set_cutoff) == [CUTOFF]


def test_keepalive_rewrites_a_changed_duration_and_turns_on_again() -> None:
    """The dispatch duration is refreshed only when its value changes."""
    assert steps(ALPHA_ESS.keepalive) == [TIMER, ON]
    assert ALPHA_ESS.backstop.rearm is Rearm.REWRITE_CHANGED


def test_stop_ladder_off_then_power_zero_then_shortest_timer() -> None:
    """Rung 0 resets the dispatch; the fallbacks stop the flow or end the timer."""
    rungs = [steps(rung) for rung in ALPHA_ESS.stop_ladder]
    assert rungs == [[OFF], [("set_number", "power", "zero_power")], [TIMER]]


def test_restart_adopts_and_stops() -> None:
    """The integration forgets its switch state on restart: reconcile switches off."""
    assert steps(ALPHA_ESS.reconcile) == [OFF]


def test_capabilities() -> None:
    """Battery power, a 480 min dispatch duration, RAM writes, a truncating cutoff."""
    assert ALPHA_ESS.running is not None
    assert ALPHA_ESS.running.role is Role.ENABLE
    assert ALPHA_ESS.running.on_states == ("on",)
    assert ALPHA_ESS.power_meaning is PowerMeaning.BATTERY
    assert ALPHA_ESS.backstop.kind is BackstopKind.DURATION
    assert ALPHA_ESS.backstop.max_s == 8 * 3600
    assert not ALPHA_ESS.backstop.fallback_exports
    assert not ALPHA_ESS.needs_soc_floor
    assert ALPHA_ESS.readback_latency_s == 5.0
    assert {w.readback for w in ALPHA_ESS.start} == {ReadBack.AT_ONCE}


def test_traps() -> None:
    """No flash writes (dispatch registers are RAM); the truncated cutoff is asked 1 % up."""
    assert ALPHA_ESS.write_budget_per_day is None
    assert not any(c.flash for c in ALPHA_ESS.controls)
    assert ALPHA_ESS.cutoff_raise_pct == 1.0
    assert ALPHA_ESS.cutoff_needs_rearm  # the dispatch block takes its SOC at a re-arm
    assert not ALPHA_ESS.cutoff_above_soc_imports


IDS = {
    Role.ENABLE: "switch.alphaess_inverter_force_discharging",
    Role.POWER: "number.alphaess_inverter_force_discharging_power",
    Role.CUTOFF: "number.alphaess_inverter_force_discharging_cutoff_soc",
    Role.TIMER: "number.alphaess_inverter_force_discharging_duration",
}
FACTS = {
    IDS[Role.POWER]: EntityFacts(state="0", unit="kW", step=0.1),
    IDS[Role.CUTOFF]: EntityFacts(state="10", unit="%", step=1.0),
    IDS[Role.TIMER]: EntityFacts(state="0", unit="min", step=5.0),
}


def test_rendered_start_for_a_sample_plan() -> None:
    """3.2567 kW for 12.5 min: 3.2 kW, floor 32 %, 10 min (step 5), then on."""
    assert rendered(ALPHA_ESS.start, IDS, FACTS) == [
        ("number.set_value", IDS[Role.POWER], {"value": 3.2}),
        ("number.set_value", IDS[Role.CUTOFF], {"value": 32.0}),
        ("number.set_value", IDS[Role.TIMER], {"value": 10.0}),
        ("switch.turn_on", IDS[Role.ENABLE], {}),
    ]
    assert rendered(ALPHA_ESS.stop_ladder[0], IDS, FACTS) == [
        ("switch.turn_off", IDS[Role.ENABLE], {})
    ]
