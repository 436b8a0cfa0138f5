"""Run a real Home Assistant with the integration driving the simulated plant (scripts/develop)."""
# ruff: noqa: INP001, T201
# (a script run by scripts/develop, not a package; it prints its progress)

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
import contextlib
from dataclasses import dataclass
import json
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any, Final
import urllib.error
import urllib.parse
import urllib.request

ROOT: Final = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.bridge import monitor_options  # noqa: E402
from sim.scenarios import SCENARIO_NAMES, scenario_day  # noqa: E402
from sim.vendors import VENDOR_KEYS, VENDORS, Vendor, helper_config  # noqa: E402

TEMPLATE: Final = ROOT / "dev" / "config"
# The view users paste (docs/dashboard.yaml), copied next to the dev dashboard,
# which includes it as its first view: the dev server shows exactly that file.
USER_VIEW: Final = ROOT / "docs" / "dashboard.yaml"
USER_VIEW_COPY: Final = Path("dashboards") / "user_view.yaml"
INTEGRATIONS: Final = {
    "export_monitor": ROOT / "custom_components" / "export_monitor",
    "export_sim": ROOT / "dev" / "custom_components" / "export_sim",
}
HOST: Final = "127.0.0.1"
NAME: Final = "Developer"
USERNAME: Final = "dev"
PASSWORD: Final = "dev-password"  # noqa: S105 - a local, throwaway development login
DASHBOARD: Final = "export-monitor"
START_TIMEOUT: Final = 120.0
STOP_TIMEOUT: Final = 60.0
REQUEST_TIMEOUT: Final = 10.0
# The limits step of the config flow; the sources and controls come from sim.bridge.
LIMITS: Final[dict[str, Any]] = {
    "safety_margin_kwh": 0.5,
    "min_soc": 20,
    "discharge_power_kw": 3.0,
    "forecast_credit": False,
    "forecast_confidence": 0.8,
    "export_window_start": "13:00:00",
    "export_window_end": "23:00:00",
    "auto_discharge": True,
    "resume_when_safe": True,
    "stale_after_seconds": 30,
}
# The generic shape's option keys (today's flow), by the role of their control.
GENERIC_KEYS: Final = {
    "enable": "discharge_switch_entity",
    "power": "discharge_power_entity",
    "cutoff": "cutoff_soc_entity",
    "timer": "discharge_duration_entity",
}
# The service and its field that set an entity, by domain, for a vendor's set-up.
SET_UP_SERVICES: Final = {
    "select": ("select_option", "option"),
    "number": ("set_value", "value"),
}
HELPER_SHAPED: Final = ("generic", "alpha_ess")
# Stores a new config starts with (key, version, data), in Home Assistant's own
# format; they are never touched again.
SEEDED_STORES: Final = (
    # The onboarding step that sets up met, radio_browser and google_translate:
    # they need the internet and packages outside the lock, so it starts done
    # and the other steps go through the HTTP API.
    ("onboarding", 4, {"done": ["core_config"]}),
    # Loopback adapters only (Linux lo, macOS lo0): the mDNS resolver behind
    # Home Assistant's HTTP client then stays off the machine's networks.
    ("core.network", 1, {"configured_adapters": ["lo", "lo0"]}),
)


class DevelopError(Exception):
    """Something scripts/develop cannot get past; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Paths:
    """Where the development instance lives."""

    base: Path

    @property
    def config(self) -> Path:
        """Return the Home Assistant configuration directory."""
        return self.base / "config"

    @property
    def pid(self) -> Path:
        """Return the pid file of a running instance."""
        return self.base / "hass.pid"

    @property
    def output(self) -> Path:
        """Return the file catching the process's own stdout and stderr."""
        return self.base / "hass.out"

    @property
    def log(self) -> Path:
        """Return Home Assistant's log."""
        return self.config / "home-assistant.log"


