"""The stop goes out before anything is told: notifications, repairs, events, states."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.const import ATTR_ENTITY_ID, EVENT_CALL_SERVICE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.issue_registry import EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor import supervisor as supervisor_module
from custom_components.export_monitor.const import (
    DOMAIN,
    EVENT_ALLOWANCE_EXCEEDED,
    EVENT_DISCHARGE_STOPPED,
)
from custom_components.export_monitor.logic.control_state import (
    Stop,
    WriteFloor,
    stop_first,
)
from custom_components.export_monitor.logic.supervision import StopReason
from tests.conftest import CUTOFF, DURATION, ENABLE, EXPORT, SOC, base_options
from tests.discharge import (
    ENTRY_ID,
    ERROR,
    async_advance,
    async_exporting,
    async_settle,
    async_start,
    follow_enable,
    notification_id,
    notifications,
)
from tests.resilience import Behaviour as ControlBehaviour, Controls
from tests.vendors.generic import GenericSim

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")

MIN_SOC_NUMBER: Final = "number.export_monitor_min_soc"
STOP: Final = ("call", f"input_boolean.turn_off {ENABLE}")
# What tells the user or an automation: none of it may come before the stop.
TOLD: Final = frozenset({"notify", "issue", "event", "error_state"})

type Entry = tuple[str, str]
type Scene = Callable[[HomeAssistant, FrozenDateTimeFactory], Awaitable[None]]


@pytest.fixture
def options() -> dict[str, Any]:
    """Return the entry options of a fully configured monitor."""
    return base_options()


@pytest.fixture
def journal(hass: HomeAssistant) -> list[Entry]:
    """Record, in the order they happen, calls to other domains and all that is told."""
    entries: list[Entry] = []

    @callback
    def _async_call(event: Event) -> None:
        """Note a call to another integration's service."""
        data = event.data
        if data["domain"] != DOMAIN:
            target = data["service_data"].get(ATTR_ENTITY_ID)
            entries.append(("call", f"{data['domain']}.{data['service']} {target}"))

    @callback
    def _async_notified(kind: Any, shown: dict[str, Any]) -> None:
        """Note a persistent notification raised."""
        if kind is persistent_notification.UpdateType.ADDED:
            entries.extend(("notify", key) for key in shown)

    @callback
    def _async_issue(event: Event) -> None:
        """Note a repair issue raised."""
        if event.data["action"] == "create":
            entries.append(("issue", event.data["issue_id"]))

    @callback
    def _async_event(event: Event) -> None:
        """Note one of our events."""
        entries.append(("event", event.event_type))

    @callback
    def _async_error_state(event: Event[EventStateChangedData]) -> None:
        """Note the error state the entity shows."""
        new_state = event.data["new_state"]
        if new_state is not None:
            entries.append(("error_state", new_state.state))

    hass.bus.async_listen(EVENT_CALL_SERVICE, _async_call)
    hass.bus.async_listen(EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, _async_issue)
    hass.bus.async_listen(EVENT_ALLOWANCE_EXCEEDED, _async_event)
    hass.bus.async_listen(EVENT_DISCHARGE_STOPPED, _async_event)
    persistent_notification.async_register_callback(hass, _async_notified)
    async_track_state_change_event(hass, [ERROR], _async_error_state)
    return entries


def told_before_stop(journal: list[Entry]) -> list[Entry]:
    """Return what was told before the first stop call (everything without one)."""
    end = journal.index(STOP) if STOP in journal else len(journal)
    return [entry for entry in journal[:end] if entry[0] in TOLD]


def set_state(hass: HomeAssistant, entity_id: str, state: str) -> None:
    """Write a source's state, keeping its attributes."""
    hass.states.async_set(entity_id, state, hass.states.get(entity_id).attributes)


