"""Tests of the simulated vendor integrations: surfaces, writes to commands, polls, traps."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from sim.commands import (
    Command,
    SetCutoff,
    SetDuration,
    SetEnable,
    SetPower,
    apply_command,
)
from sim.plant import Plant
from sim.vendors import (
    VENDOR_KEYS,
    VENDORS,
    Vendor,
    VendorError,
    VendorSim,
    helper_config,
    vendor_sim,
)
from sim.vendors.huawei import HUAWEI_DEVICE

from .common import local, quiet_config, run_for

NOW = local(2025, 6, 10, 12)
ROLES = {
    "enable",
    "mode",
    "power",
    "cutoff",
    "timer",
    "trigger",
    "slot_start",
    "slot_end",
    "status",
    "clock",
    "repeat",
    "fallback",
}


def later(seconds: float) -> datetime:
    """Return NOW plus some seconds."""
    return NOW + timedelta(seconds=seconds)


def sim(key: str) -> VendorSim:
    """Return a vendor simulation at NOW."""
    return vendor_sim(key, NOW)


def started(power_kw: float, minutes: float = 0.0) -> list[Command]:
    """Return the commands of a start with no cutoff."""
    return [SetPower(power_kw), SetDuration(minutes), SetEnable(True)]


@pytest.mark.parametrize("key", VENDOR_KEYS)
def test_surface_is_consistent(key: str) -> None:
    """Unique ids and roles, known roles, initial states valid for their entity."""
    vendor = VENDORS[key]
    ids = [e.entity_id for e in vendor.entities]
    roles = [e.role for e in vendor.entities if e.role is not None]
    assert len(set(ids)) == len(ids)
    assert len(set(roles)) == len(roles)
    assert set(roles) <= ROLES
    for entity in vendor.entities:
        if entity.options:
            assert entity.initial in entity.options
        if entity.domain in ("number", "input_number"):
            assert entity.minimum <= float(entity.initial) <= entity.maximum
    assert vendor.key == key
    assert vendor.traps
    for entity_id, value in vendor.setup:
        assert (
            vendor.entity(entity_id).options == ()
            or value in vendor.entity(entity_id).options
        )


@pytest.mark.parametrize("key", VENDOR_KEYS)
def test_unknown_entity_and_service_refused(key: str) -> None:
    """A write to an entity or a call of a service the vendor has not is refused."""
    vendor = sim(key)
    with pytest.raises(VendorError, match="not an entity"):
        vendor.write("switch.nothing", "on", NOW)
    with pytest.raises(VendorError, match="no service"):
        vendor.call("nothing.at_all", {}, NOW)


def test_value_checks() -> None:
    """Out-of-range numbers, non-numbers, unknown options and bad states are refused."""
    fox = sim("fox_ess")
    for entity_id, value in (
        ("number.foxess_min_soc_on_grid", "5"),
        ("number.foxess_min_soc_on_grid", "many"),
        ("select.foxess_work_mode", "Turbo"),
    ):
        with pytest.raises(VendorError):
            fox.write(entity_id, value, NOW)
    with pytest.raises(VendorError):
        sim("sigenergy").write(
            "switch.sigen_plant_remote_ems_controlled_by_home_assistant", "maybe", NOW
        )
    with pytest.raises(KeyError):
        fox.value("trigger")


def test_generic_maps_each_role() -> None:
    """The helpers map one write to one command; the timer ending turns the switch off."""
    generic = sim("generic")
    controls = generic.vendor.controls
    assert generic.write(controls["power"], "2.5", NOW) == [SetPower(2.5)]
    assert generic.write(controls["cutoff"], "30", NOW) == [SetCutoff(30.0)]
    assert generic.write(controls["timer"], "15", NOW) == [SetDuration(15.0)]
    assert generic.write(controls["enable"], "on", NOW) == [SetEnable(True)]
    generic.tick(later(1), running=True)
    generic.tick(later(2), running=False)
    assert generic.states[controls["enable"]] == "off"
    assert generic.backstop_stops == 1


def test_generic_helper_config_matches_the_bridge() -> None:
    """The generic helpers are today's sim helpers."""
    from sim.bridge import helper_config as bridge_helpers  # noqa: PLC0415

    assert helper_config(VENDORS["generic"]) == bridge_helpers()
    assert helper_config(VENDORS["fox_ess"]) == {}