class Api:
    """A small JSON client for one Home Assistant on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.base = f"http://{HOST}:{port}"
        self.client_id = f"{self.base}/"
        self.token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        form: bool = False,
    ) -> tuple[int, Any]:
        """Send one request; return the status and the decoded JSON body (or None)."""
        headers = {}
        data = None
        if body is not None and form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1
            self.base + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None

    def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        form: bool = False,
    ) -> Any:
        """Send one request that must succeed; return its JSON body."""
        status, payload = self.request(method, path, body, form=form)
        if status != 200:  # noqa: PLR2004
            raise DevelopError(f"{method} {path} answered {status}: {payload}")
        return payload

    def text(self, path: str, body: Mapping[str, Any]) -> str:
        """POST a JSON body to an endpoint that answers with text; return the text."""
        request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1
            self.base + path,
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310
            text: str = response.read().decode().strip()
        return text

    def answers(self) -> bool:
        """Return whether the HTTP server answers at all (any status counts)."""
        # An endpoint without auth: a tokenless GET /api/ would log (and notify)
        # a failed login.
        try:
            self.request("GET", "/auth/providers")
        except (OSError, urllib.error.URLError):
            return False
        return True

    def exchange(self, code: str) -> None:
        """Trade an authorization code for an access token."""
        tokens = self.call(
            "POST",
            "/auth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
            },
            form=True,
        )
        self.token = tokens["access_token"]


def clock_time(text: str) -> str:
    """Return a local time of day HH:MM as HH:MM:00; refuse anything else."""
    hours, sep, minutes = text.partition(":")
    valid = sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2  # noqa: PLR2004
    if not valid or int(hours) > 23 or int(minutes) > 59:  # noqa: PLR2004
        raise argparse.ArgumentTypeError(f"not a time of day HH:MM: {text!r}")
    return f"{int(hours):02d}:{minutes}:00"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Return the command line options."""
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description=(
            "Run Home Assistant on http://127.0.0.1:8123 (DEVELOP_PORT) with the "
            "integration driving a simulated plant; state in .develop/ (DEVELOP_DIR)."
        ),
    )
    parser.add_argument("--scenario", default="nominal", choices=SCENARIO_NAMES)
    parser.add_argument(
        "--profile",
        default="generic",
        choices=VENDOR_KEYS,
        help="the inverter profile, and the simulated vendor integration it drives",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--clock",
        type=clock_time,
        help=(
            "start a new simulated day at this local time of day, HH:MM (default: "
            "now), e.g. 16:00 to find the export window open in the small hours"
        ),
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=10.0,
        help="simulated seconds per real second (default 10)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--detach",
        action="store_true",
        help="leave it running in the background (pid in .develop/hass.pid)",
    )
    mode.add_argument(
        "--stop", action="store_true", help="stop one started with --detach"
    )
    args = parser.parse_args(argv)
    if not 0.1 <= args.speed <= 1000:  # noqa: PLR2004
        parser.error("--speed must be within 0.1..1000")
    return args


