"""Shared fixtures: a real hass with source sensors and helper entities as the inverter."""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
import os
from typing import Any, Final
from unittest.mock import PropertyMock, patch

from freezegun.api import TickingDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import Entity
from homeassistant.setup import async_setup_component
from hypothesis import HealthCheck, settings
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.export_monitor import stopper as stopper_module
from custom_components.export_monitor.const import (
    CONF_BATTERY_POWER_ENTITY,
    CONF_CUTOFF_SOC_ENTITY,
    CONF_DISCHARGE_DURATION_ENTITY,
    CONF_DISCHARGE_POWER_ENTITY,
    CONF_DISCHARGE_SWITCH_ENTITY,
    CONF_EXPORT_ENERGY_TODAY_ENTITY,
    CONF_EXPORT_METER_INTERVAL_SECONDS,
    CONF_EXPORT_METER_RESOLUTION_KWH,
    CONF_GRID_POWER_ENTITY,
    CONF_PV_ENERGY_TODAY_ENTITY,
    CONF_SOC_ENTITY,
    DEFAULT_TITLE,
    DOMAIN,
    EVENT_DISCHARGE_STARTED,
    EVENT_DISCHARGE_STOPPED,
)
from tests.discharge import (
    FAKE_CUTOFF,
    FAKE_DURATION,
    FAKE_ENABLE,
    FAKE_POWER,
    FakeControls,
    async_settle,
)

# -- a gate that does not flake on slow or loaded machines ------------------------------
#
# No test may depend on the machine's speed. Hypothesis: no deadlines and no health
# check that measures time or size ("loaded" in CI, derandomized as Hypothesis' own CI
# profile; "dev" elsewhere, random). Choose one with HYPOTHESIS_PROFILE=loaded or
# pytest --hypothesis-profile=loaded. A test that sets suppress_health_check replaces
# the profile's list: add LOADED_HEALTH_CHECKS to it.
LOADED_HEALTH_CHECKS: Final = (
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
)
settings.register_profile(
    "loaded",
    parent=settings.get_profile("ci"),
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=LOADED_HEALTH_CHECKS,
)
settings.register_profile(
    "dev", deadline=None, suppress_health_check=LOADED_HEALTH_CHECKS
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE")
    or ("loaded" if os.environ.get("CI") else "dev")
)
# A setup on a loaded machine, simulated on a ticking clock (fixture slow_setup): the
# time a test lets pass must count from now, not from the clock's start (freezegun's
# tick, tests/discharge.py clock_forward).
SLOW_SETUP: Final = timedelta(seconds=5)


# Waits in real time (a hanging control's timeout) are multiplied by this factor:
# EXPORT_MONITOR_TEST_TIME_SCALE=3 on a very slow machine. Healthy calls take about a
# millisecond, so the base values leave a wide margin even on a loaded machine.
TIME_SCALE: Final = float(os.environ.get("EXPORT_MONITOR_TEST_TIME_SCALE") or 1.0)


def real_seconds(seconds: float) -> float:
    """Return a real-time wait for a test, scaled for slow or loaded machines."""
    return seconds * TIME_SCALE


SOC = "sensor.battery_soc"
PV = "sensor.pv_energy_today"
EXPORT = "sensor.export_energy_today"
GRID = "sensor.grid_power"
BATTERY = "sensor.battery_power"
ENABLE = "input_boolean.force_discharge"
POWER = "input_number.discharge_power"
CUTOFF = "input_number.discharge_cutoff_soc"
DURATION = "input_number.discharge_duration"

