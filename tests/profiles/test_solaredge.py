"""The SolarEdge profile (solaredge_modbus_multi storage control): its writes."""

from __future__ import annotations

from custom_components.export_monitor.profiles import PROFILES
from custom_components.export_monitor.profiles.base import (
    EEPROM_WRITES_PER_DAY,
    BackstopKind,
    PowerMeaning,
    ReadBack,
    Rearm,
    Role,
)
from custom_components.export_monitor.profiles.render import EntityFacts
from custom_components.export_monitor.profiles.solaredge import SOLAREDGE

from .steps import rendered, steps

TIMER = ("set_number", "timer", "timer_s")
POWER = ("set_number", "power", "power_kw")
EXPORT = ("select", "mode", "Discharge to Maximize Export")
SELF_CONSUMPTION = ("select", "mode", "Maximize Self Consumption")


def test_registered_with_its_integration_entities() -> None:
    """The flow can suggest each control from solaredge_modbus_multi's entities."""
    assert PROFILES["solaredge"] is SOLAREDGE
    assert {c.integration for c in SOLAREDGE.controls} == {"solaredge_modbus_multi"}
    assert {c.role: c.suffix for c in SOLAREDGE.controls} == {
        Role.MODE: "storage_command_mode",
        Role.FALLBACK: "storage_default_mode",
        Role.TIMER: "storage_command_timeout",
        Role.POWER: "storage_discharge_limit",
    }
    assert {c.role for c in SOLAREDGE.controls if c.flash} == {Role.FALLBACK}


def test_start_makes_the_fallback_safe_then_arms_the_command() -> None:
    """The default mode the timeout returns to is self-consumption, set first."""
    assert steps(SOLAREDGE.start) == [
        ("select", "fallback", "Maximize Self Consumption"),
        TIMER,
        POWER,
        EXPORT,
    ]
    assert steps(SOLAREDGE.set_power) == [POWER]
    assert SOLAREDGE.set_cutoff == ()


def test_rewriting_the_mode_re_arms_the_timeout() -> None:
    """The keep-alive writes the timeout and the command mode again."""
    assert steps(SOLAREDGE.keepalive) == [TIMER, EXPORT]
    backstop = SOLAREDGE.backstop
    assert backstop.kind is BackstopKind.COMMAND_TIMEOUT
    assert backstop.max_s == 86400.0
    assert backstop.rearm is Rearm.REWRITE_SAME
    assert not backstop.fallback_exports
    assert not SOLAREDGE.needs_soc_floor


def test_stop_ladder() -> None:
    """Self-consumption, then a 0 W discharge limit."""
    rungs = [steps(rung) for rung in SOLAREDGE.stop_ladder]
    assert rungs == [[SELF_CONSUMPTION], [("set_number", "power", "zero_power")]]
    assert steps(SOLAREDGE.reconcile) == [SELF_CONSUMPTION]


def test_read_back_only_at_the_next_scan() -> None:
    """A 300 s default scan: every write is confirmed by polling."""
    writes = [*SOLAREDGE.start, *SOLAREDGE.keepalive, *SOLAREDGE.stop_ladder[0]]
    assert {w.readback for w in writes} == {ReadBack.POLLED}
    assert SOLAREDGE.readback_latency_s == 300.0
    assert SOLAREDGE.running is not None
    assert SOLAREDGE.running.on_states == ("Discharge to Maximize Export",)


def test_capabilities() -> None:
    """A battery discharge limit; the default-mode setting counts against flash."""
    assert SOLAREDGE.power_meaning is PowerMeaning.BATTERY
    assert SOLAREDGE.write_budget_per_day == EEPROM_WRITES_PER_DAY


def test_rendered_start_for_a_sample_plan() -> None:
    """3.2567 kW for 12.5 min: a 750 s timeout, 3256 W, then the export mode."""
    ids = {
        Role.MODE: "select.solaredge_i1_storage_command_mode",
        Role.FALLBACK: "select.solaredge_i1_storage_default_mode",
        Role.TIMER: "number.solaredge_i1_storage_command_timeout",
        Role.POWER: "number.solaredge_i1_storage_discharge_limit",
    }
    facts = {
        ids[Role.POWER]: EntityFacts(state="0", unit="W", step=1.0),
        ids[Role.TIMER]: EntityFacts(state="3600", unit="s", step=1.0),
    }
    select = "select.select_option"
    assert rendered(SOLAREDGE.start, ids, facts) == [
        (select, ids[Role.FALLBACK], {"option": "Maximize Self Consumption"}),
        ("number.set_value", ids[Role.TIMER], {"value": 750}),
        ("number.set_value", ids[Role.POWER], {"value": 3256.0}),
        (select, ids[Role.MODE], {"option": "Discharge to Maximize Export"}),
    ]