def running_pid(paths: Paths) -> int | None:
    """Return the pid of our running Home Assistant, clearing a stale pid file."""
    try:
        pid = int(paths.pid.read_text().strip())
    except (OSError, ValueError):
        return None
    command = subprocess.run(  # noqa: S603
        ["ps", "-o", "command=", "-p", str(pid)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    if "hass_launcher.py" in command and str(paths.config) in command:
        return pid
    paths.pid.unlink(missing_ok=True)
    return None


def stop(pid: int, paths: Paths) -> None:
    """Stop Home Assistant cleanly (SIGTERM), killing it after STOP_TIMEOUT."""
    print(f"develop: stopping Home Assistant (pid {pid})", flush=True)
    try:
        os.kill(pid, signal.SIGTERM)
        if not wait_exit(pid, STOP_TIMEOUT):
            print("develop: it did not stop in time: killing it", flush=True)
            os.kill(pid, signal.SIGKILL)
            wait_exit(pid, 10.0)
    except ProcessLookupError:
        pass
    paths.pid.unlink(missing_ok=True)
    print("develop: stopped", flush=True)


def wait_exit(pid: int, timeout: float) -> bool:
    """Return whether the process ended within the timeout (reaping our own child)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.2)
    return False


def alive(pid: int) -> bool:
    """Return whether a process runs; a zombie nobody reaped yet counts as ended."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0]:
            return False
    state = subprocess.run(  # noqa: S603
        ["ps", "-o", "stat=", "-p", str(pid)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return bool(state) and not state.startswith("Z")


def write_config(paths: Paths, args: argparse.Namespace, port: int) -> bool:
    """Copy the template, write packages/develop.yaml, link the integrations.

    Return whether the profile changed (the monitor's entry must be made anew).
    """
    config = paths.config
    previous = read_package(paths).get("export_sim", {})
    changed = bool(previous) and previous.get("profile", "generic") != args.profile
    if changed:
        print(
            f"develop: profile {args.profile}: the Export Monitor entry is made anew",
            flush=True,
        )
    if previous and (previous["scenario"], previous["seed"]) != (
        args.scenario,
        args.seed,
    ):
        print(
            "develop: note: a new scenario or seed starts a new plant; if its counters "
            "are below today's, the monitor holds counter_went_backwards until they "
            f"catch up (remove {paths.base} to start afresh)",
            flush=True,
        )
    config.mkdir(parents=True, exist_ok=True)
    shutil.copytree(TEMPLATE, config, dirs_exist_ok=True)
    shutil.copyfile(USER_VIEW, config / USER_VIEW_COPY)
    package = {
        "http": {"server_host": HOST, "server_port": port},
        "export_sim": {
            "scenario": args.scenario,
            "seed": args.seed,
            "speed": args.speed,
            "profile": args.profile,
            **({} if args.clock is None else {"clock": args.clock}),
        },
        **helper_config(VENDORS[args.profile]),
    }
    (config / "packages").mkdir(exist_ok=True)
    (config / "packages" / "develop.yaml").write_text(
        "# Written by scripts/develop on every run from its options: do not edit.\n"
        "# (JSON is YAML too.)\n" + json.dumps(package, indent=2) + "\n"
    )
    links = config / "custom_components"
    links.mkdir(exist_ok=True)
    for name, target in INTEGRATIONS.items():
        link = links / name
        if link.is_symlink() or link.exists():
            if link.is_symlink() and link.resolve() == target:
                continue
            link.unlink()
        link.symlink_to(target, target_is_directory=True)
    for key, version, data in SEEDED_STORES:
        store = config / ".storage" / key
        if not store.exists():
            store.parent.mkdir(exist_ok=True)
            store.write_text(
                json.dumps(
                    {"version": version, "minor_version": 1, "key": key, "data": data}
                )
            )
    return changed


def read_package(paths: Paths) -> dict[str, Any]:
    """Return packages/develop.yaml as last written, or {} when there is none."""
    try:
        lines = (paths.config / "packages" / "develop.yaml").read_text().splitlines()
        package: dict[str, Any] = json.loads(
            "\n".join(x for x in lines if not x.startswith("#"))
        )
    except (OSError, ValueError):
        return {}
    return package


def start(paths: Paths) -> subprocess.Popen[bytes]:
    """Start scripts/hass in its own session, output to hass.out."""
    paths.base.mkdir(parents=True, exist_ok=True)
    with paths.output.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            [
                str(ROOT / "scripts" / "hass"),
                "-c",
                str(paths.config),
                "--skip-pip",
                "--log-no-color",
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    paths.pid.write_text(f"{process.pid}\n")
    return process


def wait_for(
    what: str,
    check: Callable[[], bool],
    process: subprocess.Popen[bytes] | None,
    deadline: float,
) -> None:
    """Poll check() until true; fail when the process exits or the deadline passes."""
    while not check():
        if process is not None and process.poll() is not None:
            raise DevelopError(
                f"Home Assistant exited (code {process.returncode}) while waiting for {what}"
            )
        if time.monotonic() > deadline:
            raise DevelopError(f"timed out waiting for {what}")
        time.sleep(0.5)


def log_in(api: Api) -> None:
    """Onboard a new instance (owner dev / dev-password), or log in to an onboarded one."""
    # Once onboarding is complete its views are gone: 404.
    status, listing = api.request("GET", "/api/onboarding")
    if status not in (200, 404):
        raise DevelopError(f"GET /api/onboarding answered {status}: {listing}")
    steps = {s["step"]: s["done"] for s in listing} if status == 200 else {}  # noqa: PLR2004
    if not steps.get("user", True):
        print("develop: onboarding: creating user dev", flush=True)
        created = api.call(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": api.client_id,
                "name": NAME,
                "username": USERNAME,
                "password": PASSWORD,
                "language": "en",
            },
        )
        api.exchange(created["auth_code"])
    else:
        log_in_with_password(api)
    remaining = [step for step, done in steps.items() if not done and step != "user"]
    for step in remaining:
        body = (
            {
                "client_id": api.client_id,
                "redirect_uri": f"{api.client_id}?auth_callback=1",
            }
            if step == "integration"
            else {}
        )
        api.call("POST", f"/api/onboarding/{step}", body)
    if remaining:
        print(f"develop: onboarding: finished {', '.join(remaining)}", flush=True)


def log_in_with_password(api: Api) -> None:
    """Log in through the login flow, as the login page does."""
    flow = api.call(
        "POST",
        "/auth/login_flow",
        {
            "client_id": api.client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": api.client_id,
        },
    )
    result = api.call(
        "POST",
        f"/auth/login_flow/{flow['flow_id']}",
        {"client_id": api.client_id, "username": USERNAME, "password": PASSWORD},
    )
    if result.get("type") != "create_entry":
        raise DevelopError(
            f"cannot log in as {USERNAME}: {result.get('errors')}; delete the "
            "development config folder to start afresh"
        )
    api.exchange(result["result"])


def core_running(api: Api) -> bool:
    """Return whether Home Assistant has finished starting."""
    status, config = api.request("GET", "/api/config")
    return status == 200 and config.get("state") == "RUNNING"  # noqa: PLR2004


def controls(api: Api, vendor: Vendor) -> dict[str, str]:
    """Return the profile's controls {role: entity id (a device id for "device")}."""
    found = dict(vendor.controls)
    if vendor.device_name is not None:
        found["device"] = device_id(api, vendor.device_name)
    return found


def device_id(api: Api, name: str) -> str:
    """Return the registry id of the simulator's device (it registers it at start)."""
    template = {"template": f"{{{{ device_id('{name}') }}}}"}
    deadline = time.monotonic() + START_TIMEOUT
    while (found := api.text("/api/template", template)) in ("", "None"):
        if time.monotonic() > deadline:
            raise DevelopError(f"no device {name!r}: see the log")
        time.sleep(0.5)
    return found


def entry_options(api: Api, args: argparse.Namespace) -> dict[str, Any]:
    """Return every answer the config flow may ask for, by field name."""
    day = scenario_day(args.scenario, 0, args.seed)
    options = monitor_options(day.plant().published())
    for key in GENERIC_KEYS.values():
        del options[key]
    found = controls(api, VENDORS[args.profile])
    # A profile flow asks for the profile, then each control by its role. Today's
    # flow asks for the generic shape's keys: only a helper-shaped vendor fits them
    # (another vendor's switch is no forced-discharge switch).
    if args.profile in HELPER_SHAPED:
        options |= {GENERIC_KEYS[role]: found[role] for role in GENERIC_KEYS}
    options |= found | {"profile": args.profile, "controls": found}
    return (
        options
        | LIMITS
        | {
            "battery_capacity_kwh": day.config.battery.capacity_kwh,
            "discharge_power_kw": discharge_power_kw(VENDORS[args.profile]),
        }
    )


def discharge_power_kw(vendor: Vendor) -> float:
    """Return the limits' discharge power within the vendor's power control's maximum.

    GivEnergy's discharge rate goes to 2.6 kW: a 3 kW setpoint is refused there, so every
    automatic start ended discharge_power_set_failed.
    """
    wanted: float = LIMITS["discharge_power_kw"]
    for entity in vendor.entities:
        if entity.role == "power":
            scale = 1000.0 if entity.unit == "W" else 1.0
            return min(wanted, entity.maximum / scale)
    return wanted


def set_up_vendor(api: Api, vendor: Vendor) -> None:
    """Do the user's one-time set-up of the vendor (SolarEdge: Remote Control)."""
    for entity_id, value in vendor.setup:
        domain = entity_id.split(".", 1)[0]
        service, field = SET_UP_SERVICES[domain]
        api.call(
            "POST",
            f"/api/services/{domain}/{service}",
            {"entity_id": entity_id, field: value},
        )
        print(f"develop: set up the vendor: {entity_id} = {value}", flush=True)


def required_unknown(
    schema: list[dict[str, Any]], options: Mapping[str, Any]
) -> list[str]:
    """Return the required fields of a flow step without a default or an answer."""
    return [
        field["name"]
        for field in schema
        if field.get("required")
        and "default" not in field
        and field["name"] not in options
    ]


def not_offered(schema: list[dict[str, Any]], options: Mapping[str, Any]) -> list[str]:
    """Return the select fields of a flow step whose answer is not among its options."""
    refused = []
    for field in schema:
        offered = field.get("selector", {}).get("select", {}).get("options")
        answer = options.get(field["name"])
        if offered is not None and answer is not None and answer not in offered:
            refused.append(f"{field['name']} other than {answer}")
    return refused


def ensure_entry(api: Api, args: argparse.Namespace, *, anew: bool = False) -> None:
    """Create the export_monitor entry through the real config flow, unless it exists."""
    entries = api.call("GET", "/api/config/config_entries/entry?domain=export_monitor")
    if entries and not anew:
        return
    for entry in entries:
        api.call("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")
    set_up_vendor(api, VENDORS[args.profile])
    if missing := create_entry(api, entry_options(api, args), partial=True):
        print(
            f"develop: note: this config flow cannot set up profile {args.profile} "
            f"(it asks for {', '.join(missing)}): the simulated vendor runs "
            "without an Export Monitor entry",
            flush=True,
        )
        return
    print(
        f"develop: created the Export Monitor entry (config flow, profile {args.profile})",
        flush=True,
    )


def create_entry(
    api: Api, options: Mapping[str, Any], *, partial: bool = False
) -> list[str]:
    """Go through the real config flow, answering each step's fields from options.

    With partial, a step asking for a required field options lack aborts the flow:
    return those fields (nothing when the entry was created).
    """
    step = api.call(
        "POST", "/api/config/config_entries/flow", {"handler": "export_monitor"}
    )
    while step.get("type") == "form":
        if step.get("errors"):
            raise DevelopError(f"config flow step {step['step_id']}: {step['errors']}")
        fields = {field["name"] for field in step["data_schema"]}
        missing = required_unknown(step["data_schema"], options)
        missing += not_offered(step["data_schema"], options)
        if partial and missing:
            api.call("DELETE", f"/api/config/config_entries/flow/{step['flow_id']}")
            return missing
        step = api.call(
            "POST",
            f"/api/config/config_entries/flow/{step['flow_id']}",
            {key: value for key, value in options.items() if key in fields},
        )
    if step.get("type") != "create_entry":
        raise DevelopError(f"config flow ended with {step}")
    return []


def bring_up(
    api: Api,
    args: argparse.Namespace,
    process: subprocess.Popen[bytes] | None,
    *,
    anew: bool = False,
) -> None:
    """Wait for the API, log in or onboard, wait for startup, add the entry."""
    deadline = time.monotonic() + START_TIMEOUT
    wait_for("the HTTP API", api.answers, process, deadline)
    log_in(api)
    wait_for(
        "Home Assistant to finish starting",
        lambda: core_running(api),
        process,
        deadline,
    )
    ensure_entry(api, args, anew=anew)


def banner(api: Api, paths: Paths, args: argparse.Namespace, detached: bool) -> None:
    """Say where it runs, how to log in and how to stop it."""
    stop_hint = "scripts/develop --stop" if detached else "Ctrl-C"
    print(
        f"""
Home Assistant is running: {api.base}
  dashboard  {api.base}/{DASHBOARD}
  login      {USERNAME} / {PASSWORD}
  simulator  {args.scenario} (seed {args.seed}) at {args.speed:g}x
  inverter   {VENDORS[args.profile].title} (profile {args.profile})
  log        {paths.log}
  stop       {stop_hint}
""",
        flush=True,
    )


def foreground(process: subprocess.Popen[bytes], paths: Paths) -> int:
    """Wait until Ctrl-C (or SIGTERM), then stop Home Assistant cleanly."""

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        """Turn SIGTERM into the same clean stop as Ctrl-C."""
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        code = process.wait()
    except KeyboardInterrupt:
        stop(process.pid, paths)
        return 0
    paths.pid.unlink(missing_ok=True)
    print(f"develop: Home Assistant exited with code {code}; see {paths.log}")
    return code


def tail(path: Path, lines: int = 15) -> str:
    """Return the last lines of a file, or nothing."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def main(argv: list[str]) -> int:
    """Stop, or start and set up, the development instance."""
    args = parse_args(argv)
    paths = Paths(Path(os.environ.get("DEVELOP_DIR", ROOT / ".develop")).resolve())
    port = int(os.environ.get("DEVELOP_PORT", "8123"))
    pid = running_pid(paths)
    if args.stop:
        if pid is None:
            print(f"develop: nothing running from {paths.base}")
        else:
            stop(pid, paths)
        return 0
    if pid is not None:
        print(f"develop: already running (pid {pid}); --stop first to change settings")
        # Its own port and simulator settings, whatever this command line says.
        package = read_package(paths)
        api = Api(package.get("http", {}).get("server_port", port))
        args = argparse.Namespace(**vars(args) | package.get("export_sim", {}))
        bring_up(api, args, None)
        banner(api, paths, args, detached=True)
        return 0
    api = Api(port)
    if api.answers():
        raise DevelopError(f"something else answers on {api.base}: set DEVELOP_PORT")
    anew = write_config(paths, args, port)
    began = time.monotonic()
    print(f"develop: starting Home Assistant from {paths.config}", flush=True)
    process = start(paths)
    try:
        bring_up(api, args, process, anew=anew)
    except BaseException as err:
        if isinstance(err, DevelopError):
            print(f"develop: error: {err}", file=sys.stderr)
            print(tail(paths.output), file=sys.stderr)
        stop(process.pid, paths)
        if isinstance(err, DevelopError | KeyboardInterrupt):
            return 1
        raise
    print(f"develop: ready in {time.monotonic() - began:.0f} s", flush=True)
    banner(api, paths, args, detached=args.detach)
    if args.detach:
        return 0
    return foreground(process, paths)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except DevelopError as error:
        print(f"develop: error: {error}", file=sys.stderr)
        sys.exit(1)
