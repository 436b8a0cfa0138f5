"""Tests of the one write path: any call, its timeout, breaker and read-back rule."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers.event import async_call_later
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.export_monitor.actuator import (
    ActuatorError,
    ExportMonitorActuator,
)
from custom_components.export_monitor.profiles.base import ReadBack
from custom_components.export_monitor.profiles.render import Call, Expect

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")

SLOW: Final = "number.vendor_power"  # shows a write at the vendor's next poll
POLL: Final = timedelta(seconds=20)


def _polled(value: float, *, readback: ReadBack = ReadBack.POLLED) -> Call:
    """Return a write to the slow entity, confirmed by the given rule."""
    return Call(
        domain="vendor",
        service="set_value",
        entity_id=SLOW,
        data={"value": value},
        expect=Expect(entity_id=SLOW, number=value, tolerance=0.05),
        readback=readback,
    )


@pytest.fixture
def outcomes() -> list[bool]:
    """Collect what the breaker is told."""
    return []


@pytest.fixture
def actuator(hass: HomeAssistant, outcomes: list[bool]) -> ExportMonitorActuator:
    """Return an actuator over a vendor whose entity shows writes only at its poll."""
    hass.states.async_set(SLOW, "0")

    @callback
    def _set_value(call: ServiceCall) -> None:
        """Take the value now, show it at the next poll."""
        value = str(call.data["value"])

        @callback
        def _poll(_now: object) -> None:
            hass.states.async_set(SLOW, value)

        async_call_later(hass, POLL, _poll)

    hass.services.async_register("vendor", "set_value", _set_value)
    return ExportMonitorActuator(hass, outcomes.append)


async def _until_waiting() -> None:
    """Let a write run up to its read-back wait: a few passes of the event loop."""
    for _ in range(10):
        await asyncio.sleep(0)


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, s: float) -> None:
    """Let `s` seconds pass."""
    freezer.tick(timedelta(seconds=s))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_polled_readback_waits_for_the_next_poll(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    actuator: ExportMonitorActuator,
    outcomes: list[bool],
) -> None:
    """A polling integration shows the write late: no false failure within the latency."""
    write = asyncio.create_task(
        actuator.async_apply(_polled(3.0), "discharge_power_set_failed", latency_s=60)
    )
    await _until_waiting()
    assert not write.done()
    await _tick(hass, freezer, 21)
    await write
    assert outcomes == [True]
    assert hass.states.get(SLOW).state == "3.0"


async def test_polled_readback_that_never_comes_fails(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    actuator: ExportMonitorActuator,
    outcomes: list[bool],
) -> None:
    """A value not shown within the profile's latency is a failed write."""
    write = asyncio.create_task(
        actuator.async_apply(_polled(3.0), "discharge_power_set_failed", latency_s=10)
    )
    await _until_waiting()
    await _tick(hass, freezer, 11)
    with pytest.raises(ActuatorError) as err:
        await write
    assert err.value.translation_key == "discharge_power_set_failed"
    assert err.value.translation_placeholders == {
        "entity_id": SLOW,
        "detail": "read back 0.0, wanted 3.0 within 10 s",
    }
    assert outcomes == [False]


async def test_at_once_readback_fails_without_waiting(
    actuator: ExportMonitorActuator, outcomes: list[bool]
) -> None:
    """An entity that must show a write at once and does not, fails at once."""
    call = _polled(3.0, readback=ReadBack.AT_ONCE)
    with pytest.raises(ActuatorError) as err:
        await actuator.async_apply(call, "discharge_power_set_failed", latency_s=60)
    assert err.value.translation_placeholders == {
        "entity_id": SLOW,
        "detail": "read back 0.0, wanted 3.0",
    }
    assert outcomes == [False]


async def test_a_polled_wait_does_not_hold_back_other_writes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    actuator: ExportMonitorActuator,
    outcomes: list[bool],
) -> None:
    """While a read-back is awaited, a stop goes out: supervision is not blocked."""
    hass.states.async_set("input_boolean.force", "on")
    calls = async_mock_service(hass, "input_boolean", "turn_off")
    write = asyncio.create_task(
        actuator.async_apply(_polled(3.0), "discharge_power_set_failed", latency_s=60)
    )
    await _until_waiting()
    stop = Call(
        domain="input_boolean",
        service="turn_off",
        entity_id="input_boolean.force",
        data={},
        expect=None,
        readback=ReadBack.NONE,
    )
    await actuator.async_apply(stop, "discharge_stop_failed")
    assert len(calls) == 1
    assert not write.done()
    write.cancel()
    assert outcomes == [True]


async def test_service_call_without_an_entity(
    hass: HomeAssistant, actuator: ExportMonitorActuator, outcomes: list[bool]
) -> None:
    """A vendor service with fields is sent as it is; its proof is the power flow."""
    calls = async_mock_service(hass, "huawei_solar", "forcible_discharge")
    call = Call(
        domain="huawei_solar",
        service="forcible_discharge",
        entity_id=None,
        data={"device_id": "abc", "power": 3000},
        expect=None,
        readback=ReadBack.NONE,
    )
    await actuator.async_apply(call, "discharge_start_failed")
    assert [c.data for c in calls] == [{"device_id": "abc", "power": 3000}]
    assert outcomes == [True]


async def test_a_failing_service_names_itself(
    hass: HomeAssistant, actuator: ExportMonitorActuator, outcomes: list[bool]
) -> None:
    """A service with no entity that fails is named by its service in the error."""
    call = Call(
        domain="huawei_solar",
        service="missing",
        entity_id=None,
        data={},
        expect=None,
        readback=ReadBack.NONE,
    )
    with pytest.raises(ActuatorError) as err:
        await actuator.async_apply(call, "discharge_start_failed")
    assert err.value.translation_key == "discharge_start_failed"
    assert err.value.translation_placeholders["entity_id"] == "huawei_solar.missing"
    assert outcomes == [False]
