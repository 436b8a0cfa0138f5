"""The config, options and reconfigure flows and a repair, driven in chromium.

One development Home Assistant for the module, used in order: its entry is deleted
and made again through the config flow (with a field error on two steps, each
fixed), then changed through the options flow and reconfigure, and finally one of
its entities is deleted so that a repair issue appears. Fields are found by the
labels in translations/en.json and only the ones a test needs are touched, so new
optional fields with defaults do not break these tests. A screenshot of every step
goes to the screenshots folder.
"""

from __future__ import annotations

from collections.abc import Generator
import json
from pathlib import Path
from typing import Any, Final

from playwright.sync_api import Locator, Page, expect
import pytest

from sim.bridge import (
    CUTOFF_ENTITY,
    DURATION_ENTITY,
    ENABLE_ENTITY,
    POWER_ENTITY,
    SENSOR_ENTITIES,
)
from sim.meters import BATTERY_POWER, EXPORT_TODAY, GRID_POWER, PV_TODAY, SOC
from tests.e2e.server import FRONTEND, ROOT, Instance, log_in_page, running, wait_for

DOMAIN: Final = "export_monitor"
TEXT: Final[dict[str, Any]] = json.loads(
    (ROOT / "custom_components" / DOMAIN / "translations" / "en.json").read_text()
)
TITLE: Final = "Export Monitor"
HEALTH: Final = "sensor.export_monitor_system_health"
ERROR_STATE: Final = "sensor.export_monitor_error_state"
MARGIN: Final = "number.export_monitor_safety_margin"
# A helper made for these tests (through Home Assistant's own websocket API, as
# Settings > Helpers does), then chosen as the discharge duration and deleted.
HELPER_NAME: Final = "E2E discharge duration"
HELPER: Final = "input_number.e2e_discharge_duration"
SETTLE_TIMEOUT: Final = 90

pytestmark = pytest.mark.timeout(300)


def label(flow: str, step: str, key: str) -> str:
    """Return a field's label in one step of a flow ("config" or "options")."""
    return str(TEXT[flow]["step"][step]["data"][key])


def title(flow: str, step: str) -> str:
    """Return a step's title."""
    return str(TEXT[flow]["step"][step]["title"])


def error(key: str) -> str:
    """Return the text of a flow error."""
    return str(TEXT["config"]["error"][key])


class FlowDialog:
    """The dialog of a config, options or reconfigure flow in the frontend."""

    def __init__(self, page: Page, instance: Instance, screenshots: Path) -> None:
        self.page = page
        self.instance = instance
        self.screenshots = screenshots
        self.dialog = page.locator("dialog-data-entry-flow")

    def expect_step(self, heading: str) -> None:
        """Wait until the dialog shows the step with this title."""
        expect(self.page.get_by_role("alertdialog", name=heading)).to_be_visible()

    def pick(self, field: str, entity_id: str) -> None:
        """Choose an entity in an entity picker, searching by its id."""
        name = self.instance.state(entity_id).json()["attributes"]["friendly_name"]
        picker = self.dialog.locator(f'ha-picker-field[aria-label="{field}"]')
        picker.click()
        popup = self.page.get_by_role("dialog", name=field)
        popup.get_by_role("textbox", name="Search").fill(entity_id)
        popup.get_by_text(name, exact=True).click()
        expect(picker).to_contain_text(name)

    def fill(self, field: str, value: float) -> None:
        """Type a number into a number box."""
        self.dialog.get_by_role("spinbutton", name=field).fill(f"{value:g}")

    def submit(self) -> None:
        """Press Submit."""
        self.dialog.get_by_role("button", name="Submit").click()

    def expect_error(self, key: str) -> None:
        """Wait until the dialog shows a field error, and scroll it into view."""
        shown = self.dialog.get_by_text(error(key))
        expect(shown).to_be_visible()
        shown.scroll_into_view_if_needed()

    def shot(self, name: str) -> None:
        """Save a screenshot of the page for review."""
        self.page.screenshot(path=self.screenshots / f"{name}.png")


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Generator[Instance]:
    """Start a development Home Assistant of its own for the flows."""
    with running(tmp_path_factory.mktemp("flows")) as started:
        wait_for(
            "a healthy monitor",
            lambda: started.state(HEALTH).json().get("state"),
            "healthy".__eq__,
            timeout=SETTLE_TIMEOUT,
        )
        yield started