async def async_running(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Start a discharge the inverter obeys."""
    follow_enable(hass, ENABLE)
    await async_start(hass)


async def async_ignored(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Start a discharge the battery never shows, up to just before the obey check."""
    await async_start(hass)
    await async_advance(hass, freezer, 85)


async def async_idle(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Leave the monitor idle."""


async def async_soc_unavailable(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Let the SOC read unavailable (the fault path)."""
    set_state(hass, SOC, "unavailable")
    await async_settle(hass)


async def async_no_flow_seen(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Let the obey check fall due on a battery that shows no discharge (a rule)."""
    await async_advance(hass, freezer, 5)


async def async_turned_on_by_hand(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Turn the enable helper on with no discharge running."""
    await hass.services.async_call(
        "input_boolean", "turn_on", {ATTR_ENTITY_ID: ENABLE}, blocking=True
    )
    await async_settle(hass)


async def async_soc_removed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Remove the SOC sensor."""
    hass.states.async_remove(SOC)
    await async_settle(hass)


async def async_export_past_allowance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Let the export counter jump past the 11.5 kWh allowance."""
    set_state(hass, EXPORT, "12.0")
    await async_settle(hass)


async def async_rules_fail(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let the decision raise on the next source update."""
    with patch.object(supervisor_module, "decide", side_effect=RuntimeError("boom")):
        set_state(hass, SOC, "79")
        await async_settle(hass)


async def async_floor_unwritable(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Run a discharge whose cutoff write fails."""
    await async_running(hass, freezer)
    Controls(hass, GenericSim(hass=hass)).break_entity(CUTOFF, ControlBehaviour.RAISE)


async def async_min_soc_raised(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Raise min SOC above the floor written: the cutoff must be written at once."""
    await hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: MIN_SOC_NUMBER, "value": 60}
    )
    await async_settle(hass)


async def async_timer_unwritable(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Run a discharge whose timer write fails, up to just before the re-arm."""
    await async_running(hass, freezer)
    Controls(hass, GenericSim(hass=hass)).break_entity(DURATION, ControlBehaviour.RAISE)
    await async_exporting(hass, freezer, 760)


async def async_time_passes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Let a minute pass with the export counter counting."""
    await async_exporting(hass, freezer, 60)


@dataclass(frozen=True, slots=True)
class Case:
    """A stop made due by one trigger, and what must be told after it."""

    prepare: Scene
    trigger: Scene
    reason: str
    told: tuple[Entry, ...]


CASES: Final = {
    "soc_unavailable": Case(
        async_running,
        async_soc_unavailable,
        "data_unsafe",
        (("notify", notification_id("soc_read_failed")),),
    ),
    "inverter_not_obeying": Case(
        async_ignored,
        async_no_flow_seen,
        "inverter_not_obeying",
        (
            ("notify", notification_id("inverter_not_obeying")),
            ("error_state", "inverter_not_obeying"),
        ),
    ),
    "unexpected_discharge": Case(
        async_idle,
        async_turned_on_by_hand,
        "unexpected_discharge",
        (
            ("notify", notification_id("unexpected_discharge")),
            ("error_state", "unexpected_discharge"),
        ),
    ),
    "source_removed": Case(
        async_running,
        async_soc_removed,
        "source_removed",
        (
            ("notify", notification_id("source_missing")),
            ("issue", f"source_missing_{ENTRY_ID}"),
            ("error_state", "source_missing"),
        ),
    ),
    "allowance_exceeded": Case(
        async_running,
        async_export_past_allowance,
        "allowance_exceeded",
        (
            ("event", EVENT_ALLOWANCE_EXCEEDED),
            ("notify", notification_id("allowance_exceeded")),
            ("issue", f"allowance_exceeded_{ENTRY_ID}"),
        ),
    ),
    "internal_error": Case(
        async_running,
        async_rules_fail,
        "internal_error",
        (
            ("notify", notification_id("internal_error")),
            ("error_state", "internal_error"),
        ),
    ),
    "floor_write_failed": Case(
        async_floor_unwritable,
        async_min_soc_raised,
        "actuator_unavailable",
        (
            ("notify", notification_id("cutoff_soc_set_failed")),
            ("error_state", "cutoff_soc_set_failed"),
        ),
    ),
    "rearm_failed": Case(
        async_timer_unwritable,
        async_time_passes,
        "rearm_failed",
        (
            ("notify", notification_id("duration_set_failed")),
            ("error_state", "duration_set_failed"),
        ),
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
async def test_the_stop_goes_out_before_anything_is_told(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    journal: list[Entry],
    stopped: list[Event],
    case: Case,
) -> None:
    """The inverter's off is the first thing after the decision; all is told after it."""
    await case.prepare(hass, freezer)
    journal.clear()
    await case.trigger(hass, freezer)
    assert [event.data["reason"] for event in stopped] == [case.reason]
    assert told_before_stop(journal) == []
    after = journal[journal.index(STOP) :]
    assert [entry for entry in case.told if entry not in after] == []
    assert ("event", EVENT_DISCHARGE_STOPPED) in after
    assert hass.states.get(ENABLE).state == "off"
    assert {told[1] for told in case.told if told[0] == "notify"} <= notifications(hass)


# Ticking: the stop's retries sleep in real time.
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00", tick=True)
async def test_a_fault_stop_that_fails_still_tells_everything(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    journal: list[Entry],
) -> None:
    """The off goes out first; when it fails, the fault and the failed stop are told."""
    await async_running(hass, freezer)
    Controls(hass, GenericSim(hass=hass)).break_entity(ENABLE, ControlBehaviour.RAISE)
    journal.clear()
    await async_soc_unavailable(hass, freezer)
    assert told_before_stop(journal) == []
    assert ("issue", f"discharge_stop_failed_{ENTRY_ID}") in journal
    assert {
        notification_id("soc_read_failed"),
        notification_id("discharge_stop_failed"),
    } <= notifications(hass)
    assert hass.states.get(ERROR).state == "discharge_stop_failed"
    assert hass.states.get(ENABLE).state == "on"


async def test_a_floor_decided_with_the_stop_is_not_written_after_it(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    service_calls: list[Event],
    stopped: list[Event],
) -> None:
    """A floor raise decided in the stop's own step finds the session gone: no write."""
    await async_running(hass, freezer)
    controller = init_integration.runtime_data.controller
    step = (WriteFloor(60.0), Stop(StopReason.INVERTER_NOT_OBEYING))
    controller.apply((controller.state, stop_first(step)))
    await async_settle(hass)
    assert [event.data["reason"] for event in stopped] == ["inverter_not_obeying"]
    floors = [
        event.data["service_data"].get("value")
        for event in service_calls
        if event.data["service_data"].get(ATTR_ENTITY_ID) == CUTOFF
    ]
    assert 60.0 not in floors
    assert not controller.state.cutoff_writing
