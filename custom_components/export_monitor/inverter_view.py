"""What the inverter shows: its controls, whether it exports, its backstop and clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final

from homeassistant.core import HomeAssistant, State
from homeassistant.util import dt as dt_util

from .actuator import ExportMonitorActuator
from .const import SUPERVISION_INTERVAL
from .logic.deadman import duration_scale
from .logic.inverter_clock import slot_clock_offset_s
from .logic.readings import parse_number
from .profiles.base import BackstopKind, InverterProfile, Role, Value
from .profiles.render import EntityFacts, slot_minutes_left

_UNREADABLE: Final = ("unavailable", "unknown")
# The values that send a timer in a service field or as a slot end.
FIELD_TIMERS: Final = (Value.TIMER_S, Value.TIMER_MIN, Value.END)


class InverterView:
    """Reads a profile's controls from Home Assistant's states; sends no write."""

    def __init__(
        self,
        hass: HomeAssistant,
        profile: InverterProfile,
        controls: Callable[[], Mapping[Role, str]],
        actuator: ExportMonitorActuator,
    ) -> None:
        """Bind a profile to its controls (read live: a rename follows) and the writes."""
        self._hass = hass
        self.profile = profile
        self._controls = controls
        self.actuator = actuator
        # The timer last sent as a plain value (minutes), for profiles that cannot
        # read their timer back.
        self._sent_backstop_minutes: float | None = None
        # When the last stop (or reconcile) was confirmed: a polled running state
        # that has not reported since still shows the export that was stopped.
        self._stopped_at: datetime | None = None

    @property
    def expires(self) -> bool:
        """Return whether the profile's own backstop ends a discharge unless re-armed."""
        return self.profile.backstop_expires

    def backstop_minutes(self) -> float | None:
        """Return the armed backstop in minutes; None when none expires.

        Read back from the timer entity where there is one, else from the slot end on
        the inverter's clock (a slot select holds whole minutes), else the value sent.
        """
        if not self.expires:
            return None
        entity_id = self.controls.get(Role.TIMER)
        if entity_id is None:
            slot = self._slot_minutes_left()
            return self._sent_backstop_minutes if slot is None else slot
        value = self.number(Role.TIMER)
        if value is None:
            return None
        return value * (duration_scale(self.actuator.unit(entity_id)) or 1.0)

    @property
    def controls(self) -> Mapping[Role, str]:
        """Return the entity (or device) chosen for each role, as configured now."""
        return self._controls()

    def is_running(self) -> bool | None:
        """Return whether a forced export runs; None when nothing readable says so."""
        running = self.profile.running
        entity_id = None if running is None else self.controls.get(running.role)
        state = None if entity_id is None else self._hass.states.get(entity_id)
        if running is not None and self._gated_off(running.gate):
            return False
        if running is None or state is None or state.state in _UNREADABLE:
            return None
        if running.prefix:
            return state.state.startswith(running.on_states)
        return state.state in running.on_states

    def _gated_off(self, gate: Role | None) -> bool:
        """Return whether the control that lets anything run reads off."""
        entity_id = None if gate is None else self.controls.get(gate)
        state = None if entity_id is None else self._hass.states.get(entity_id)
        return state is not None and state.state == "off"

    @property
    def readable(self) -> bool:
        """Return whether a chosen entity can say whether an export runs."""
        return self.running_entity is not None

    @property
    def fallback_exports(self) -> bool:
        """Return whether the inverter, left alone, falls back to a mode that exports."""
        return self.profile.backstop.fallback_exports

    @property
    def timed(self) -> bool:
        """Return whether the start sends a timer in a service field."""
        return any(
            field in FIELD_TIMERS
            for write in self.profile.start
            for _name, field in write.fields
        )

    @property
    def backstop_backed(self) -> bool:
        """Return whether a timer sized to the headroom bounds a discharge on the inverter."""
        return Role.TIMER in self.controls or self.timed

    @property
    def running_entity(self) -> str | None:
        """Return the entity whose state says whether an export runs."""
        running = self.profile.running
        return None if running is None else self.controls.get(running.role)

    @property
    def shown_entity(self) -> str:
        """Return the control that names the inverter to the user."""
        controls = self.controls
        for role in (Role.ENABLE, Role.MODE):
            if role in controls:
                return controls[role]
        return self.running_entity or next(iter(controls.values()), self.profile.key)

    def maybe_running(self) -> bool:
        """Return whether an export may run by what the inverter shows (unknown: may)."""
        state = self._running_state()
        if state is not None and self._stale_since_stop(state):
            return False  # the stop just confirmed shows at the integration's next poll
        return self.is_running() is True or (
            state is not None and state.state == "unknown"
        )

    @property
    def running_changed_at(self) -> datetime | None:
        """Return when the running state last changed (None: nothing readable)."""
        state = self._running_state()
        return None if state is None else state.last_changed

    def _running_state(self) -> State | None:
        """Return the state of the entity that says whether an export runs."""
        entity_id = self.running_entity
        return None if entity_id is None else self._hass.states.get(entity_id)

    def _stale_since_stop(self, state: State) -> bool:
        """Return whether a polled running state has not reported since the last stop."""
        stopped_at = self._stopped_at
        latency = self.profile.readback_latency_s
        if stopped_at is None or latency <= 0 or state.last_reported >= stopped_at:
            return False
        # The poll may land in the same tick as the latency ends: one tick of slack.
        waited = (dt_util.utcnow() - stopped_at).total_seconds()
        return waited <= latency + SUPERVISION_INTERVAL.total_seconds()

    def _slot_minutes_left(self) -> float | None:
        """Return the minutes the slot still runs, read back on the inverter's clock."""
        slot_end = self.controls.get(Role.SLOT_END)
        if slot_end is None or self.profile.backstop.kind is not BackstopKind.SLOT_END:
            return None
        state = self._hass.states.get(slot_end)
        now = dt_util.now()
        offset = self.clock_offset(now)
        if offset is None:
            return None  # no clock to read the slot on: the value sent stands
        return slot_minutes_left(None if state is None else state.state, now, offset)

    def entity(self, role: Role) -> str | None:
        """Return the entity chosen for a role, None when none is."""
        return self.controls.get(role)

    def number(self, role: Role) -> float | None:
        """Return a role's numeric state, None when it has none."""
        entity_id = self.controls.get(role)
        state = None if entity_id is None else self._hass.states.get(entity_id)
        parsed = None if state is None else parse_number(state.state)
        return parsed if isinstance(parsed, float) else None

    def clock_offset(self, now: datetime) -> float | None:
        """Return HA's clock minus the inverter's; None when its clock role is untrusted."""
        entity_id = self.controls.get(Role.CLOCK)
        state = None if entity_id is None else self._hass.states.get(entity_id)
        return slot_clock_offset_s(
            now, None if state is None else state.state, chosen=entity_id is not None
        )

    def clock_unreadable(self, now: datetime) -> bool:
        """Return whether the profile's slot needs the inverter's clock and none is trusted."""
        return self.profile.backstop.inverter_clock and self.clock_offset(now) is None

    def _facts(self) -> dict[str, EntityFacts]:
        """Return state, unit and step of every control entity."""
        facts: dict[str, EntityFacts] = {}
        for entity_id in self.controls.values():
            state = self._hass.states.get(entity_id)
            if state is None:
                continue
            unit = state.attributes.get("unit_of_measurement")
            step = state.attributes.get("step")
            facts[entity_id] = EntityFacts(
                state=state.state,
                unit=unit if isinstance(unit, str) else None,
                step=float(step)
                if isinstance(step, int | float) and step > 0
                else None,
            )
        return facts
