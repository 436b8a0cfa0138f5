"""scripts/develop end to end: a real Home Assistant, the REST API and the dashboard in chromium."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from functools import partial
from pathlib import Path
import time
from typing import Any, Final

from playwright.sync_api import Page, expect
import pytest
import yaml

from sim.bridge import CONTROL_ENTITIES, SENSOR_ENTITIES
from tests.e2e.server import (
    ROOT,
    STOP_TIMEOUT,
    Instance,
    develop,
    log_in_page,
    process_ended,
    running,
    wait_for,
)

MONITOR_ENTITIES: Final = (
    "sensor.export_monitor_system_health",
    "sensor.export_monitor_error_state",
    # data_staleness and circuit_breaker_status are off by default (the registry has
    # them, the state machine does not); system_health carries their figures.
    "sensor.export_monitor_export_allowance",
    "sensor.export_monitor_export_headroom",
    "sensor.export_monitor_exported_today",
    "sensor.export_monitor_discharge_status",
    "sensor.export_monitor_calculated_duration",
    "button.export_monitor_start_discharge",
    "button.export_monitor_stop_discharge",
    "switch.export_monitor_auto_discharge",
    "number.export_monitor_min_soc",
    "number.export_monitor_safety_margin",
    "number.export_monitor_discharge_power",
)
CLOCK: Final = "sensor.sim_clock"
PLANT_ENTITIES: Final = (*SENSOR_ENTITIES.values(), *CONTROL_ENTITIES, CLOCK)
USER_DASHBOARD: Final = ROOT / "docs" / "dashboard.yaml"

pytestmark = pytest.mark.timeout(240)


def entity_ids(node: Any, key: str = "") -> Iterator[str]:
    """Yield every entity id a Lovelace card tree names (under entity: or entities:)."""
    if isinstance(node, dict):
        for child_key, value in node.items():
            yield from entity_ids(value, child_key)
    elif isinstance(node, list):
        for item in node:
            yield from entity_ids(item, key)
    elif key in ("entity", "entities") and isinstance(node, str):
        yield node


USER_DASHBOARD_ENTITIES: Final = tuple(
    dict.fromkeys(entity_ids(yaml.safe_load(USER_DASHBOARD.read_text())))
)


def sample[T](read: Callable[[], T], count: int, interval: float) -> list[T]:
    """Return count readings taken interval seconds apart."""
    values = [read()]
    for _ in range(count - 1):
        time.sleep(interval)
        values.append(read())
    return values


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Generator[Instance]:
    """Start scripts/develop --detach in a temporary folder on a free port; stop it after."""
    with running(tmp_path_factory.mktemp("develop")) as started:
        yield started


@pytest.mark.parametrize("entity_id", [*MONITOR_ENTITIES, *PLANT_ENTITIES])
def test_entity_exists(instance: Instance, entity_id: str) -> None:
    """Every integration and plant entity is served by the REST API."""
    response = instance.state(entity_id)

    assert response.status_code == 200, response.text
    assert response.json()["entity_id"] == entity_id


def test_health_becomes_healthy(instance: Instance) -> None:
    """The monitor reports healthy once the simulated sensors flow."""
    state = wait_for(
        "system health",
        lambda: instance.state("sensor.export_monitor_system_health").json(),
        lambda value: value["state"] == "healthy",
        timeout=30,
    )

    assert state["attributes"]["error_state"] == "none"


def test_simulated_readings_change(instance: Instance) -> None:
    """The plant runs: some simulated sensor soon shows a new value."""
    read = partial(instance.states, tuple(SENSOR_ENTITIES.values()))
    first = read()

    later = wait_for("a simulated reading to change", read, first.__ne__, timeout=15)

    assert later != first


def test_simulated_clock_advances(instance: Instance) -> None:
    """Simulated time runs (10x: a simulated minute every 6 real seconds)."""
    first = instance.state(CLOCK).json()["state"]

    later = wait_for(
        "the simulated clock",
        lambda: instance.state(CLOCK).json()["state"],
        first.__ne__,
        timeout=15,
    )

    assert later > first


def test_meters_keep_the_monitor_fresh(instance: Instance) -> None:
    """Over more than one 10 s heartbeat, the monitor's data age stays small."""
    read = partial(instance.state, "sensor.export_monitor_system_health")

    ages = sample(
        lambda: float(read().json()["attributes"]["data_age_seconds"]),
        count=7,
        interval=2.0,
    )

    assert max(ages) < 5, ages


@pytest.mark.parametrize("entity_id", USER_DASHBOARD_ENTITIES)
def test_user_dashboard_entity_exists(instance: Instance, entity_id: str) -> None:
    """Every entity docs/dashboard.yaml shows is served by the dev server, available."""
    response = instance.state(entity_id)

    assert response.status_code == 200, response.text
    assert response.json()["state"] != "unavailable", response.text


def test_user_dashboard_renders(
    instance: Instance, page: Page, screenshots: Path
) -> None:
    """The dev dashboard's first view is docs/dashboard.yaml, populated and healthy."""
    log_in_page(page, instance.base, "/export-monitor/export-monitor")
    wait_for(
        "an export allowance",
        lambda: instance.state("sensor.export_monitor_export_allowance").json(),
        lambda value: value["state"] not in ("unavailable", "unknown"),
        timeout=60,
    )

    health_row = page.locator("hui-generic-entity-row").filter(has_text="System health")
    expect(health_row).to_contain_text("Healthy")
    for heading in ("Export today", "Discharge controls", "Health"):
        expect(page.get_by_text(heading, exact=True)).to_be_visible()
    expect(page.locator("hui-tile-card").filter(has_text="Allowance")).to_contain_text(
        "kWh"
    )
    expect(page.get_by_text("Start discharge")).to_be_visible()
    expect(page.get_by_text("Entity not available")).to_have_count(0)
    page.screenshot(path=screenshots / "dashboard.png")


def test_plant_view_renders(instance: Instance, page: Page, screenshots: Path) -> None:
    """The dev dashboard's second view shows the monitor next to the simulated plant."""
    log_in_page(page, instance.base, "/export-monitor/plant")

    expect(page.get_by_text("Export Monitor System health")).to_be_visible()
    health_row = page.locator("hui-generic-entity-row").filter(has_text="System health")
    expect(health_row).to_contain_text("Healthy")
    expect(page.get_by_text("Sim battery SOC").first).to_be_visible()
    expect(page.get_by_text("Entity not available")).to_have_count(0)
    shot = screenshots / "dashboard_plant.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 10_000


def test_stop_ends_home_assistant(instance: Instance) -> None:
    """scripts/develop --stop stops the detached Home Assistant and clears its pid file."""
    output = develop(instance.env, "--stop", timeout=STOP_TIMEOUT)

    assert "stopped" in output
    assert process_ended(instance.pid)
    assert not (Path(instance.env["DEVELOP_DIR"]) / "hass.pid").exists()
