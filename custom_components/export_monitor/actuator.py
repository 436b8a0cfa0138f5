"""The one path for writing to other entities: timed out, verified, tagged, serialised."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Final, NoReturn

from homeassistant.const import ATTR_ENTITY_ID, STATE_ON
from homeassistant.core import (
    Context,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util.async_ import create_eager_task

from .const import ACTUATOR_TIMEOUT_SECONDS, DOMAIN, LOGGER
from .logic.readings import parse_number
from .logic.units import setpoint_power_scale
from .profiles.base import ReadBack
from .profiles.render import Call, Expect, readback_failure

SWITCH_DOMAINS: Final = frozenset({"switch", "input_boolean"})
NUMBER_DOMAINS: Final = frozenset({"number", "input_number"})
# Read-back tolerance when a number entity has no step attribute.
DEFAULT_STEP: Final = 0.001


class ActuatorError(HomeAssistantError):
    """A write to another entity failed, timed out or did not read back."""


type OutcomeRecorder = Callable[[bool], None]


def _domain(entity_id: str) -> str:
    """Return the domain part of an entity id."""
    return entity_id.partition(".")[0]


def _target(call: Call) -> str:
    """Return what a call writes to: its entity, or the service it calls."""
    return call.entity_id or f"{call.domain}.{call.service}"


class ExportMonitorActuator:
    """Writes to the inverter's entities, one call at a time, and checks each."""

    def __init__(self, hass: HomeAssistant, record_outcome: OutcomeRecorder) -> None:
        """Bind to Home Assistant and to the breaker that counts outcomes."""
        self._hass = hass
        self._record_outcome = record_outcome
        self._lock = asyncio.Lock()
        # Calls abandoned at their timeout that have not ended yet (kept referenced).
        self._abandoned: set[asyncio.Task[Any]] = set()

    def switch_is_on(self, entity_id: str) -> bool | None:
        """Return an on/off entity's state, None when it has none."""
        state = self._hass.states.get(entity_id)
        if state is None or state.state not in ("on", "off"):
            return None
        return state.state == STATE_ON

    def number_value(self, entity_id: str) -> float | None:
        """Return a number entity's value, None when not numeric."""
        state = self._hass.states.get(entity_id)
        if state is None:
            return None
        parsed = parse_number(state.state)
        return parsed if isinstance(parsed, float) else None

    def power_kw(self, entity_id: str) -> float | None:
        """Return a power setpoint entity's value in kW."""
        value = self.number_value(entity_id)
        scale = self._power_scale(entity_id)
        return None if value is None or scale is None else value * scale

    def _power_scale(self, entity_id: str) -> float | None:
        """Return kW per unit of a power setpoint entity."""
        state = self._hass.states.get(entity_id)
        unit = None if state is None else state.attributes.get("unit_of_measurement")
        return setpoint_power_scale(unit)

    async def async_apply(
        self,
        call: Call,
        error_key: str,
        *,
        latency_s: float = 0.0,
        extra: bool = False,
    ) -> None:
        """Send one call and confirm it by its read-back rule; raise when it fails.

        A POLLED read-back waits (outside the lock, cancellable) up to `latency_s`
        for the entity to show the value. An `extra` write (an off for safety's sake)
        does not count as a success in the breaker: it must not hide the failures of
        the writes that matter.
        """
        await self.async_send(call, error_key)
        await self.async_confirm(((call, error_key),), latency_s=latency_s, extra=extra)

    async def async_send(self, call: Call, error_key: str) -> None:
        """Send one call (timed out, in our context); confirm it with async_confirm."""
        await self._async_call(call, _target(call), error_key)

    async def async_confirm(
        self,
        sent: Sequence[tuple[Call, str]],
        *,
        latency_s: float = 0.0,
        extra: bool = False,
    ) -> None:
        """Confirm sent calls by their read-back rules; raise for the first that fails.

        The POLLED ones still to show wait together, once, up to `latency_s`: a
        sequence costs one poll, never one poll per write. Each success counts in the
        breaker unless the calls are `extra`.
        """
        waiting: list[tuple[Call, str]] = []
        for call, error_key in sent:
            problem = self._problem(call)
            if problem is None:
                continue
            if call.readback is not ReadBack.POLLED or latency_s <= 0:
                self._fail(_target(call), error_key, problem)
            waiting.append((call, error_key))
        if waiting:
            await self.async_await_shown(waiting, latency_s)
        for call, error_key in waiting:
            # Read again: a poll in the very tick the wait ended still confirms.
            if (problem := self._problem(call)) is not None:
                self._fail(
                    _target(call), error_key, f"{problem} within {latency_s:.0f} s"
                )
        if not extra:
            for _sent in sent:
                self._record_outcome(True)

    def shows(self, call: Call) -> bool:
        """Return whether a call's entity shows what it wrote (nothing to read: it does)."""
        return self._problem(call) is None

    def _problem(self, call: Call) -> str | None:
        """Return why a call's entity does not show it yet, None when it does."""
        return None if call.expect is None else self._readback(call.expect)

    async def async_await_shown(
        self, waiting: Sequence[tuple[Call, str]], latency_s: float
    ) -> None:
        """Wait (bounded, cancellable) until every call's entity shows it."""
        shown: asyncio.Future[None] = self._hass.loop.create_future()

        @callback
        def _on_state(_event: Event[EventStateChangedData]) -> None:
            """Resolve once every entity shows what was written."""
            if not shown.done() and all(
                self._problem(call) is None for call, _key in waiting
            ):
                shown.set_result(None)

        entity_ids = [call.expect.entity_id for call, _key in waiting if call.expect]
        unsub = async_track_state_change_event(self._hass, entity_ids, _on_state)
        try:
            async with asyncio.timeout(latency_s):
                await shown
        except TimeoutError:
            pass  # the caller reads what shows now
        finally:
            unsub()

    def _readback(self, expect: Expect) -> str | None:
        """Return why the entity's state does not confirm a write, None when it does."""
        state = self._hass.states.get(expect.entity_id)
        return readback_failure(expect, None if state is None else state.state)

    async def async_set_switch(
        self, entity_id: str, on: bool, error_key: str, *, extra: bool = False
    ) -> None:
        """Turn an on/off entity on or off and verify it at once."""
        service = "turn_on" if on else "turn_off"
        call = Call(
            domain=_domain(entity_id),
            service=service,
            entity_id=entity_id,
            data={},
            expect=Expect(entity_id=entity_id, state=STATE_ON if on else "off"),
            readback=ReadBack.AT_ONCE,
        )
        await self.async_apply(call, error_key, extra=extra)

    async def async_set_number(
        self,
        entity_id: str,
        value: float,
        error_key: str,
        *,
        at_most: float | None = None,
        at_least: float | None = None,
    ) -> float:
        """Set a number entity, verify it reads back within half a step; return it."""
        expect = Expect(
            entity_id=entity_id,
            number=value,
            tolerance=(self.step(entity_id) or DEFAULT_STEP) / 2.0,
            at_most=at_most,
            at_least=at_least,
        )
        call = Call(
            domain=_domain(entity_id),
            service="set_value",
            entity_id=entity_id,
            data={"value": value},
            expect=expect,
            readback=ReadBack.AT_ONCE,
        )
        await self.async_apply(call, error_key)
        # Confirmed just now, with no await since: it reads back a number.
        actual = self.number_value(entity_id)
        return value if actual is None else actual

    async def async_set_power_kw(
        self, entity_id: str, power_kw: float, error_key: str
    ) -> float:
        """Set a power setpoint given in kW, in the entity's own unit; return kW read."""
        scale = self._power_scale(entity_id)
        if scale is None:
            self._fail(entity_id, error_key, "unit is not W or kW")
        actual = await self.async_set_number(
            entity_id, round(power_kw / scale, 3), error_key
        )
        return actual * scale

    def unit(self, entity_id: str) -> str | None:
        """Return an entity's unit of measurement, None when it has none."""
        state = self._hass.states.get(entity_id)
        unit = None if state is None else state.attributes.get("unit_of_measurement")
        return unit if isinstance(unit, str) else None

    def step(self, entity_id: str) -> float | None:
        """Return a number entity's step, None when it has none."""
        state = self._hass.states.get(entity_id)
        step = None if state is None else state.attributes.get("step")
        return float(step) if isinstance(step, int | float) and step > 0 else None

    async def _async_call(self, request: Call, target: str, error_key: str) -> None:
        """Call one service with a timeout, our own context and the breaker."""
        data = dict(request.data)
        if request.entity_id is not None:
            data[ATTR_ENTITY_ID] = request.entity_id
        entity_id = target
        async with self._lock:
            call = create_eager_task(
                self._hass.services.async_call(
                    request.domain,
                    request.service,
                    data,
                    blocking=True,
                    context=Context(),
                ),
                name=f"export_monitor {request.service} {target}",
                loop=self._hass.loop,
            )
            try:
                # A callee may swallow cancellation: wait for it, never on it.
                await asyncio.wait({call}, timeout=ACTUATOR_TIMEOUT_SECONDS)
            except asyncio.CancelledError:
                self._abandon(call)
                raise
            if not call.done():
                self._abandon(call)
                self._fail(entity_id, error_key, "timed out")
            if call.cancelled():
                self._fail(entity_id, error_key, "cancelled")
            # A foreign integration may raise anything; every failure counts.
            if (err := call.exception()) is not None:
                self._fail(entity_id, error_key, repr(err), err)

    def _abandon(self, call: asyncio.Task[Any]) -> None:
        """Cancel a call and leave it: it may ignore the cancellation."""
        call.cancel()
        self._abandoned.add(call)
        call.add_done_callback(self._forget)

    def _forget(self, call: asyncio.Task[Any]) -> None:
        """Drop an abandoned call once it ends; its outcome no longer matters."""
        self._abandoned.discard(call)
        if not call.cancelled():
            call.exception()  # retrieved, so asyncio does not log it as lost

    def _fail(
        self,
        entity_id: str,
        error_key: str,
        detail: str,
        err: BaseException | None = None,
    ) -> NoReturn:
        """Count a failure in the breaker and raise a translated error."""
        self._record_outcome(False)
        LOGGER.debug("Write to %s failed: %s", entity_id, detail)
        raise ActuatorError(
            translation_domain=DOMAIN,
            translation_key=error_key,
            translation_placeholders={"entity_id": entity_id, "detail": detail},
        ) from err
