"""The alert blueprint in a real Home Assistant: each critical condition sends its message."""

from __future__ import annotations

from pathlib import Path
import shutil
from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)

from tests.conftest import ENABLE, EXPORT
from tests.discharge import (
    ERROR,
    HEALTH,
    SOURCES,
    STATUS,
    async_advance,
    async_settle,
    async_start,
    follow_enable,
)

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")

BLUEPRINT: Final = (
    Path(__file__).resolve().parent.parent
    / "blueprints"
    / "automation"
    / "export_monitor"
    / "alert.yaml"
)
NOTIFY_SERVICE: Final = "mobile_app_test_phone"
TITLE: Final = "Export Monitor"
# The public event name (CONTRACT.md), as an automation spells it.
ALLOWANCE_EXCEEDED: Final = "export_monitor_allowance_exceeded"
IDLE: Final = {HEALTH: "healthy", ERROR: "none", STATUS: "idle"}
STOP_FAILED: Final = (
    "The forced discharge could NOT be stopped: the inverter did not confirm the stop. "
    "The battery may still be exporting and could break your export rule. Stop the "
    "discharge at the inverter or in its app now. The monitor keeps retrying every "
    "30 seconds."
)
UNEXPECTED: Final = (
    "The inverter's forced discharge was on, but the monitor did not start it: "
    "something else (the inverter's app, a schedule or another automation) "
    "discharged the battery without supervision. The monitor switched it off; "
    "check at the inverter that it stays off, and find what turned it on."
)
NOT_OBEYING: Final = (
    "The inverter does not follow the monitor's command: its switch reads as "
    "commanded but the battery power shows otherwise. Another app or schedule may "
    "override it. Check the inverter's mode and the battery power sensor."
)
STALE: Final = (
    "A required sensor stopped reporting during a forced discharge, so the monitor "
    "cannot prove the export rule holds and stops the discharge. Check that the "
    "inverter integration is updating, and that the discharge really stopped."
)


def exceeded_message(exported: str, allowance: str, over: str) -> str:
    """Return the allowance-exceeded message for these figures."""
    return (
        f"Today's export allowance is exceeded: {exported} kWh exported against "
        f"{allowance} kWh allowed ({over} kWh over). Make sure no forced discharge is "
        "running, then look at the Export Monitor device and Settings > Repairs for "
        "the cause."
    )


def set_shown(hass: HomeAssistant, states: dict[str, str], *, active: bool) -> None:
    """Write what the monitor's three sensors show, as the integration would."""
    for entity_id, state in states.items():
        attributes = {"discharge_active": active} if entity_id == HEALTH else {}
        hass.states.async_set(entity_id, state, attributes)


async def async_use_blueprint(hass: HomeAssistant, tmp_path: Path) -> None:
    """Import the blueprint into the config folder and make an automation from it."""
    hass.config.config_dir = str(tmp_path)
    target = Path(hass.config.path("blueprints/automation/export_monitor/alert.yaml"))
    target.parent.mkdir(parents=True)
    shutil.copy(BLUEPRINT, target)
    config = {
        AUTOMATION_DOMAIN: {
            "use_blueprint": {
                "path": "export_monitor/alert.yaml",
                "input": {"notify_action": f"notify.{NOTIFY_SERVICE}"},
            }
        }
    }
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, config)
    await hass.async_block_till_done()


@pytest.fixture
def sent(hass: HomeAssistant) -> list[ServiceCall]:
    """Record the push messages sent through the mocked notify action."""
    return async_mock_service(hass, "notify", NOTIFY_SERVICE)


def messages(sent: list[ServiceCall]) -> list[tuple[str, str]]:
    """Return the title and message of each push message sent."""
    return [(call.data["title"], call.data["message"]) for call in sent]


@pytest.fixture
async def alerts(hass: HomeAssistant, tmp_path: Path) -> None:
    """Show an idle monitor and set up the alert automation from the blueprint."""
    set_shown(hass, IDLE, active=False)
    await async_use_blueprint(hass, tmp_path)


