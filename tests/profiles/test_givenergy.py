"""The GivEnergy profile (GivTCP slot and mode): its writes, in order."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from custom_components.export_monitor.profiles import PROFILES
from custom_components.export_monitor.profiles.base import (
    BackstopKind,
    PowerMeaning,
    ReadBack,
    Role,
)
from custom_components.export_monitor.profiles.givenergy import GIVENERGY
from custom_components.export_monitor.profiles.render import EntityFacts
from custom_components.export_monitor.profiles.suggest import (
    RegistryRow,
    suggest_controls,
)

from .steps import SAMPLE, rendered, steps

START_NOW = ("set_time", "slot_start", "now")
END = ("set_time", "slot_end", "end")
POWER = ("set_number", "power", "power_kw")
CUTOFF = ("set_number", "cutoff", "cutoff")
ECO = ("select", "mode", "Eco")
CLEAR = [("set_time", "slot_start", "00:00:00"), ("set_time", "slot_end", "00:00:00")]


def test_registered_with_givtcp_entities() -> None:
    """GivTCP's entities come by MQTT discovery; the clock sensor is optional."""
    assert PROFILES["givenergy"] is GIVENERGY
    assert {c.integration for c in GIVENERGY.controls} == {"mqtt"}
    assert {c.role: c.suffix for c in GIVENERGY.controls} == {
        Role.SLOT_START: "discharge_start_time_slot_1",
        Role.SLOT_END: "discharge_end_time_slot_1",
        Role.POWER: "battery_discharge_rate",
        Role.CUTOFF: "battery_power_reserve",
        Role.MODE: "mode",
        Role.CLOCK: "invertor_time",
    }
    clock = GIVENERGY.control(Role.CLOCK)
    assert clock is not None
    assert not clock.required
    mode = GIVENERGY.control(Role.MODE)
    assert mode is not None
    assert mode.options == ("Timed Export", "Eco")


def test_start_writes_the_slot_rate_and_reserve_then_the_mode() -> None:
    """The window first, then rate and reserve, Timed Export last."""
    assert steps(GIVENERGY.start) == [
        START_NOW,
        END,
        POWER,
        CUTOFF,
        ("select", "mode", "Timed Export"),
    ]
    assert steps(GIVENERGY.set_power) == [POWER]
    assert steps(GIVENERGY.keepalive) == [END]
    assert steps(GIVENERGY.set_cutoff) == [CUTOFF]


def test_stop_selects_eco_and_clears_the_daily_slot() -> None:
    """A slot left set fires again tomorrow: every stop path clears it, start first."""
    rungs = [steps(rung) for rung in GIVENERGY.stop_ladder]
    assert rungs == [[ECO, *CLEAR], CLEAR, [("set_number", "power", "zero_power")]]
    assert steps(GIVENERGY.reconcile) == [ECO, *CLEAR]


def test_the_slot_recurs_daily_on_the_inverter_clock_so_the_floor_is_needed() -> None:
    """Slot end on the inverter's clock, every day: the SOC floor is mandatory."""
    backstop = GIVENERGY.backstop
    assert backstop.kind is BackstopKind.SLOT_END
    assert backstop.inverter_clock
    assert backstop.recurs_daily
    assert not backstop.fallback_exports
    assert GIVENERGY.needs_soc_floor
    assert GIVENERGY.set_cutoff


def test_capabilities() -> None:
    """A rate cap, optimistic writes confirmed by polling, a flash budget."""
    assert GIVENERGY.power_meaning is PowerMeaning.RATE_CAP
    writes = [*GIVENERGY.start, *(w for rung in GIVENERGY.stop_ladder for w in rung)]
    assert {w.readback for w in writes} == {ReadBack.POLLED}
    assert GIVENERGY.readback_latency_s == 30.0
    assert GIVENERGY.write_budget_per_day == 45
    assert {c.role for c in GIVENERGY.controls if not c.flash} == {Role.CLOCK}
    assert GIVENERGY.running is not None
    assert GIVENERGY.running.on_states == ("Timed Export",)


IDS = {
    Role.SLOT_START: "select.givtcp_sa1234_discharge_start_time_slot_1",
    Role.SLOT_END: "select.givtcp_sa1234_discharge_end_time_slot_1",
    Role.POWER: "number.givtcp_sa1234_battery_discharge_rate",
    Role.CUTOFF: "number.givtcp_sa1234_battery_power_reserve",
    Role.MODE: "select.givtcp_sa1234_mode",
}
FACTS = {
    IDS[Role.POWER]: EntityFacts(state="2600", unit="W", step=1.0),
    IDS[Role.CUTOFF]: EntityFacts(state="4", unit="%", step=1.0),
}