@pytest.fixture
def flow(page: Page, instance: Instance, screenshots: Path) -> FlowDialog:
    """Return the flow dialog of a browser page logged in to the instance."""
    log_in_page(page, instance.base, "/config/integrations/dashboard")
    return FlowDialog(page, instance, screenshots)


def entry_id(instance: Instance) -> str:
    """Return the id of the only export_monitor entry."""
    entries = instance.api(
        "GET", f"/api/config/config_entries/entry?domain={DOMAIN}"
    ).json()
    assert len(entries) == 1, entries
    return str(entries[0]["entry_id"])


def options(instance: Instance) -> dict[str, Any]:
    """Return the entry's options, read from its diagnostics."""
    response = instance.api(
        "GET", f"/api/diagnostics/config_entry/{entry_id(instance)}"
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["data"]["entry"]["options"])


def entry_row(page: Page, instance: Instance) -> Locator:
    """Open the integration's page and return the entry's row."""
    page.goto(f"{instance.base}/config/integrations/integration/{DOMAIN}")
    return page.locator(f'ha-config-entry-row[data-entry-id="{entry_id(instance)}"]')


def call_ws(page: Page, message: dict[str, Any]) -> Any:
    """Send one websocket command through the frontend's own connection."""
    page.wait_for_function(f"() => {FRONTEND}?.hass?.connected")
    return page.evaluate(f"message => {FRONTEND}.hass.callWS(message)", message)


def _generic_profile_and_controls(flow: FlowDialog) -> None:
    """Keep the suggested generic profile, then pick its four controls."""
    flow.expect_step(title("config", "profile"))
    flow.shot("config_3_profile")
    flow.submit()

    flow.expect_step(title("config", "controls"))
    flow.pick(label("config", "controls", "enable"), ENABLE_ENTITY)
    flow.pick(label("config", "controls", "power"), POWER_ENTITY)
    flow.pick(label("config", "controls", "cutoff"), CUTOFF_ENTITY)
    flow.pick(label("config", "controls", "timer"), DURATION_ENTITY)
    flow.shot("config_3_controls")
    flow.submit()


def test_config_flow(flow: FlowDialog, instance: Instance) -> None:
    """Every step of the config flow, each with an error fixed, makes a working entry."""
    deleted = instance.api(
        "DELETE", f"/api/config/config_entries/entry/{entry_id(instance)}"
    )
    assert deleted.status_code == 200, deleted.text
    wait_for(
        "the old entry's entities to go",
        lambda: instance.state(HEALTH).status_code,
        (404).__eq__,
        timeout=SETTLE_TIMEOUT,
    )
    page = flow.page

    page.get_by_role("button", name="Add integration").click()
    page.get_by_role("textbox", name="Search for a brand name").fill(
        "Energy Export Monitor"
    )
    page.locator("ha-integration-list-item").filter(
        has_text="Energy Export Monitor"
    ).click()
    flow.expect_step(title("config", "user"))
    flow.shot("config_1_sources")
    flow.pick(label("config", "user", "soc_entity"), SENSOR_ENTITIES[SOC])
    flow.pick(
        label("config", "user", "pv_energy_today_entity"), SENSOR_ENTITIES[PV_TODAY]
    )
    # The PV meter again as the export meter: refused on the field.
    export_field = label("config", "user", "export_energy_today_entity")
    flow.pick(export_field, SENSOR_ENTITIES[PV_TODAY])
    flow.submit()
    flow.expect_error("same_entity")
    flow.shot("config_2_sources_error")
    flow.pick(export_field, SENSOR_ENTITIES[EXPORT_TODAY])
    flow.pick(label("config", "user", "grid_power_entity"), SENSOR_ENTITIES[GRID_POWER])
    flow.pick(
        label("config", "user", "battery_power_entity"), SENSOR_ENTITIES[BATTERY_POWER]
    )
    flow.submit()

    _generic_profile_and_controls(flow)

    flow.expect_step(title("config", "limits"))
    min_soc = label("config", "limits", "min_soc")
    flow.fill(min_soc, 100)
    flow.submit()
    flow.expect_error("min_soc_too_high")
    flow.shot("config_4_limits_error")
    flow.fill(min_soc, 25)
    flow.fill(label("config", "limits", "safety_margin_kwh"), 0.6)
    flow.shot("config_5_limits")
    flow.submit()

    expect(flow.dialog.get_by_text("Export Monitor").first).to_be_visible()
    expect(flow.dialog.get_by_role("button", name="Finish")).to_be_visible()
    flow.shot("config_6_created")
    flow.dialog.get_by_role("button", name="Finish").click()
    expect(flow.dialog.get_by_role("button", name="Finish")).to_be_hidden()
    saved = options(instance)
    assert saved["min_soc"] == 25
    assert saved["safety_margin_kwh"] == 0.6
    assert saved["export_energy_today_entity"] == SENSOR_ENTITIES[EXPORT_TODAY]
    assert saved["controls"]["timer"] == DURATION_ENTITY
    wait_for(
        "the new entry to report healthy",
        lambda: instance.state(HEALTH).json().get("state"),
        "healthy".__eq__,
        timeout=SETTLE_TIMEOUT,
    )


