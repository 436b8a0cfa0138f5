"""scripts/develop end to end: a real Home Assistant, the REST API and the dashboard in chromium."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import partial
import os
from pathlib import Path
import signal
import socket
import subprocess
import time
from typing import Final

from playwright.sync_api import Browser, Page, expect, sync_playwright
import pytest
import requests

from sim.bridge import CONTROL_ENTITIES, SENSOR_ENTITIES

ROOT: Final = Path(__file__).resolve().parents[2]
DEVELOP: Final = str(ROOT / "scripts" / "develop")
USERNAME: Final = "dev"
PASSWORD: Final = "dev-password"
CHROMIUM: Final = "/usr/bin/chromium"
CHROMIUM_ARGS: Final = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT: Final = 150
STOP_TIMEOUT: Final = 90
HTTP_TIMEOUT: Final = 10
BROWSER_TIMEOUT_MS: Final = 30_000
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

pytestmark = pytest.mark.timeout(240)
expect.set_options(timeout=BROWSER_TIMEOUT_MS)


@dataclass(frozen=True, slots=True)
class Instance:
    """A Home Assistant started by scripts/develop --detach."""

    base: str
    env: dict[str, str]
    pid: int
    token: str

    def state(self, entity_id: str) -> requests.Response:
        """GET one entity's state over the REST API."""
        return requests.get(
            f"{self.base}/api/states/{entity_id}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=HTTP_TIMEOUT,
        )

    def states(self, entity_ids: tuple[str, ...]) -> tuple[str, ...]:
        """Return the states of several entities."""
        return tuple(self.state(entity_id).json()["state"] for entity_id in entity_ids)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def develop(env: dict[str, str], *args: str, timeout: float) -> str:
    """Run scripts/develop, fail with its output unless it succeeds, return the output."""
    done = subprocess.run(
        [DEVELOP, *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"scripts/develop {' '.join(args)} failed:\n{output}"
    return output


def log_in(base: str) -> str:
    """Log in through the login flow, as the login page does; return an access token."""
    client_id = f"{base}/"
    flow = requests.post(
        f"{base}/auth/login_flow",
        json={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id,
        },
        timeout=HTTP_TIMEOUT,
    ).json()
    result = requests.post(
        f"{base}/auth/login_flow/{flow['flow_id']}",
        json={"client_id": client_id, "username": USERNAME, "password": PASSWORD},
        timeout=HTTP_TIMEOUT,
    ).json()
    assert result["type"] == "create_entry", result
    tokens = requests.post(
        f"{base}/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": result["result"],
            "client_id": client_id,
        },
        timeout=HTTP_TIMEOUT,
    ).json()
    return str(tokens["access_token"])


def wait_for[T](
    what: str, read: Callable[[], T], done: Callable[[T], bool], timeout: float
) -> T:
    """Poll read() until done(value); fail with the last value after the timeout."""
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value):
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {value}"
        time.sleep(0.5)
        value = read()
    return value


def sample[T](read: Callable[[], T], count: int, interval: float) -> list[T]:
    """Return count readings taken interval seconds apart."""
    values = [read()]
    for _ in range(count - 1):
        time.sleep(interval)
        values.append(read())
    return values


def process_ended(pid: int) -> bool:
    """Return whether a process is gone (a zombie nobody reaped counts as gone)."""
    state = subprocess.run(
        ["ps", "-o", "stat=", "-p", str(pid)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return not state or state.startswith("Z")


def kill_leftover(pid_file: Path) -> None:
    """Kill a Home Assistant that scripts/develop --stop did not stop."""
    pid = int(pid_file.read_text()) if pid_file.exists() else 0
    if pid and not process_ended(pid):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Generator[Instance]:
    """Start scripts/develop --detach in a temporary folder on a free port; stop it after."""
    base_dir = tmp_path_factory.mktemp("develop")
    port = free_port()
    env = os.environ | {"DEVELOP_DIR": str(base_dir), "DEVELOP_PORT": str(port)}
    pid_file = base_dir / "hass.pid"
    try:
        develop(env, "--detach", timeout=START_TIMEOUT)
        base = f"http://127.0.0.1:{port}"
        yield Instance(base, env, int(pid_file.read_text()), log_in(base))
    finally:
        subprocess.run(
            [DEVELOP, "--stop"], env=env, cwd=ROOT, timeout=STOP_TIMEOUT, check=False
        )
        kill_leftover(pid_file)


@pytest.fixture(scope="module")
def browser() -> Generator[Browser]:
    """Launch Debian's headless chromium, failing clearly when it is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup --browser to install it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Generator[Page]:
    """Open a fresh browser page with a desktop-sized window."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    yield context.new_page()
    context.close()


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


def test_dashboard_renders(
    instance: Instance, page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Logging in through the login page shows the Export Monitor dashboard."""
    page.goto(f"{instance.base}/export-monitor")
    page.get_by_role("textbox", name="Username").fill(USERNAME)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_text("Export Monitor System health")).to_be_visible()
    health_row = page.locator("hui-generic-entity-row").filter(has_text="System health")
    expect(health_row).to_contain_text("Healthy")
    expect(page.get_by_text("Sim battery SOC").first).to_be_visible()
    expect(page.get_by_text("Entity not available")).to_have_count(0)
    shot = tmp_path_factory.mktemp("screenshots") / "dashboard.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"dashboard screenshot: {shot}")  # noqa: T201


def test_stop_ends_home_assistant(instance: Instance) -> None:
    """scripts/develop --stop stops the detached Home Assistant and clears its pid file."""
    output = develop(instance.env, "--stop", timeout=STOP_TIMEOUT)

    assert "stopped" in output
    assert process_ended(instance.pid)
    assert not (Path(instance.env["DEVELOP_DIR"]) / "hass.pid").exists()
