"""The inverter's own timer holds if Home Assistant dies; setpoints read back as written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, EVENT_CALL_SERVICE
from homeassistant.core import Event, HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor.const import (
    CONF_CUTOFF_SOC_ENTITY,
    CONF_DISCHARGE_DURATION_ENTITY,
    CONF_DISCHARGE_POWER_ENTITY,
    CONF_DISCHARGE_SWITCH_ENTITY,
    CONF_INVERTER_MAX_POWER_KW,
)
from tests.conftest import CUTOFF, DURATION, ENABLE, ENERGY_ATTRS, EXPORT, base_options
from tests.discharge import (
    ERROR,
    FAKE_CUTOFF,
    FAKE_DURATION,
    FAKE_ENABLE,
    FAKE_POWER,
    FakeControls,
    async_advance,
    async_call,
    async_exporting,
    async_idle_hour,
    async_jump,
    async_settle,
    async_setup_entry,
    async_start,
    follow_enable,
    local,
)
from tests.resilience import (
    Behaviour as ControlBehaviour,
    Controls,
    Rig,
    async_heal,
    async_setup_rig,
)
from tests.vendors.generic import GenericSim

FAKES: Final = {
    CONF_DISCHARGE_SWITCH_ENTITY: FAKE_ENABLE,
    CONF_DISCHARGE_POWER_ENTITY: FAKE_POWER,
    CONF_CUTOFF_SOC_ENTITY: FAKE_CUTOFF,
    CONF_DISCHARGE_DURATION_ENTITY: FAKE_DURATION,
}
MIN_SOC_NUMBER: Final = "number.export_monitor_min_soc"

type ReadBack = Callable[[float], float]


@pytest.fixture
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Return the entry options, changed by an indirect parameter."""
    return {**base_options(), **getattr(request, "param", {})}


@pytest.fixture(autouse=True)
async def london(hass: HomeAssistant) -> None:
    """Run in Europe/London."""
    await hass.config.async_set_time_zone("Europe/London")


def duration_writes(events: list[Event], entity_id: str) -> list[tuple[Any, float]]:
    """Return (when, value) of every write to the duration entity."""
    return [
        (event.time_fired, float(event.data["service_data"]["value"]))
        for event in events
        if event.data["service"] == "set_value"
        and event.data["service_data"].get(ATTR_ENTITY_ID) == entity_id
    ]


def reads_back(
    hass: HomeAssistant, controls: FakeControls, entity_id: str, read_back: ReadBack
) -> None:
    """Make number writes to `entity_id` land as `read_back(value)`; others obey."""
    original = controls._async_handle  # noqa: SLF001

    async def _async_handle(call: ServiceCall) -> None:
        """Answer one call."""
        if str(call.data[ATTR_ENTITY_ID]) != entity_id:
            await original(call)
            return
        state = hass.states.get(entity_id)
        attributes = {} if state is None else dict(state.attributes)
        value = read_back(float(call.data["value"]))
        hass.states.async_set(entity_id, str(value), attributes)

    hass.services.async_register("number", "set_value", _async_handle)


async def async_start_error(hass: HomeAssistant) -> str | None:
    """Try a start; return the error's translation key, None when it started."""
    try:
        await async_start(hass)
    except HomeAssistantError as err:
        return str(err.translation_key)
    return None


# -- #9: the inverter timer never runs past local midnight minus the guard ----------


@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_inverter_timer_ends_before_local_midnight(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    service_calls: list[Event],
    stopped: list[Event],
) -> None:
    """A start at 23:50 arms no timer that runs past 23:59:30, re-arms neither (#9)."""
    follow_enable(hass, ENABLE)
    await async_jump(hass, freezer, local("2026-06-15T23:50:00"))
    await async_start(hass)
    await async_exporting(hass, freezer, 600)
    writes = duration_writes(service_calls, DURATION)
    assert writes
    guard = local("2026-06-15T23:59:30")
    assert max(when + timedelta(minutes=value) for when, value in writes) <= guard
    assert [event.data["reason"] for event in stopped] == ["midnight"]


