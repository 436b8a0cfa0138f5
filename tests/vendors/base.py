"""A simulated vendor integration in a real hass: entities, services, polls, backstop, traps.

Each vendor's fake (one module per profile) builds on `VendorSim`. It sets up the vendor's
controls as helper entities (input_select, input_number, input_boolean, input_button) under
the vendor's usual object ids, registers the vendor's own services, and answers every write
as that integration and its inverter do: a write may show only at the integration's next
poll, the inverter keeps its own state (the registers) apart from what the entities show,
and its backstop ends (or does not end) a forced export on simulated time.

The fake's own timers (its poll, a refresh, a delayed write) act as of the moment they were
due. A rig moves time in steps, so a timer due between two steps fires at the next one,
among the monitor's timers of that step in whatever order Home Assistant's timer heap holds
them: a write of that step must not ride on a poll that was due before it. So every write
first runs the timers due by then, each as of its due moment (`now`), and a timer that fires
after that finds its work done.

What the inverter does is given to the plant as a `Drive`. A fake can also ignore or delay
commands, hang or raise on them, and lose Home Assistant (`die`): no more commands, no more
polls of the vendor integration (which lives in Home Assistant), while the inverter and its
backstop run on by themselves. `restart` brings the vendor integration back, forgetting
what that integration forgets.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from homeassistant.const import ATTR_ENTITY_ID, EVENT_HOMEASSISTANT_CLOSE
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    HassJob,
    HomeAssistant,
    ServiceCall,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

# The helper services a fake answers for its own entities.
HELPER_SERVICES: dict[str, tuple[str, ...]] = {
    "input_number": ("set_value",),
    "input_select": ("select_option",),
    "input_boolean": ("turn_on", "turn_off"),
    "input_button": ("press",),
}
# A 10 kWh battery: 0.1 kWh per SOC percent (as tests/resilience.py's plant).
KWH_PER_PERCENT = 0.1


class Answer(StrEnum):
    """How a fake answers a command (values shared with tests/resilience.py's Behaviour)."""

    OBEY = "obey"
    IGNORE = "ignore"  # accepted, never acted on (firmware that ignores remote control)
    DELAY = "delay"  # accepted, acted on `delay_s` later
    HANG = "hang"
    RAISE = "raise"
    WRONG = "wrong"  # a number lands 5 off; any other write is dropped
    ROUND_UP = "round_up"  # a number lands one unit higher


@dataclass(frozen=True, slots=True, kw_only=True)
class Drive:
    """What the inverter does now, as the plant needs it."""

    on: bool | None  # a forced export runs (None: nothing readable, no change)
    power_kw: float | None = 0.0  # battery discharge power while on (None: unknown)
    ends: datetime | None = None  # when the inverter's own backstop ends it
    fallback_kw: float = 0.0  # battery power after `ends`: a fallback that exports
    floor_soc: float | None = None  # the SOC at which the inverter stops discharging

    def exports(self, now: datetime) -> bool:
        """Return whether the battery still discharges at `now` (its floor aside)."""
        running = self.ends is None or now < self.ends or self.fallback_kw > 0
        return bool(self.on) and running


OFF = Drive(on=False)


@dataclass(frozen=True, order=True, slots=True)
class Timer:
    """An integration-side timer: when it is due, its arming order, what it does."""

    due: datetime
    armed: int
    action: Callable[[], None] = field(compare=False)


@dataclass(kw_only=True)
class VendorSim:
    """A vendor integration and its inverter, simulated."""

    key: ClassVar[str]
    # The integration's poll (s): a register-backed entity shows a write at the next one.
    poll_s: ClassVar[float] = 0.0
    # At its cutoff the battery rests, still commanded, and goes on when the cutoff is
    # written lower (False: the inverter ends the forced export there).
    floor_rests: ClassVar[bool] = False

    hass: HomeAssistant
    alive: bool = True
    delay_s: float = 20.0
    answers: dict[str, Answer] = field(default_factory=dict)
    traps: list[str] = field(default_factory=list)
    writes: Counter[str] = field(default_factory=Counter)
    polls: int = 0
    # Set on every write the fake takes: the rig then moves simulated time while the
    # monitor waits for the write to read back.
    wrote: asyncio.Event = field(default_factory=asyncio.Event)
    _cancels: list[CALLBACK_TYPE] = field(default_factory=list)
    # The integration-side timers not yet run, and how many were ever armed.
    _timers: list[Timer] = field(default_factory=list)
    _armed: int = 0
    # When Home Assistant's interval timer polls next (None: no poll).
    _next_poll: datetime | None = None
    # The due moment a running timer acts as of (None: no timer runs).
    _as_of: datetime | None = None

    # -- what each vendor defines ------------------------------------------------------

    def helpers(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
        """Return the helper entities: domain -> object id -> helper configuration."""
        return {}

    def sensors(self) -> Mapping[str, tuple[str, Mapping[str, Any]]]:
        """Return the vendor's sensors and their first state."""
        return {}

    def services(self) -> Mapping[str, Callable[[Mapping[str, Any]], None]]:
        """Return the vendor's own services ("domain.service") and what each does."""
        return {}

    @property
    def controls(self) -> dict[str, str]:
        """Return the entity (or device id) the vendor offers for each profile role."""
        return {}

    def apply(self, entity_id: str, service: str, data: Mapping[str, Any]) -> None:
        """Act on a helper write the integration obeys (registers and entities)."""
        self.show(entity_id, written(service, data))

    def poll(self) -> None:
        """Run the integration's poll: publish registers, re-send what it re-sends."""

    def inverter(self, now: datetime) -> Drive:
        """Return what the inverter does at `now`, from its registers."""
        return OFF

    def forget(self) -> None:
        """Forget what the vendor integration keeps in memory only (HA restarted)."""

    def mend(self) -> None:
        """After a run: show every write at once, so the entry unloads without waiting."""

    # -- the machinery -----------------------------------------------------------------

    async def async_setup(self) -> None:
        """Create the entities, take over their services, register the vendor's, poll."""
        for domain, objects in self.helpers().items():
            assert await async_setup_component(self.hass, domain, {domain: objects})
        for entity_id, (state, attributes) in self.sensors().items():
            self.hass.states.async_set(entity_id, state, attributes)
        for domain in self.helpers():
            for service in HELPER_SERVICES[domain]:
                self.hass.services.async_register(domain, service, self._async_handle)
        for name in self.services():
            domain, _, service = name.partition(".")
            self.hass.services.async_register(domain, service, self._async_handle)
        if self.poll_s:
            self._arm_poll(dt_util.utcnow())
            self._cancels.append(
                async_track_time_interval(
                    self.hass,
                    self._async_poll,
                    timedelta(seconds=self.poll_s),
                    cancel_on_shutdown=True,
                )
            )
        self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_CLOSE, self._async_close)

    def now(self) -> datetime:
        """Return the moment the fake acts at: a running timer's due moment, else now."""
        return self._as_of or dt_util.utcnow()

    def catch_up(self, until: datetime | None = None) -> None:
        """Run every timer due by `until` (now), in order, each as of its due moment."""
        moment = until or dt_util.utcnow()
        while due := [timer for timer in self._timers if timer.due <= moment]:
            timer = min(due)
            self._timers.remove(timer)
            self._as_of = min(timer.due, dt_util.utcnow())
            try:
                if self.alive:
                    timer.action()
            finally:
                self._as_of = None

    def _arm(self, due: datetime, action: Callable[[], None]) -> None:
        """Note an integration-side timer: run `action` as of `due`."""
        self._armed += 1
        self._timers.append(Timer(due, self._armed, action))

    def _arm_poll(self, now: datetime) -> None:
        """Note the next poll, one poll period after `now` (Home Assistant's interval)."""
        self._next_poll = now + timedelta(seconds=self.poll_s)
        self._arm(self._next_poll, self._poll_now)

    def _poll_now(self) -> None:
        """Run one poll of the integration."""
        self.polls += 1
        self.poll()

    def drive(self) -> Drive:
        """Return what the inverter does now."""
        return self.inverter(dt_util.utcnow())

    def die(self) -> None:
        """Home Assistant dies: no more commands reach the inverter, no more polls."""
        self.alive = False

    def restart(self) -> None:
        """Home Assistant starts again: the vendor integration has forgotten its memory.

        Its timers due while Home Assistant was dead never ran: they are dropped.
        """
        now = dt_util.utcnow()
        self._timers = [timer for timer in self._timers if timer.due > now]
        self.alive = True
        self.forget()
        self.poll()

    def break_target(self, target: str, answer: str) -> None:
        """Make every later command on `target` (entity id or service) answer so."""
        self.answers[target] = Answer(answer)

    def owns(self, entity_id: str) -> bool:
        """Return whether the entity is one of the vendor's."""
        return any(
            f"{domain}.{object_id}" == entity_id
            for domain, objects in self.helpers().items()
            for object_id in objects
        )

    def show(self, entity_id: str, state: str) -> None:
        """Make an entity show `state`, keeping its attributes."""
        current = self.hass.states.get(entity_id)
        attributes = {} if current is None else current.attributes
        self.hass.states.async_set(entity_id, state, attributes)

    def number(self, entity_id: str) -> float:
        """Return what a number entity shows."""
        state = self.hass.states.get(entity_id)
        assert state is not None
        return float(state.state)

    def trap(self, name: str) -> None:
        """Note that a vendor trap was walked into."""
        self.traps.append(name)

    def later(self, seconds: float, action: Callable[[], None]) -> None:
        """Run `action` after `seconds` of simulated time (an integration-side timer)."""
        due = self.now() + timedelta(seconds=seconds)
        self._arm(due, action)

        @callback
        def _async_run(_now: datetime) -> None:
            """Run the action (unless a write ran it already) and any due before it."""
            self.catch_up(due)

        self._cancels.append(
            async_call_later(
                self.hass,
                max(0.0, (due - dt_util.utcnow()).total_seconds()),
                HassJob(_async_run, cancel_on_shutdown=True),
            )
        )

    def validate(self, target: str, service: str, data: Mapping[str, Any]) -> None:
        """Refuse a select option the entity lacks, or a number out of its range."""
        state = self.hass.states.get(target)
        if state is None or state.state == "unavailable":
            if service in ("select_option", "set_value", "press"):
                raise HomeAssistantError(f"{target} is not available")
            return
        if service == "select_option" and data["option"] not in state.attributes.get(
            "options", ()
        ):
            raise HomeAssistantError(f"{target} has no option {data['option']!r}")
        if service == "set_value" and not (
            state.attributes["min"] <= float(data["value"]) <= state.attributes["max"]
        ):
            raise HomeAssistantError(f"{target}: {data['value']} is out of range")

    @callback
    def _async_poll(self, now: datetime) -> None:
        """Poll as of the due moment (unless a write ran it already); the next is due."""
        self.catch_up(self._next_poll)
        self._arm_poll(now)

    @callback
    def _async_close(self, _event: Event) -> None:
        """Cancel the polls and pending writes when Home Assistant closes."""
        for cancel in self._cancels:
            cancel()

    async def _async_handle(self, call: ServiceCall) -> None:
        """Answer one command on each of its targets, as the target's answer says.

        The integration's timers due before the command came run first.
        """
        self.catch_up()
        for target in targets(call):
            await self._async_answer(target, call)

    async def _async_answer(self, target: str, call: ServiceCall) -> None:
        """Answer a command on one target."""
        answer = self.answers.get(target, Answer.OBEY)
        if answer is Answer.HANG:
            await asyncio.Event().wait()
        if answer is Answer.RAISE:
            raise HomeAssistantError(f"{target}: the inverter did not answer")
        if answer is Answer.IGNORE or not self.alive:
            return
        self.validate(target, call.service, call.data)
        data = distorted(call.data, answer)
        if data is None:
            return
        self.writes[target] += 1
        act = self._act(target, call.service, data)
        if answer is Answer.DELAY:
            self.later(self.delay_s, act)
        else:
            act()
        self.wrote.set()

    def _act(
        self, target: str, service: str, data: Mapping[str, Any]
    ) -> Callable[[], None]:
        """Return the action a command takes on the target."""
        vendor = self.services().get(target)
        if vendor is not None:
            return lambda: vendor(data)
        return lambda: self.apply(target, service, data)


def targets(call: ServiceCall) -> list[str]:
    """Return the entities a call is for, or its own name for a vendor service."""
    entity_ids = call.data.get(ATTR_ENTITY_ID)
    if call.domain not in HELPER_SERVICES or entity_ids is None:
        return [f"{call.domain}.{call.service}"]
    return [entity_ids] if isinstance(entity_ids, str) else list(entity_ids)


def distorted(data: Mapping[str, Any], answer: Answer) -> Mapping[str, Any] | None:
    """Return the command as it lands (None when it is dropped)."""
    if answer not in (Answer.WRONG, Answer.ROUND_UP):
        return data
    if "value" not in data:
        return None if answer is Answer.WRONG else data
    offset = 5.0 if answer is Answer.WRONG else 1.0
    return {**data, "value": float(data["value"]) + offset}


def written(service: str, data: Mapping[str, Any]) -> str:
    """Return the state a helper write asks for."""
    if service == "set_value":
        return str(float(data["value"]))
    if service == "select_option":
        return str(data["option"])
    if service == "press":
        return dt_util.utcnow().isoformat()
    return {"turn_on": "on", "turn_off": "off"}[service]


def helper_number(
    minimum: float, maximum: float, step: float, unit: str, initial: float
) -> dict[str, Any]:
    """Return an input_number configuration (a box, as vendor numbers are)."""
    return {
        "min": minimum,
        "max": maximum,
        "step": step,
        "unit_of_measurement": unit,
        "initial": initial,
        "mode": "box",
    }


def helper_select(options: tuple[str, ...], initial: str) -> dict[str, Any]:
    """Return an input_select configuration."""
    return {"options": list(options), "initial": initial}


def ends_after(start: datetime | None, seconds: float) -> datetime | None:
    """Return `seconds` after `start`, None without a start."""
    return None if start is None else start + timedelta(seconds=seconds)


def running_until(now: datetime, until: datetime | None) -> bool:
    """Return whether something armed until `until` still runs at `now`."""
    return until is not None and now < until