SOC_ATTRS = {"unit_of_measurement": "%", "device_class": "battery"}
ENERGY_ATTRS = {"unit_of_measurement": "kWh", "device_class": "energy"}
POWER_ATTRS = {"unit_of_measurement": "W", "device_class": "power"}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom integrations in every test."""


@pytest.fixture(autouse=True)
def fast_stop_backoff() -> Generator[None]:
    """Keep the stop retries' backoff short so failing stops run quickly."""
    with patch.object(stopper_module, "STOP_BACKOFF_SECONDS", 0.001):
        yield


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Enable the entities that are off by default, for tests that read them."""
    with patch.object(
        Entity,
        "entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


def base_options() -> dict[str, Any]:
    """Return the options of a fully configured monitor."""
    return {
        CONF_SOC_ENTITY: SOC,
        CONF_PV_ENERGY_TODAY_ENTITY: PV,
        CONF_EXPORT_ENERGY_TODAY_ENTITY: EXPORT,
        CONF_GRID_POWER_ENTITY: GRID,
        CONF_BATTERY_POWER_ENTITY: BATTERY,
        CONF_DISCHARGE_SWITCH_ENTITY: ENABLE,
        CONF_DISCHARGE_POWER_ENTITY: POWER,
        CONF_CUTOFF_SOC_ENTITY: CUTOFF,
        CONF_DISCHARGE_DURATION_ENTITY: DURATION,
        # The simulated meters: a new value every 10 s, in Wh (3 decimals of kWh).
        CONF_EXPORT_METER_INTERVAL_SECONDS: 10,
        CONF_EXPORT_METER_RESOLUTION_KWH: 0.001,
    }


@pytest.fixture
def options() -> dict[str, Any]:
    """Return the entry options; tests may override this fixture."""
    return base_options()


@pytest.fixture
def config_entry(options: dict[str, Any]) -> MockConfigEntry:
    """Return the monitor's config entry."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=DEFAULT_TITLE,
        data={},
        options=options,
        version=1,
        minor_version=1,
        entry_id="01JEXPORTMONITOR0000000000",
    )


def set_sources(
    hass: HomeAssistant,
    *,
    soc: str = "80",
    pv: str = "12",
    export: str = "3",
    grid: str = "0",
    battery: str = "0",
) -> None:
    """Write every source sensor's state."""
    hass.states.async_set(SOC, soc, SOC_ATTRS)
    hass.states.async_set(PV, pv, ENERGY_ATTRS)
    hass.states.async_set(EXPORT, export, ENERGY_ATTRS)
    hass.states.async_set(GRID, grid, POWER_ATTRS)
    hass.states.async_set(BATTERY, battery, POWER_ATTRS)


async def async_setup_inverter(hass: HomeAssistant) -> None:
    """Create the inverter's controls as real helper entities."""
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"force_discharge": {}}}
    )
    assert await async_setup_component(
        hass,
        "input_number",
        {
            "input_number": {
                "discharge_power": {
                    "min": 0,
                    "max": 10,
                    "step": 0.1,
                    "unit_of_measurement": "kW",
                },
                "discharge_cutoff_soc": {
                    "min": 0,
                    "max": 100,
                    "step": 1,
                    "unit_of_measurement": "%",
                    "initial": 10,
                },
                "discharge_duration": {
                    "min": 0,
                    "max": 1440,
                    "step": 1,
                    "unit_of_measurement": "min",
                },
            }
        },
    )