def test_alpha_duration_restarts_only_on_change() -> None:
    """Writing the same duration twice re-arms nothing (the package's quirk)."""
    alpha = sim("alpha_ess")
    timer = alpha.vendor.controls["timer"]
    assert alpha.write(timer, "20", NOW) == [SetDuration(20.0)]
    assert alpha.write(timer, "20", NOW) == []
    assert alpha.write(timer, "25", NOW) == [SetDuration(25.0)]


def test_alpha_cutoff_truncates_and_dispatch_reads_back_at_poll() -> None:
    """The cutoff register truncates; the dispatch sensors show a start at the next poll."""
    alpha = sim("alpha_ess")
    controls = alpha.vendor.controls
    [cutoff] = alpha.write(controls["cutoff"], "30", NOW)
    assert isinstance(cutoff, SetCutoff)
    assert 29.6 < cutoff.soc <= 30.0
    alpha.write(controls["power"], "2.5", NOW)
    alpha.write(controls["enable"], "on", NOW)
    alpha.tick(later(1), running=True)
    assert alpha.states["sensor.alphaess_dispatch_start"] == "0"
    alpha.tick(later(5), running=True)
    assert alpha.states["sensor.alphaess_dispatch_start"] == "1"
    assert alpha.states["sensor.alphaess_dispatch_active_power"] == "2500"


def test_fox_power_applies_at_next_poll_and_feed_in_first_keeps_exporting() -> None:
    """Force Discharge starts; a power change waits for the poll; Feed-in First stops nothing."""
    fox = sim("fox_ess")
    mode, power = fox.vendor.controls["mode"], fox.vendor.controls["power"]
    assert fox.write(power, "3", NOW) == []
    assert fox.write(mode, "Force Discharge", NOW) == started(3.0)
    assert fox.write(power, "2", NOW) == []
    assert fox.tick(later(5), running=True) == []
    assert fox.tick(later(10), running=True) == [SetPower(2.0)]
    assert fox.tick(later(20), running=True) == []
    assert fox.write(mode, "Feed-in First", later(21)) == []
    assert fox.write(mode, "Self Use", later(22)) == [SetEnable(False)]
    assert fox.write(fox.vendor.controls["cutoff"], "20", later(23)) == [
        SetCutoff(20.0)
    ]


def test_fox_restart_shows_feed_in_first_while_exporting() -> None:
    """After a restart mid-discharge the mode reads Feed-in First; nothing stops the export."""
    fox = sim("fox_ess")
    fox.write(fox.vendor.controls["mode"], "Force Discharge", NOW)
    fox.restart(later(60), running=True)
    assert fox.states["select.foxess_work_mode"] == "Feed-in First"
    assert not fox.forcing
    assert fox.tick(later(70), running=True) == []


def test_solax_local_parameters_and_trigger() -> None:
    """Parameters are local; the trigger sends them with the command timeout (s)."""
    solax = sim("solax")
    controls = solax.vendor.controls
    assert solax.write(controls["power"], "-3000", NOW) == []
    assert solax.write(controls["mode"], "Enabled Battery Control", NOW) == []
    assert solax.write(controls["timer"], "30", NOW) == []
    assert solax.write(controls["trigger"], "press", NOW) == started(3.0, 0.5)
    assert solax.states[controls["trigger"]] == NOW.isoformat()
    assert solax.states["sensor.solax_modbus_power_control"] == "Disabled"
    solax.tick(later(5), running=True)
    assert solax.states["sensor.solax_modbus_power_control"] == "Enabled Power Control"
    assert solax.write(controls["mode"], "Disabled", later(6)) == []
    assert solax.write(controls["trigger"], "press", later(7)) == [SetEnable(False)]
    assert solax.write(controls["cutoff"], "15", later(8)) == [SetCutoff(15.0)]