def test_rendered_start_and_stop_for_a_sample_plan() -> None:
    """At 12:00 for 12 min: slot 12:00:00-12:12:00 (GivTCP's options are whole minutes)."""
    select = "select.select_option"
    values = replace(SAMPLE, backstop_minutes=12.0)
    assert rendered(GIVENERGY.start, IDS, FACTS, values) == [
        (select, IDS[Role.SLOT_START], {"option": "12:00:00"}),
        (select, IDS[Role.SLOT_END], {"option": "12:12:00"}),
        ("number.set_value", IDS[Role.POWER], {"value": 3256.0}),
        ("number.set_value", IDS[Role.CUTOFF], {"value": 32.0}),
        (select, IDS[Role.MODE], {"option": "Timed Export"}),
    ]
    assert rendered(GIVENERGY.stop_ladder[0], IDS, FACTS) == [
        (select, IDS[Role.MODE], {"option": "Eco"}),
        (select, IDS[Role.SLOT_START], {"option": "00:00:00"}),
        (select, IDS[Role.SLOT_END], {"option": "00:00:00"}),
    ]


def _mqtt(entity_id: str, unique_id: str, device_id: str) -> RegistryRow:
    """Return an MQTT-discovered entity, as GivTCP (or any MQTT device) publishes it."""
    return RegistryRow(
        entity_id=entity_id, platform="mqtt", unique_id=unique_id, device_id=device_id
    )


# GivTCP's discovery (HA_Discovery.py): unique_id "<prefix>_<serial>_<Item>", one
# device per inverter; slots also as time entities (unique_id + "_time").
GIVTCP_ROWS: Final = [
    _mqtt("select.givtcp_ce2146g123_mode", "GivTCP_CE2146G123_Mode", "inverter"),
    _mqtt(
        "select.givtcp_ce2146g123_battery_pause_mode",
        "GivTCP_CE2146G123_Battery_pause_mode",
        "inverter",
    ),
    *(
        _mqtt(
            f"{domain}.givtcp_ce2146g123_{item}",
            f"GivTCP_CE2146G123_{unique}",
            "inverter",
        )
        for item, unique in (
            ("discharge_start_time_slot_1", "Discharge_start_time_slot_1"),
            ("discharge_end_time_slot_1", "Discharge_end_time_slot_1"),
        )
        for domain, unique_suffix in (("select", ""), ("time", "_time"))
        for unique in (unique + unique_suffix,)
    ),
    _mqtt(
        "number.givtcp_ce2146g123_battery_discharge_rate",
        "GivTCP_CE2146G123_Battery_Discharge_Rate",
        "inverter",
    ),
    _mqtt(
        "number.givtcp_ce2146g123_battery_discharge_rate_ac",
        "GivTCP_CE2146G123_Battery_Discharge_Rate_AC",
        "inverter",
    ),
    _mqtt(
        "number.givtcp_ce2146g123_battery_power_reserve",
        "GivTCP_CE2146G123_Battery_Power_Reserve",
        "inverter",
    ),
    _mqtt(
        "sensor.givtcp_ce2146g123_invertor_time",
        "GivTCP_CE2146G123_Invertor_Time",
        "inverter",
    ),
]


def test_suggests_the_givtcp_inverter_over_other_mqtt_devices() -> None:
    """A thermostat's shorter "mode" select over MQTT is not taken for the inverter's."""
    thermostat = _mqtt("select.trv_mode", "0x00158d0001_mode", "thermostat")
    found = suggest_controls(GIVENERGY, [thermostat, *GIVTCP_ROWS])
    assert found == {
        "slot_start": "time.givtcp_ce2146g123_discharge_start_time_slot_1",
        "slot_end": "time.givtcp_ce2146g123_discharge_end_time_slot_1",
        "power": "number.givtcp_ce2146g123_battery_discharge_rate",
        "cutoff": "number.givtcp_ce2146g123_battery_power_reserve",
        "mode": "select.givtcp_ce2146g123_mode",
        "clock": "sensor.givtcp_ce2146g123_invertor_time",
    }