@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_start_refused_when_the_shortest_timer_outlasts_the_day(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """At 23:59 the inverter's shortest timer (1 min) would run past the guard (#9)."""
    await async_jump(hass, freezer, local("2026-06-15T23:59:00"))
    assert await async_start_error(hass) == "start_blocked_no_headroom"
    assert hass.states.get(ENABLE).state == "off"


# -- #13: read back within half a step, the session keeps the value read back ------


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_duration_rounded_up_by_a_step_never_outlasts_the_headroom(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A step-5 timer that rounds up gets a multiple of its step, never 3 min more (#13)."""
    hass.states.async_set(FAKE_DURATION, "0", {"unit_of_measurement": "min", "step": 5})
    reads_back(hass, fake_controls, FAKE_DURATION, lambda value: -(-value // 5) * 5)
    # 0.6 kWh of headroom: at 1.5 x 3 kW less the reserve, 7.x min -> 5 min.
    await async_idle_hour(hass, freezer)
    hass.states.async_set(EXPORT, "10.9", ENERGY_ATTRS)
    await async_settle(hass)
    await async_start(hass)
    session = fake_integration.runtime_data.controller.session
    assert session is not None
    assert hass.states.get(FAKE_DURATION).state == "5.0"
    assert session.backstop_minutes == 5.0


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
@pytest.mark.parametrize(
    ("entity_id", "step", "read_back", "error"),
    [
        (FAKE_DURATION, 5, lambda value: value + 2.0, "duration_set_failed"),
        (FAKE_CUTOFF, 1, lambda value: value - 0.4, "cutoff_soc_set_failed"),
        (FAKE_POWER, 0.1, lambda value: value + 0.08, "discharge_power_set_failed"),
        (FAKE_DURATION, 1, lambda value: value + 1.0, "duration_set_failed"),
    ],
    ids=[
        "duration_longer_within_half_a_step",
        "cutoff_below_min_soc_within_half_a_step",
        "power_a_step_above_the_plan",
        "duration_a_step_longer",
    ],
)
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_unsafe_read_back_fails_the_start(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    entity_id: str,
    step: float,
    read_back: ReadBack,
    error: str,
) -> None:
    """A longer timer, a cutoff under min SOC or a power over the plan fails (#13)."""
    state = hass.states.get(entity_id)
    assert state is not None
    hass.states.async_set(entity_id, state.state, {**state.attributes, "step": step})
    reads_back(hass, fake_controls, entity_id, read_back)
    assert await async_start_error(hass) == error
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert hass.states.get(ERROR).state == error
    assert fake_integration.runtime_data.controller.session is None


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_session_keeps_the_shorter_timer_read_back(
    hass: HomeAssistant, fake_integration: MockConfigEntry, fake_controls: FakeControls
) -> None:
    """A timer read back shorter, within half a step, is what the session keeps (#13)."""
    hass.states.async_set(FAKE_DURATION, "0", {"unit_of_measurement": "min", "step": 5})
    reads_back(hass, fake_controls, FAKE_DURATION, lambda value: value - 2.0)
    await async_start(hass)
    session = fake_integration.runtime_data.controller.session
    assert session is not None
    assert session.backstop_minutes == 13.0


# -- #14: the duration entity's unit: minutes, seconds or hours, converted ----------


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
@pytest.mark.parametrize(
    ("unit", "step", "written"),
    [("s", 1, 900.0), ("min", 1, 15.0), ("h", 0.01, 0.25)],
    ids=["seconds", "minutes", "hours"],
)
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_duration_is_written_in_the_entity_unit(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    unit: str,
    step: float,
    written: float,
) -> None:
    """A 15-minute timer is written as 900 s, 15 min or 0.25 h (#14)."""
    hass.states.async_set(
        FAKE_DURATION, "0", {"unit_of_measurement": unit, "step": step}
    )
    await async_start(hass)
    session = fake_integration.runtime_data.controller.session
    assert session is not None
    assert float(hass.states.get(FAKE_DURATION).state) == written
    assert session.backstop_minutes == pytest.approx(15.0)


@pytest.mark.parametrize("options", [FAKES], indirect=True, ids=["fakes"])
@pytest.mark.parametrize("unit", ["d", None], ids=["days", "no_unit"])
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_duration_in_another_unit_fails_the_start(
    hass: HomeAssistant,
    fake_integration: MockConfigEntry,
    fake_controls: FakeControls,
    unit: str | None,
) -> None:
    """A duration entity whose unit changed to one that is not time fails safely (#14)."""
    attributes = {} if unit is None else {"unit_of_measurement": unit}
    hass.states.async_set(FAKE_DURATION, "0", attributes)
    assert await async_start_error(hass) == "duration_set_failed"
    assert hass.states.get(FAKE_ENABLE).state == "off"
    assert fake_controls.attempts(FAKE_DURATION, "set_value") == 0


# -- #18: min SOC changed during a discharge is written to the inverter's cutoff -----


@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_min_soc_raised_mid_discharge_is_written_to_the_cutoff(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Raising min SOC above the SOC floor moves the inverter's cutoff too (#18)."""
    follow_enable(hass, ENABLE)
    await async_start(hass)
    # The SOC floor (80 % - 8.5 kWh / 0.22 kWh per percent, rounded up), not min SOC.
    assert hass.states.get(CUTOFF).state == "42.0"
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: MIN_SOC_NUMBER, "value": 60},
        blocking=True,
    )
    await async_advance(hass, freezer, 5)
    assert hass.states.get(CUTOFF).state == "60.0"
    session = init_integration.runtime_data.controller.session
    assert session is not None
    assert session.cutoff_soc == 60.0
    assert hass.states.get(ENABLE).state == "on"


@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_min_soc_change_that_cannot_be_written_stops(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    stopped: list[Event],
) -> None:
    """A cutoff write that fails leaves the inverter without its floor: stop (#18)."""
    follow_enable(hass, ENABLE)
    await async_start(hass)
    Controls(hass, GenericSim(hass=hass)).break_entity(CUTOFF, ControlBehaviour.RAISE)
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: MIN_SOC_NUMBER, "value": 60},
        blocking=True,
    )
    await async_advance(hass, freezer, 5)
    assert [event.data["reason"] for event in stopped] == ["actuator_unavailable"]
    assert hass.states.get(ERROR).state == "cutoff_soc_set_failed"
    assert hass.states.get(ENABLE).state == "off"


# -- #8: Home Assistant dies right after an arm: the inverter alone stays within ----


def slow_meter(every_s: float) -> Callable[[str, dict[str, Any]], tuple[str, Any]]:
    """Return a counter that re-reports every step but changes only every `every_s`."""
    held: dict[str, Any] = {}

    def _publish(value: str, attributes: dict[str, Any]) -> tuple[str, Any]:
        """Report the held value, refreshed every `every_s`."""
        now = dt_util.utcnow()
        if "at" not in held or (now - held["at"]).total_seconds() >= every_s:
            held["value"], held["at"] = value, now
        return held["value"], attributes

    return _publish


def record_arms(rig: Rig) -> list[tuple[float, float]]:
    """Record (minutes written, true export then) for every timer write."""
    arms: list[tuple[float, float]] = []

    @callback
    def _async_on_call(event: Event) -> None:
        """Note a write to the duration helper."""
        data = event.data["service_data"]
        if (
            event.data["service"] == "set_value"
            and data.get(ATTR_ENTITY_ID) == DURATION
        ):
            arms.append((float(data["value"]), rig.plant.export_kwh))

    rig.hass.bus.async_listen(EVENT_CALL_SERVICE, _async_on_call)
    return arms


@pytest.mark.parametrize("every_s", [60, 300], ids=["60s_meter", "300s_meter"])
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_home_assistant_dies_right_after_an_arm(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    every_s: float,
) -> None:
    """Had HA died right after any timer write, the inverter's run ends in time (#8)."""
    rig = await async_setup_rig(
        hass, freezer, config_entry, pv_kwh=4.1, export_kwh=2.6037
    )
    rig.plant.faults[EXPORT] = slow_meter(every_s)
    rig.plant.publish()
    await rig.async_run(10)
    arms = record_arms(rig)
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(1800)
    allowance = rig.plant.pv_kwh - rig.plant.margin_kwh(rig.entry)
    # The inverter runs the whole timer alone at the power it was given.
    overshoot = [export + 3.0 * minutes / 60.0 - allowance for minutes, export in arms]
    assert arms
    assert max(overshoot) <= 0.0
    assert rig.plant.breach_kwh == 0.0
    await async_heal(rig)


@pytest.mark.parametrize(
    ("options", "max_kw"),
    [({}, 4.5), ({CONF_INVERTER_MAX_POWER_KW: 9.0}, 9.0)],
    indirect=["options"],
    ids=["planned_x_1.5", "declared_9_kw"],
)
@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
async def test_timer_assumes_the_most_the_inverter_can_deliver(
    hass: HomeAssistant, inverter: None, config_entry: MockConfigEntry, max_kw: float
) -> None:
    """At the declared maximum (or 1.5 x the plan) the timer ends within headroom (#8)."""
    hass.states.async_set(EXPORT, "10.5", ENERGY_ATTRS)  # 1.0 kWh of headroom
    await async_setup_entry(hass, config_entry)
    await async_start(hass, power_kw=3.0)
    minutes = float(hass.states.get(DURATION).state)
    assert minutes >= 1.0
    assert max_kw * minutes / 60.0 <= 1.0