def test_solax_autorepeat_resends_until_its_end_and_restart_forgets_it() -> None:
    """The autorepeat re-sends every poll, ends with one Disabled block; a restart drops it."""
    solax = sim("solax")
    controls = solax.vendor.controls
    solax.write(controls["power"], "-2000", NOW)
    solax.write(controls["mode"], "Enabled Battery Control", NOW)
    solax.write("number.solax_remotecontrol_autorepeat_duration", "12", NOW)
    solax.write(controls["trigger"], "press", NOW)
    assert solax.tick(later(2), running=True) == []
    assert solax.tick(later(5), running=True) == started(2.0, 20 / 60)
    assert solax.tick(later(12), running=True) == [SetEnable(False)]
    assert solax.tick(later(15), running=False) == []
    solax.write(controls["trigger"], "press", later(16))
    solax.restart(later(17), running=True)
    assert solax.tick(later(30), running=True) == []


def test_huawei_forcible_discharge_and_summary_after_refresh() -> None:
    """The service starts with its duration; the summary shows it after the refresh."""
    huawei = sim("huawei")
    data = {"device_id": HUAWEI_DEVICE, "duration": 30, "power": 2500}
    assert huawei.call("huawei_solar.forcible_discharge", data, NOW) == started(
        2.5, 30.0
    )
    assert huawei.states["sensor.batteries_forcible_charge"] == "Stopped"
    huawei.tick(later(2), running=True)
    assert (
        huawei.states["sensor.batteries_forcible_charge"]
        == "Discharging at 2500W for 30 minutes"
    )
    huawei.tick(later(1800), running=False)
    huawei.tick(later(1830), running=False)
    assert huawei.states["sensor.batteries_forcible_charge"] == "Stopped"
    assert huawei.backstop_stops == 1


def test_huawei_soc_variant_has_no_time_bound() -> None:
    """forcible_discharge_soc sets a cutoff and no duration: the trap."""
    huawei = sim("huawei")
    data = {"device_id": HUAWEI_DEVICE, "target_soc": 40, "power": 2000}
    commands = huawei.call("huawei_solar.forcible_discharge_soc", data, NOW)
    assert commands == [
        SetPower(2.0),
        SetCutoff(40.0),
        SetDuration(0.0),
        SetEnable(True),
    ]
    huawei.tick(later(2), running=True)
    assert (
        huawei.states["sensor.batteries_forcible_charge"]
        == "Discharging at 2000W until 40%"
    )


@pytest.mark.parametrize(
    ("service", "data", "match"),
    [
        (
            "forcible_discharge",
            {"device_id": "other", "duration": 5, "power": 1},
            "not a Huawei",
        ),
        (
            "forcible_discharge",
            {"device_id": HUAWEI_DEVICE, "duration": 5, "power": 6000},
            "power",
        ),
        (
            "forcible_discharge",
            {"device_id": HUAWEI_DEVICE, "duration": 0, "power": 100},
            "duration",
        ),
        (
            "forcible_discharge",
            {"device_id": HUAWEI_DEVICE, "duration": "x", "power": 100},
            "integer",
        ),
        ("forcible_discharge", {"device_id": HUAWEI_DEVICE}, "needs duration, power"),
    ],
    ids=["device", "power", "duration", "not_integer", "missing"],
)
def test_huawei_refuses(service: str, data: dict[str, object], match: str) -> None:
    """The integration's validation: device, rated power, duration range, fields."""
    with pytest.raises(VendorError, match=match):
        sim("huawei").call(f"huawei_solar.{service}", data, NOW)