@pytest.mark.usefixtures("alerts")
@pytest.mark.parametrize(
    ("shown", "active", "expected"),
    [
        pytest.param(
            {ERROR: "discharge_stop_failed", STATUS: "active"},
            True,
            STOP_FAILED,
            id="stop_not_confirmed",
        ),
        pytest.param(
            {ERROR: "unexpected_discharge"}, False, UNEXPECTED, id="unexpected"
        ),
        pytest.param(
            {ERROR: "inverter_not_obeying", STATUS: "active"},
            True,
            NOT_OBEYING,
            id="not_obeying",
        ),
        pytest.param(
            {STATUS: "active", HEALTH: "stale_data"},
            True,
            STALE,
            id="stale_while_active",
        ),
    ],
)
async def test_condition_sends_message(
    hass: HomeAssistant,
    sent: list[ServiceCall],
    shown: dict[str, str],
    *,
    active: bool,
    expected: str,
) -> None:
    """Each critical condition sends one message with its reason and what to do."""
    set_shown(hass, shown, active=active)
    await hass.async_block_till_done()

    assert messages(sent) == [(TITLE, expected)]


@pytest.mark.usefixtures("alerts")
async def test_allowance_exceeded_sends_figures(
    hass: HomeAssistant, sent: list[ServiceCall]
) -> None:
    """The allowance-exceeded event sends the export, the allowance and the excess."""
    data: dict[str, Any] = {
        "entry_id": "01JEXPORTMONITOR0000000000",
        "exported_kwh": 11.6234,
        "allowance_kwh": 11.5,
        "over_kwh": 0.1234,
    }
    hass.bus.async_fire(ALLOWANCE_EXCEEDED, data)
    await hass.async_block_till_done()

    assert messages(sent) == [(TITLE, exceeded_message("11.62", "11.5", "0.12"))]


@pytest.mark.usefixtures("alerts")
async def test_stale_while_idle_is_quiet(
    hass: HomeAssistant, sent: list[ServiceCall]
) -> None:
    """Stale data with no discharge running sends nothing: nothing is at risk."""
    set_shown(hass, {HEALTH: "stale_data"}, active=False)
    await hass.async_block_till_done()

    assert sent == []


async def test_stale_during_real_discharge(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    sent: list[ServiceCall],
    tmp_path: Path,
) -> None:
    """The integration stopping a discharge on stale data still raises the alert."""
    await async_use_blueprint(hass, tmp_path)
    follow_enable(hass, ENABLE)
    await async_start(hass)
    live = tuple(source for source in SOURCES if source != EXPORT)

    await async_advance(hass, freezer, 35, live=live)

    assert hass.states.get(HEALTH).state == "stale_data"
    assert hass.states.get(STATUS).state != "active"
    assert messages(sent) == [(TITLE, STALE)]


async def test_real_breach_sends_figures(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    sent: list[ServiceCall],
    tmp_path: Path,
) -> None:
    """Export measured beyond the allowance by the integration reaches the phone."""
    await async_use_blueprint(hass, tmp_path)
    export = hass.states.get(EXPORT)
    assert export is not None

    # The allowance is 12 kWh of PV less the 0.5 kWh margin.
    hass.states.async_set(EXPORT, "11.8", export.attributes)
    await async_settle(hass)
    await hass.async_block_till_done()

    assert messages(sent) == [(TITLE, exceeded_message("11.8", "11.5", "0.3"))]


async def test_real_unexpected_discharge(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    sent: list[ServiceCall],
    tmp_path: Path,
) -> None:
    """The enable entity turned on behind the monitor's back reaches the phone."""
    await async_use_blueprint(hass, tmp_path)

    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": ENABLE}, blocking=True
    )
    await async_settle(hass)
    await hass.async_block_till_done()

    assert hass.states.get(ENABLE).state == "off"
    assert messages(sent) == [(TITLE, UNEXPECTED)]