async def async_setup_missing_a_source(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Set up an entry whose PV source is missing: set-up waits (and retries)."""
    set_sources(hass)
    await async_setup_inverter(hass)
    hass.states.async_remove(PV)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await async_settle(hass)


@pytest.fixture
async def inverter(hass: HomeAssistant) -> None:
    """Provide healthy sources and the helper-entity inverter."""
    set_sources(hass)
    await async_setup_inverter(hass)


def register_unloaded_sources(hass: HomeAssistant, *entity_ids: str) -> None:
    """Register sources as entities of an integration that is not loaded.

    Call before the sources have a state. Their silence is then staleness, never the
    quiet of a sensor that writes only on change (logic/freshness.py).
    """
    other = MockConfigEntry(domain="meter_cloud", state=ConfigEntryState.NOT_LOADED)
    other.add_to_hass(hass)
    registry = er.async_get(hass)
    for entity_id in entity_ids:
        domain, _, object_id = entity_id.partition(".")
        entry = registry.async_get_or_create(
            domain,
            "meter_cloud",
            object_id,
            suggested_object_id=object_id,
            config_entry=other,
        )
        assert entry.entity_id == entity_id


@pytest.fixture
def unloaded_sources(hass: HomeAssistant) -> None:
    """Make SOC, PV and export sources of an integration that is not loaded."""
    register_unloaded_sources(hass, SOC, PV, EXPORT)


@pytest.fixture
def slow_setup(freezer: TickingDateTimeFactory) -> None:
    """Let SLOW_SETUP of real time pass on the ticking clock, as a busy machine does.

    Request it before the fixtures whose setup it stands for (a ticking clock's
    time passes when `real now - start` grows).
    """
    freezer.start -= SLOW_SETUP


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, inverter: None, config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set up the integration and return its entry."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


@pytest.fixture
def fake_controls(hass: HomeAssistant) -> FakeControls:
    """Provide a fake enable switch and numbers (their services come after setup)."""
    hass.states.async_set(FAKE_ENABLE, "off")
    hass.states.async_set(FAKE_POWER, "0", {"unit_of_measurement": "kW", "step": 0.1})
    hass.states.async_set(FAKE_CUTOFF, "10", {"unit_of_measurement": "%", "step": 1})
    hass.states.async_set(FAKE_DURATION, "0", {"unit_of_measurement": "min", "step": 1})
    return FakeControls(hass)


@pytest.fixture
async def fake_integration(
    hass: HomeAssistant,
    inverter: None,
    fake_controls: FakeControls,
    config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """Set up the entry, then let the fake controls answer switch and number calls."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    fake_controls.install()
    return config_entry


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many fault-matrix runs this session made, and the export beyond the allowance."""
    markers = ("test_fault_matrix.py::test_fault[", "::test_control_surface_fault[")
    reports = [
        report
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", None) == "call"
        and any(marker in report.nodeid for marker in markers)
    ]
    if not reports:
        return
    # Ids are "<profile>-<case>-<mode>": count each from what actually ran.
    runs = [
        report.nodeid.rpartition("[")[2].rstrip("]").split("-") for report in reports
    ]
    profiles = sorted({run[0] for run in runs})
    cases = {tuple(run[:2]) for run in runs}
    modes = {run[2] for run in runs}
    passed = sum(1 for report in reports if report.passed)
    breaches = {
        report.nodeid.rpartition("[")[2].rstrip("]"): float(value)
        for report in reports
        for name, value in report.user_properties
        if name == "breach_kwh"
    }
    beyond = {run: kwh for run, kwh in breaches.items() if kwh > 1e-9}
    terminalreporter.write_line(
        f"fault matrix: {len(cases)} cases ({len(profiles)} profiles:"
        f" {', '.join(profiles)}) x {len(modes)} modes = {len(runs)} runs"
        f" ({passed} passed); beyond the allowance:"
        f" {max(breaches.values(), default=0.0):.3f} kWh at most"
    )
    for run, kwh in sorted(beyond.items()):
        terminalreporter.write_line(f"  {run}: {kwh:.3f} kWh beyond the allowance")


@pytest.fixture
def started(hass: HomeAssistant) -> list[Event]:
    """Capture the discharge started events."""
    return async_capture_events(hass, EVENT_DISCHARGE_STARTED)


@pytest.fixture
def stopped(hass: HomeAssistant) -> list[Event]:
    """Capture the discharge stopped events."""
    return async_capture_events(hass, EVENT_DISCHARGE_STOPPED)


@pytest.fixture
def service_calls(hass: HomeAssistant) -> list[Event]:
    """Capture every service call from now on."""
    return async_capture_events(hass, EVENT_CALL_SERVICE)