def test_huawei_stop_by_service_and_button() -> None:
    """Both stops write STOP, power 0, period 0."""
    huawei = sim("huawei")
    stop = [SetEnable(False), SetPower(0.0), SetDuration(0.0)]
    assert (
        huawei.call(
            "huawei_solar.stop_forcible_charge", {"device_id": HUAWEI_DEVICE}, NOW
        )
        == stop
    )
    assert huawei.write("button.batteries_stop_forcible_charge", "press", NOW) == stop
    assert huawei.write("number.batteries_end_of_discharge_soc", "15", NOW) == [
        SetCutoff(15.0)
    ]


def test_givenergy_slot_on_skewed_clock_recurs_daily() -> None:
    """The slot runs on the inverter's clock (90 s behind) and starts again the next day."""
    give = sim("givenergy")
    controls = give.vendor.controls
    assert give.write(controls["slot_start"], "12:00:00", NOW) == []
    assert give.write(controls["slot_end"], "12:10:00", NOW) == []
    assert give.write(controls["power"], "2000", NOW) == []
    assert (
        give.write(controls["mode"], "Timed Export", NOW) == []
    )  # inverter clock 11:58:30
    start = [SetPower(1.976), SetCutoff(4.0), SetDuration(0.0), SetEnable(True)]
    assert give.tick(later(90), running=False) == start
    assert give.tick(later(600), running=True) == []  # 12:10 by HA, 12:08:30 inverter
    assert give.tick(later(690), running=True) == [SetEnable(False)]
    assert give.tick(later(86400 + 100), running=False) == start
    assert give.write(controls["power"], "1000", later(86401 + 100)) == [
        SetPower(0.988)
    ]
    assert give.write(controls["cutoff"], "30", later(86402 + 100)) == [SetCutoff(30.0)]
    assert give.write(controls["mode"], "Eco", later(86403 + 100)) == [SetEnable(False)]
    assert give.states[controls["clock"]] == (later(86400 + 100 - 90)).isoformat()
    assert give.flash_writes == 7


def test_sigenergy_mode_needs_remote_ems_and_has_no_timer() -> None:
    """The mode is unavailable until remote EMS is on; a discharge has no duration."""
    sig = sim("sigenergy")
    controls = sig.vendor.controls
    assert sig.states[controls["mode"]] == "unavailable"
    with pytest.raises(VendorError, match="unavailable"):
        sig.write(controls["mode"], "Command Discharging (PV First)", NOW)
    assert sig.write(controls["enable"], "on", NOW) == []
    assert sig.write(controls["power"], "2.5", NOW) == []
    assert sig.write(controls["mode"], "Command Discharging (PV First)", NOW) == [
        SetPower(2.5),
        SetCutoff(10.0),
        SetDuration(0.0),
        SetEnable(True),
    ]
    assert sig.write(controls["power"], "2", NOW) == [SetPower(2.0)]
    assert sig.write(controls["cutoff"], "40", NOW) == [SetCutoff(40.0)]
    assert sig.write(controls["mode"], "Maximum Self Consumption", NOW) == [
        SetEnable(False)
    ]


def test_sigenergy_switch_off_returns_to_self_consumption() -> None:
    """Turning remote EMS off stops the discharge and resets the mode."""
    sig = sim("sigenergy")
    controls = sig.vendor.controls
    sig.write(controls["enable"], "on", NOW)
    sig.write(controls["mode"], "Command Discharging (ESS First)", NOW)
    assert sig.write(controls["enable"], "off", NOW) == [SetEnable(False)]
    assert sig.registers[controls["mode"]] == "Maximum Self Consumption"


