"""The Fox ESS profile (foxess_modbus work mode plus power): its writes, in order."""

from __future__ import annotations

from custom_components.export_monitor.profiles import PROFILES
from custom_components.export_monitor.profiles.base import (
    EEPROM_WRITES_PER_DAY,
    BackstopKind,
    PowerMeaning,
    ReadBack,
    Role,
)
from custom_components.export_monitor.profiles.fox_ess import FOX_ESS
from custom_components.export_monitor.profiles.render import EntityFacts

from .steps import rendered, steps

POWER = ("set_number", "power", "power_kw")
CUTOFF = ("set_number", "cutoff", "cutoff")
FORCE = ("select", "mode", "Force Discharge")
SELF_USE = ("select", "mode", "Self Use")


def test_registered_with_its_integration_entities() -> None:
    """The flow can suggest each control from foxess_modbus's entities."""
    assert PROFILES["fox_ess"] is FOX_ESS
    assert FOX_ESS.roles == (Role.MODE, Role.POWER, Role.CUTOFF)
    assert {c.integration for c in FOX_ESS.controls} == {"foxess_modbus"}
    assert [c.suffix for c in FOX_ESS.controls] == [
        "work_mode",
        "force_discharge_power",
        "min_soc_on_grid",
    ]
    mode = FOX_ESS.control(Role.MODE)
    assert mode is not None
    assert mode.options == ("Force Discharge", "Self Use")


def test_start_writes_floor_and_power_then_selects_force_discharge() -> None:
    """The floor (the only dead-man) and the power first; the mode last."""
    assert steps(FOX_ESS.start) == [CUTOFF, POWER, FORCE]
    assert steps(FOX_ESS.set_power) == [POWER]
    assert steps(FOX_ESS.set_cutoff) == [CUTOFF]


def test_stop_selects_self_use_never_feed_in_first() -> None:
    """Feed-in First kept exporting (foxess_modbus#558): every stop path avoids it."""
    rungs = [steps(rung) for rung in FOX_ESS.stop_ladder]
    assert rungs == [[SELF_USE], [("set_number", "power", "zero_power")]]
    every_write = [
        *FOX_ESS.reconcile,
        *(w for rung in FOX_ESS.stop_ladder for w in rung),
    ]
    assert "Feed-in First" not in {w.value for w in every_write}


def test_restart_reconciles_to_self_use() -> None:
    """After a restart the watchdog left the inverter in Feed-in First: select Self Use."""
    assert steps(FOX_ESS.reconcile) == [SELF_USE]


def test_watchdog_falls_back_to_export_so_the_floor_is_needed() -> None:
    """The watchdog's fallback exports: only the SOC floor bounds a silent discharge."""
    backstop = FOX_ESS.backstop
    assert backstop.kind is BackstopKind.WATCHDOG
    assert backstop.fallback_exports
    assert backstop.max_s == 30.0
    assert FOX_ESS.needs_soc_floor
    assert FOX_ESS.set_cutoff
    assert FOX_ESS.keepalive == ()


def test_read_back_at_the_next_poll() -> None:
    """Every write is confirmed by polling, within one (30 s) poll."""
    writes = [*FOX_ESS.start, *FOX_ESS.reconcile, *FOX_ESS.stop_ladder[1]]
    assert {w.readback for w in writes} == {ReadBack.POLLED}
    assert FOX_ESS.readback_latency_s == 30.0
    assert FOX_ESS.running is not None
    assert FOX_ESS.running.role is Role.MODE
    assert FOX_ESS.running.on_states == ("Force Discharge",)


def test_power_is_ac_output_and_settings_wear_flash() -> None:
    """The setpoint is AC output (house load first); mode and floor are flash settings."""
    assert FOX_ESS.power_meaning is PowerMeaning.AC_OUTPUT
    flash = {c.role for c in FOX_ESS.controls if c.flash}
    assert flash == {Role.MODE, Role.CUTOFF}
    assert FOX_ESS.write_budget_per_day == EEPROM_WRITES_PER_DAY


IDS = {
    Role.MODE: "select.foxess_work_mode",
    Role.POWER: "number.foxess_force_discharge_power",
    Role.CUTOFF: "number.foxess_min_soc_on_grid",
}
FACTS = {
    IDS[Role.POWER]: EntityFacts(state="0", unit="kW", step=0.001),
    IDS[Role.CUTOFF]: EntityFacts(state="10", unit="%", step=1.0),
}


def test_rendered_start_and_stop_for_a_sample_plan() -> None:
    """3.2567 kW: floor 32 %, 3.256 kW, Force Discharge; stop and restart: Self Use."""
    assert rendered(FOX_ESS.start, IDS, FACTS) == [
        ("number.set_value", IDS[Role.CUTOFF], {"value": 32.0}),
        ("number.set_value", IDS[Role.POWER], {"value": 3.256}),
        ("select.select_option", IDS[Role.MODE], {"option": "Force Discharge"}),
    ]
    self_use = [("select.select_option", IDS[Role.MODE], {"option": "Self Use"})]
    assert rendered(FOX_ESS.stop_ladder[0], IDS, FACTS) == self_use
    assert rendered(FOX_ESS.reconcile, IDS, FACTS) == self_use