def test_options_flow(flow: FlowDialog, instance: Instance) -> None:
    """Configure walks the four steps; a changed margin is saved and shown."""
    page = flow.page

    entry_row(page, instance).get_by_role("button", name="Configure").click()
    flow.expect_step(title("options", "init"))
    flow.shot("options_1_sources")
    flow.submit()
    flow.expect_step(title("options", "profile"))
    flow.submit()
    flow.expect_step(title("options", "controls"))
    flow.submit()
    flow.expect_step(title("options", "limits"))
    flow.fill(label("options", "limits", "safety_margin_kwh"), 0.7)
    flow.shot("options_2_limits")
    flow.submit()

    expect(flow.dialog.get_by_role("button", name="Finish")).to_be_visible()
    flow.shot("options_3_saved")
    flow.dialog.get_by_role("button", name="Finish").click()
    assert options(instance)["safety_margin_kwh"] == 0.7
    wait_for(
        "the margin number to show the new value",
        lambda: instance.state(MARGIN).json().get("state"),
        "0.7".__eq__,
        timeout=SETTLE_TIMEOUT,
    )


def test_reconfigure(flow: FlowDialog, instance: Instance) -> None:
    """Reconfigure changes an inverter control to a new helper and reloads."""
    page = flow.page
    call_ws(
        page,
        {
            "type": "input_number/create",
            "name": HELPER_NAME,
            "min": 0,
            "max": 1440,
            "step": 1,
            "mode": "box",
            "unit_of_measurement": "min",
        },
    )
    wait_for(
        "the new helper",
        lambda: instance.state(HELPER).status_code,
        (200).__eq__,
        timeout=SETTLE_TIMEOUT,
    )

    row = entry_row(page, instance)
    row.get_by_role("button", name="Menu").first.click()
    page.get_by_role("menuitem", name="Reconfigure").click()
    flow.expect_step(title("config", "reconfigure"))
    flow.shot("reconfigure_1_sources")
    flow.submit()
    flow.expect_step(title("config", "reconfigure_profile"))
    flow.submit()
    flow.expect_step(title("config", "reconfigure_controls"))
    flow.pick(label("config", "reconfigure_controls", "timer"), HELPER)
    flow.shot("reconfigure_2_controls")
    flow.submit()

    expect(
        flow.dialog.get_by_text(TEXT["config"]["abort"]["reconfigure_successful"])
    ).to_be_visible()
    flow.shot("reconfigure_3_done")
    assert options(instance)["controls"]["timer"] == HELPER


def test_repair(flow: FlowDialog, instance: Instance) -> None:
    """Deleting the helper the entry uses raises a repair that says what to do."""
    page = flow.page
    assert options(instance)["controls"]["timer"] == HELPER
    helpers = call_ws(page, {"type": "input_number/list"})
    (helper,) = (item for item in helpers if item["name"] == HELPER_NAME)

    call_ws(page, {"type": "input_number/delete", "input_number_id": helper["id"]})

    wait_for(
        "the monitor to report the missing entity",
        lambda: instance.state(ERROR_STATE).json().get("state"),
        "source_missing".__eq__,
        timeout=SETTLE_TIMEOUT,
    )
    issue = TEXT["issues"]["source_missing"]
    page.goto(f"{instance.base}/config/repairs")
    expect(page.get_by_text(issue["title"])).to_be_visible()
    flow.shot("repair_1_list")
    page.get_by_text(issue["title"]).click()
    description = issue["description"].format(title=TITLE, entity_id=HELPER)
    expect(page.get_by_text(description)).to_be_visible()
    flow.shot("repair_2_details")
