"""The SOC floor: a dead-man for inverters without a timer, learned and kept safe."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Final
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor.const import (
    CONF_BATTERY_POWER_ENTITY,
    CONF_DISCHARGE_DURATION_ENTITY,
)
from custom_components.export_monitor.floor import floor_store_key
from custom_components.export_monitor.logic.latency import WATCH_SPAN
from tests import resilience
from tests.conftest import CUTOFF, ENABLE, base_options
from tests.discharge import async_call
from tests.resilience import (
    ENTRY_ID,
    ERROR,
    METER_STEP,
    Behaviour,
    Plant,
    Rig,
    async_heal,
    async_setup_rig,
    notices,
    state_of,
)
from tests.vendors.generic import GenericSim

MIN_SOC: Final = 20.0


@dataclass(kw_only=True)
class TimerlessSim(GenericSim):
    """The generic helpers on an inverter with no timer of its own: the cutoff alone."""

    def _timer_end(self) -> None:
        """Return None: nothing ends the discharge but the cutoff."""


def run_alone(plant: Plant, seconds: float, allowance_kwh: float) -> None:
    """Let the inverter run on with nobody sending it anything."""
    for _ in range(int(seconds / METER_STEP.total_seconds())):
        plant.follow_inverter()
        plant.flow(METER_STEP.total_seconds(), allowance_kwh)


def without_timer(**changes: Any) -> dict[str, Any]:
    """Return options of an inverter with no timer of its own."""
    options = {**base_options(), **changes}
    del options[CONF_DISCHARGE_DURATION_ENTITY]
    return options


async def async_floor_rig(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    **site: Any,
) -> tuple[Rig, Plant]:
    """Set up the rig on a site whose inverter only stops at its cutoff."""
    rig = await async_setup_rig(hass, freezer, entry, sim=TimerlessSim, **site)
    await rig.async_run(30)
    return rig, rig.plant


@pytest.fixture
def true_capacity(request: pytest.FixtureRequest) -> Generator[float]:
    """Give the simulated battery a capacity (10 kWh, as declared, by default)."""
    capacity = float(getattr(request, "param", 10.0))
    with patch.object(resilience, "KWH_PER_PERCENT", capacity / 100.0):
        yield capacity


def allowance(rig: Rig) -> float:
    """Return the site's allowance today."""
    return rig.plant.pv_kwh - rig.plant.margin_kwh(rig.entry)


@pytest.mark.parametrize("options", [without_timer()])
@pytest.mark.parametrize(
    "true_capacity",
    [10.0, 20.0],
    ids=["as_declared", "twice_the_declared"],
    indirect=True,
)
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_home_assistant_dies_right_after_the_start_without_a_timer(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    true_capacity: float,
) -> None:
    """No timer, no more commands: the inverter runs to the floor within the allowance."""
    rig, plant = await async_floor_rig(
        hass, freezer, config_entry, pv_kwh=4.1, export_kwh=2.6
    )
    await async_call(hass, "start_discharge", power_kw=3.0)
    assert hass.states.get("input_boolean.force_discharge").state == "on"
    run_alone(plant, 3 * 3600, allowance(rig))
    assert plant.soc > MIN_SOC
    assert plant.export_kwh <= allowance(rig)
    assert plant.breach_kwh == 0.0
    await async_heal(rig)


def cutoff(hass: HomeAssistant) -> float:
    """Return the inverter's cutoff SOC as it reads now."""
    return float(hass.states.get(CUTOFF).state)


