"""A development Home Assistant for the end-to-end tests: start, log in, poll, stop."""

from __future__ import annotations

from collections.abc import Callable, Generator
import contextlib
from dataclasses import dataclass
import os
from pathlib import Path
import signal
import socket
import subprocess
import time
from typing import Any, Final

from playwright.sync_api import Page, expect
import requests

ROOT: Final = Path(__file__).resolve().parents[2]
DEVELOP: Final = str(ROOT / "scripts" / "develop")
USERNAME: Final = "dev"
PASSWORD: Final = "dev-password"
START_TIMEOUT: Final = 150
STOP_TIMEOUT: Final = 90
HTTP_TIMEOUT: Final = 10
FRONTEND: Final = "document.querySelector('home-assistant')"


@dataclass(frozen=True, slots=True)
class Instance:
    """A Home Assistant started by scripts/develop --detach."""

    base: str
    env: dict[str, str]
    pid: int
    token: str

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send one authenticated request to the REST API."""
        return requests.request(
            method,
            f"{self.base}{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=HTTP_TIMEOUT,
            **kwargs,
        )

    def state(self, entity_id: str) -> requests.Response:
        """GET one entity's state over the REST API."""
        return self.api("GET", f"/api/states/{entity_id}")

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


def log_in_page(page: Page, base: str, path: str) -> None:
    """Open a page of the frontend, logging in through the login page on the way."""
    page.goto(f"{base}{path}")
    # The form is drawn again once all of its scripts are in, dropping what was
    # typed before: wait for them, and check that the text stayed.
    page.wait_for_load_state("networkidle")
    username = page.get_by_role("textbox", name="Username")
    password = page.get_by_role("textbox", name="Password")
    username.fill(USERNAME)
    password.fill(PASSWORD)
    expect(username).to_have_value(USERNAME)
    expect(password).to_have_value(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}{path}*")
    # Connected means the tokens are saved, so later page loads stay logged in.
    page.wait_for_function(f"() => {FRONTEND}?.hass?.connected")


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


@contextlib.contextmanager
def running(base_dir: Path, *args: str) -> Generator[Instance]:
    """Run scripts/develop --detach (and args) in base_dir on a free port; stop it after."""
    port = free_port()
    env = os.environ | {"DEVELOP_DIR": str(base_dir), "DEVELOP_PORT": str(port)}
    pid_file = base_dir / "hass.pid"
    try:
        # The export window open and the day's PV counted, whatever the hour: the
        # simulated day starts at 16:00 (its counters say they reset at midnight).
        develop(env, "--detach", "--clock", "16:00", *args, timeout=START_TIMEOUT)
        base = f"http://127.0.0.1:{port}"
        yield Instance(base, env, int(pid_file.read_text()), log_in(base))
    finally:
        subprocess.run(
            [DEVELOP, "--stop"], env=env, cwd=ROOT, timeout=STOP_TIMEOUT, check=False
        )
        kill_leftover(pid_file)