def test_solaredge_remote_control_timeout_and_slow_readback() -> None:
    """Commands need Remote Control; a write reads back after the refresh; expiry falls back."""
    edge = sim("solaredge")
    controls = edge.vendor.controls
    control = "select.solaredge_i1_storage_control_mode"
    assert edge.states[controls["mode"]] == "unavailable"
    assert edge.write(control, "Remote Control", NOW) == []
    assert edge.write(controls["timer"], "900", NOW) == []
    assert edge.write(controls["power"], "1500", NOW) == []
    assert edge.write(controls["mode"], "Discharge to Maximize Export", NOW) == started(
        1.5, 15.0
    )
    assert edge.states[controls["mode"]] == "Maximize Self Consumption"  # refresh
    edge.tick(later(1), running=True)
    assert edge.states[controls["mode"]] == "Discharge to Maximize Export"
    assert edge.write(controls["power"], "1000", later(2)) == [SetPower(1.0)]
    edge.tick(later(3), running=True)  # the refresh after that write
    edge.tick(later(250), running=False)  # the timeout (scaled) ran out
    assert edge.registers[controls["mode"]] == "Maximize Self Consumption"
    assert edge.states[controls["mode"]] == "Discharge to Maximize Export"
    edge.tick(later(303), running=False)  # the 300 s scan
    assert edge.states[controls["mode"]] == "Maximize Self Consumption"
    assert edge.write(control, "Disabled", later(304)) == [SetEnable(False)]


def test_every_vendor_has_its_controls() -> None:
    """Each vendor offers the roles a forced export needs (a service stands in for some)."""
    needs: dict[str, set[str]] = {
        "generic": {"enable", "power", "cutoff", "timer"},
        "alpha_ess": {"enable", "power", "cutoff", "timer", "status"},
        "fox_ess": {"mode", "power", "cutoff"},
        "solax": {"mode", "power", "timer", "repeat", "trigger", "status", "cutoff"},
        "huawei": {"status", "cutoff"},
        "givenergy": {"mode", "slot_start", "slot_end", "power", "cutoff", "clock"},
        "sigenergy": {"enable", "mode", "power", "cutoff"},
        "solaredge": {"mode", "fallback", "timer", "power"},
    }
    assert {key: set(VENDORS[key].controls) for key in VENDOR_KEYS} == needs
    assert isinstance(VENDORS["huawei"], Vendor)
    assert [s.domain for s in VENDORS["huawei"].services] == ["huawei_solar"] * 3


def drive(plant: Plant, commands: list[Command]) -> None:
    """Send commands to the plant's inverter."""
    for command in commands:
        apply_command(plant, command)


def exported_after(plant: Plant, seconds: float) -> float:
    """Return the export (kWh) over the next seconds."""
    before = plant.truth().export_today_kwh
    run_for(plant, seconds)
    return plant.truth().export_today_kwh - before


def test_huawei_duration_ends_the_plants_export() -> None:
    """Through the plant: the service exports, the duration stops it, the summary follows."""
    plant = Plant(quiet_config(), local(2025, 6, 10, 22))
    huawei = vendor_sim("huawei", plant.now)
    data = {"device_id": HUAWEI_DEVICE, "duration": 2, "power": 3000}
    drive(plant, huawei.call("huawei_solar.forcible_discharge", data, plant.now))
    assert exported_after(plant, 60) > 0.03
    huawei.tick(plant.now, plant.published().controls.enabled)
    assert 0.03 < exported_after(plant, 120) < 0.05  # one more minute, then none
    drive(plant, huawei.tick(plant.now, plant.published().controls.enabled))
    assert huawei.backstop_stops == 1
    assert exported_after(plant, 60) == 0.0


def test_fox_export_survives_a_restart() -> None:
    """Through the plant: after a restart the Fox inverter keeps exporting (the trap)."""
    plant = Plant(quiet_config(), local(2025, 6, 10, 22))
    fox = vendor_sim("fox_ess", plant.now)
    drive(plant, fox.write("select.foxess_work_mode", "Force Discharge", plant.now))
    run_for(plant, 5)
    fox.restart(plant.now, plant.published().controls.enabled)
    assert exported_after(plant, 600) > 0.5
    assert fox.states["select.foxess_work_mode"] == "Feed-in First"