@pytest.mark.parametrize("options", [without_timer()])
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_floor_follows_a_whole_discharge_and_min_soc_comes_back(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """Lowered as the battery goes down to it; min SOC back once the stop's watch ends."""
    rig, plant = await async_floor_rig(
        hass, freezer, config_entry, pv_kwh=8.1, export_kwh=2.6
    )
    await async_call(hass, "start_discharge", power_kw=3.0)
    first = cutoff(hass)
    assert MIN_SOC < first < plant.soc
    seen = [first]
    for _ in range(6 * 60):
        await rig.async_run(30)
        seen.append(cutoff(hass))
        if rig.stopped:
            break
    assert rig.reasons in (("headroom_exhausted",), ("target_reached",))
    assert min(seen[:-1]) < first  # lowered while it ran
    await rig.async_run(30)  # no flow: the battery rests at the floor, no proof
    assert cutoff(hass) > MIN_SOC  # held: a late stop must not find it freed
    await rig.async_run(WATCH_SPAN.total_seconds())
    assert cutoff(hass) == MIN_SOC  # the user's min SOC is back after the watch
    assert plant.breach_kwh == 0.0
    await async_heal(rig)


@pytest.mark.parametrize("options", [without_timer()])
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_floor_lowered_when_pv_raises_the_allowance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """More PV, more headroom: the floor goes down once the SOC comes near it.

    Lowered only when worth a write: when the SOC comes within 3 steps of it; then
    as far as the larger allowance lets it (less one step kept against jitter).
    """
    rig, plant = await async_floor_rig(
        hass, freezer, config_entry, pv_kwh=4.1, export_kwh=2.6
    )
    await async_call(hass, "start_discharge", power_kw=0.5)
    first = cutoff(hass)
    for _ in range(360):  # 60 minutes of 3.6 kW of PV: 3.6 kWh more allowance
        plant.pv_kwh += 0.01
        await rig.async_step()
    # The discharge alone (0.5 kWh) would lower it by about 2.3 %.
    assert cutoff(hass) <= first - 6.0
    assert rig.reasons == ()
    # HA dies now: the battery still stops within the larger allowance.
    run_alone(plant, 3 * 3600, allowance(rig))
    assert plant.breach_kwh == 0.0
    await async_heal(rig)


def learned(hass_storage: dict[str, Any]) -> dict[str, Any]:
    """Return what the monitor stored of its battery."""
    return dict(hass_storage[floor_store_key(ENTRY_ID)]["data"]["learning"])


@pytest.mark.parametrize("options", [without_timer()])
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
@pytest.mark.parametrize("true_capacity", [20.0], indirect=True)
async def test_a_battery_twice_the_declared_is_learned_and_kept_safe(
    hass: HomeAssistant,
    true_capacity: float,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Declared 10 kWh, really 20: measured in the first discharge, the floor stays safe."""
    rig, plant = await async_floor_rig(
        hass, freezer, config_entry, pv_kwh=8.1, export_kwh=2.6
    )
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(40 * 60)  # 2 kWh: 10 % of the true battery
    await async_call(hass, "stop_discharge")
    await rig.async_run(60)
    measured = learned(hass_storage)["battery_kwh"]
    assert 0.2 <= measured <= 0.25
    assert cutoff(hass) == MIN_SOC
    # A second discharge, and Home Assistant dies right after its start.
    await async_call(hass, "start_discharge", power_kw=3.0)
    run_alone(plant, 3 * 3600, allowance(rig))
    assert plant.breach_kwh == 0.0
    assert plant.export_kwh <= allowance(rig)
    await async_heal(rig)


@pytest.mark.parametrize("options", [without_timer()])
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_what_was_learned_survives_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A battery measured as declared: after a restart the floor uses the measurement."""
    hass_storage[floor_store_key(ENTRY_ID)] = {
        "version": 1,
        "key": floor_store_key(ENTRY_ID),
        "data": {"learning": {"battery_kwh": 0.1, "export_kwh": None}},
    }
    rig, plant = await async_floor_rig(
        hass, freezer, config_entry, pv_kwh=4.1, export_kwh=2.6
    )
    await async_call(hass, "start_discharge", power_kw=3.0)
    # 1 kWh of headroom at 0.11 kWh per percent (not 0.22 unmeasured): 9 % below.
    assert cutoff(hass) == pytest.approx(plant.soc - 8.0, abs=1.0)
    run_alone(plant, 3 * 3600, allowance(rig))
    assert plant.breach_kwh == 0.0
    await async_heal(rig)


async def async_cutoff_breaks(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> tuple[Rig, float]:
    """Start a discharge, then break the cutoff; return the rig and the floor written."""
    rig, _ = await async_floor_rig(hass, freezer, entry, pv_kwh=8.1, export_kwh=2.6)
    await async_call(hass, "start_discharge", power_kw=3.0)
    rig.controls.break_entity(CUTOFF, Behaviour.RAISE)
    return rig, cutoff(hass)


@pytest.mark.parametrize("options", [without_timer()])
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_a_floor_that_cannot_be_moved_stops_the_discharge(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """The cutoff write fails while lowering: fail closed, and say why.

    The floor is lowered once the SOC comes near it (3 steps), some 40 minutes in.
    """
    rig, first = await async_cutoff_breaks(hass, freezer, config_entry)
    for _ in range(90):
        await rig.async_run(60)
        if rig.stopped:
            break
    assert rig.reasons == ("actuator_unavailable",)
    assert state_of(hass, ERROR) == "cutoff_soc_set_failed"
    assert state_of(hass, ENABLE) == "off"
    assert cutoff(hass) == first  # left high: safe
    assert rig.plant.breach_kwh == 0.0
    await async_heal(rig)


@pytest.mark.parametrize("options", [without_timer()])
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_min_soc_that_cannot_be_restored_is_reported(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """The stop holds; the floor left on the cutoff is safe, and the user is told."""
    rig, first = await async_cutoff_breaks(hass, freezer, config_entry)
    await async_call(hass, "stop_discharge")
    await rig.async_run(30)  # min SOC is written back once the flow has ended
    assert rig.reasons == ("user",)
    assert state_of(hass, ENABLE) == "off"
    assert cutoff(hass) == first
    assert state_of(hass, ERROR) == "cutoff_soc_set_failed"
    assert "cutoff_soc_set_failed" in notices(hass)
    await async_heal(rig)


@pytest.mark.parametrize("options", [without_timer(**{CONF_BATTERY_POWER_ENTITY: ""})])
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_without_battery_power_the_export_counter_is_measured(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A lower bound: stored, but the floor keeps assuming twice the declared capacity."""
    rig, plant = await async_floor_rig(
        hass, freezer, config_entry, pv_kwh=8.1, export_kwh=2.6
    )
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(20 * 60)  # 1 kWh: 10 % of the battery
    assert learned(hass_storage)["battery_kwh"] is None
    assert 0.1 <= learned(hass_storage)["export_kwh"] <= 0.13
    await async_call(hass, "stop_discharge")
    await rig.async_run(60)
    await async_call(hass, "start_discharge", power_kw=3.0)
    headroom = allowance(rig) - plant.export_kwh
    # Still 0.22 kWh per percent assumed: no more than the headroom's worth below.
    assert cutoff(hass) >= plant.soc - headroom / 0.22 - 1.0
    run_alone(plant, 3 * 3600, allowance(rig))
    assert plant.breach_kwh == 0.0
    await async_heal(rig)
