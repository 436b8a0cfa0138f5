"""The SolaX profile (solax_modbus mode 1 remote control): its writes, in order."""

from __future__ import annotations

from custom_components.export_monitor.profiles import PROFILES
from custom_components.export_monitor.profiles.base import (
    BackstopKind,
    PowerMeaning,
    Rearm,
    Role,
)
from custom_components.export_monitor.profiles.render import EntityFacts
from custom_components.export_monitor.profiles.solax import SOLAX

from .steps import rendered, steps

POWER = ("set_number", "power", "neg_power_w")
BATTERY = ("select", "mode", "Enabled Battery Control")
DISABLED = ("select", "mode", "Disabled")
REPEAT = ("set_number", "repeat", "timer_s")
PRESS = ("press", "trigger", None)


def test_registered_with_its_integration_entities() -> None:
    """The flow can suggest each control from solax_modbus's remote-control entities."""
    assert PROFILES["solax"] is SOLAX
    assert {c.integration for c in SOLAX.controls} == {"solax_modbus"}
    assert {c.role: c.suffix for c in SOLAX.controls} == {
        Role.MODE: "remotecontrol_power_control",
        Role.POWER: "remotecontrol_active_power",
        Role.TIMER: "remotecontrol_duration",
        Role.REPEAT: "remotecontrol_autorepeat_duration",
        Role.TRIGGER: "remotecontrol_trigger",
        Role.STATUS: "modbus_power_control",
    }
    mode = SOLAX.control(Role.MODE)
    assert mode is not None
    assert mode.options == ("Enabled Battery Control", "Disabled")
    status = SOLAX.control(Role.STATUS)
    assert status is not None
    assert not status.required


def test_start_writes_parameters_then_presses_the_trigger() -> None:
    """Negative battery power, the mode, a 30 s command, the run length, then press."""
    assert steps(SOLAX.start) == [
        POWER,
        BATTERY,
        ("set_number", "timer", 30),
        REPEAT,
        PRESS,
    ]
    assert steps(SOLAX.set_power) == [POWER]
    assert SOLAX.set_cutoff == ()


def test_the_command_expires_within_seconds_so_it_is_kept_alive() -> None:
    """A 30 s command on the inverter, re-sent every 15 s by re-pressing the trigger."""
    assert steps(SOLAX.keepalive) == [REPEAT, PRESS]
    backstop = SOLAX.backstop
    assert backstop.kind is BackstopKind.COMMAND_TIMEOUT
    assert backstop.max_s == 30.0
    assert backstop.keepalive_s == 15.0
    assert backstop.rearm is Rearm.REWRITE_SAME
    assert not backstop.fallback_exports
    assert not SOLAX.needs_soc_floor


def test_stop_sends_disabled_then_zero_power() -> None:
    """Rung 0 sends Disabled (it also ends the autorepeat); rung 1 sends 0 W."""
    rungs = [steps(rung) for rung in SOLAX.stop_ladder]
    assert rungs == [[DISABLED, PRESS], [("set_number", "power", "zero_power"), PRESS]]
    assert steps(SOLAX.reconcile) == [DISABLED, PRESS]


def test_running_from_the_register_not_the_local_select() -> None:
    """Every computed mode reads back as Enabled Power Control (register 0x100)."""
    assert SOLAX.running is not None
    assert SOLAX.running.role is Role.STATUS
    assert SOLAX.running.prefix
    assert "Enabled Power Control".startswith(SOLAX.running.on_states)
    assert not "Disabled".startswith(SOLAX.running.on_states)


def test_capabilities() -> None:
    """Battery power, RAM writes (no budget), a 15 s scan."""
    assert SOLAX.power_meaning is PowerMeaning.BATTERY
    assert SOLAX.write_budget_per_day is None
    assert not any(c.flash for c in SOLAX.controls)
    assert SOLAX.readback_latency_s == 15.0


IDS = {
    Role.MODE: "select.solax_remotecontrol_power_control",
    Role.POWER: "number.solax_remotecontrol_active_power",
    Role.TIMER: "number.solax_remotecontrol_duration",
    Role.REPEAT: "number.solax_remotecontrol_autorepeat_duration",
    Role.TRIGGER: "button.solax_remotecontrol_trigger",
}
FACTS = {
    IDS[Role.POWER]: EntityFacts(state="0", unit="W", step=100.0),
    IDS[Role.TIMER]: EntityFacts(state="20", unit="s", step=1.0),
}


def test_rendered_start_for_a_sample_plan() -> None:
    """3.2567 kW for 12.5 min: -3256 W, 30 s command, repeated for 750 s."""
    assert rendered(SOLAX.start, IDS, FACTS) == [
        ("number.set_value", IDS[Role.POWER], {"value": -3256}),
        ("select.select_option", IDS[Role.MODE], {"option": "Enabled Battery Control"}),
        ("number.set_value", IDS[Role.TIMER], {"value": 30}),
        ("number.set_value", IDS[Role.REPEAT], {"value": 750}),
        ("button.press", IDS[Role.TRIGGER], {}),
    ]
