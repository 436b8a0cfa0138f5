"""The inverter as its profile drives it: start, power, keep-alive, the stop ladder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
import math
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .actuator import ActuatorError, ExportMonitorActuator
from .const import DOMAIN, LOGGER
from .inverter_view import FIELD_TIMERS, InverterView
from .logic.control_start import activation_awaited
from .logic.errors import ErrorState
from .logic.flash import FlashLedger
from .logic.inverter_clock import CLOCK_SKEW_LIMIT
from .logic.supervision import BACKSTOP_MAX_MINUTES
from .profiles.base import (
    InverterProfile,
    Op,
    PowerMeaning,
    ReadBack,
    Role,
    Value,
    Write,
)
from .profiles.render import Call, RenderError, WriteValues, readback_failure, render
from .stored import async_load_stored

# The error a failed write raises, by the role it writes (activation otherwise).
_ROLE_ERRORS: Final = {
    Role.POWER: ErrorState.DISCHARGE_POWER_SET_FAILED,
    Role.CUTOFF: ErrorState.CUTOFF_SOC_SET_FAILED,
    Role.TIMER: ErrorState.DURATION_SET_FAILED,
}
FLASH_STORE_VERSION: Final = 1
# The values written as a time on the inverter's own clock.
_CLOCK_VALUES: Final = (Value.NOW, Value.END)


def flash_store_key(entry_id: str) -> str:
    """Return the storage key of an entry's count of today's flash writes."""
    return f"{DOMAIN}.{entry_id}.flash"


class ExportMonitorInverter(InverterView):
    """Runs a profile's sequences on the entities chosen for its roles."""

    def __init__(
        self,
        hass: HomeAssistant,
        profile: InverterProfile,
        controls: Callable[[], Mapping[Role, str]],
        actuator: ExportMonitorActuator,
        store_key: str | None = None,
    ) -> None:
        """Bind a profile to its controls (read live: a rename follows) and the writes.

        With a `store_key` the day's count of flash writes is kept across restarts.
        """
        super().__init__(hass, profile, controls, actuator)
        # Flash-wearing writes sent today (local day), against the profile's budget.
        self.ledger = FlashLedger()
        self._store: Store[dict[str, Any]] | None = None
        if store_key is not None:
            self._store = Store(hass, FLASH_STORE_VERSION, store_key)

    async def async_load(self) -> None:
        """Read today's count of flash writes as stored before a restart."""
        if self._store is None:
            return
        stored = await async_load_stored(self._store, "today's flash writes")
        self.ledger = FlashLedger.from_data(stored.data)

    @property
    def flash_writes(self) -> int:
        """Return the flash-wearing writes counted on the ledger's day."""
        return self.ledger.used

    async def async_start(
        self, values: WriteValues, before_each: Callable[[Write], None] | None = None
    ) -> None:
        """Write the start sequence: parameters that differ, activation last.

        `before_each` runs before every write and may raise to abort the start. A
        polled activation that may read back later than 30 s is not awaited: the
        session judges it (activation_awaited).
        """
        await self._async_run(
            self.profile.start,
            values,
            skip_unchanged=True,
            before_each=before_each,
            await_last=activation_awaited(self.profile.readback_latency_s),
        )

    async def async_set_power(self, values: WriteValues) -> None:
        """Change the power of a running export."""
        await self._async_run(self.profile.set_power, values, skip_unchanged=True)

    async def async_keepalive(self, values: WriteValues) -> None:
        """Re-arm the inverter-side timer (the backstop); a failure is the timer's."""
        await self._async_run(
            self.profile.keepalive, values, error=ErrorState.DURATION_SET_FAILED
        )

    async def async_set_cutoff(self, values: WriteValues) -> None:
        """Write the SOC floor, unless it already reads it."""
        await self._async_run(self.profile.set_cutoff, values, skip_unchanged=True)

    async def async_after_stop(self, values: WriteValues) -> None:
        """Set back what a discharge changed that applies outside it too."""
        await self._async_run(self.profile.after_stop, values, skip_unchanged=True)

    async def async_reconcile(self, values: WriteValues) -> None:
        """End whatever may run after a restart, as the profile says."""
        await self._async_run_stop(self.profile.reconcile, values)

    @property
    def rungs(self) -> int:
        """Return how many rungs the stop ladder has."""
        return len(self.profile.stop_ladder)

    async def async_stop(
        self, values: WriteValues, rung: int = 0, *, extra: bool = False
    ) -> None:
        """Step the stop ladder: rung 0 is the normal stop, later ones fallbacks."""
        sequence = self.profile.stop_ladder[min(rung, self.rungs - 1)]
        await self._async_run_stop(sequence, values, extra=extra)

    async def _async_run_stop(
        self, sequence: tuple[Write, ...], values: WriteValues, *, extra: bool = False
    ) -> None:
        """Send a stop sequence; it holds once the running control reads off.

        A later write of the sequence that fails (GivEnergy: clearing the slot after
        Eco) is logged, not a failed stop: retrying the stop would change nothing the
        inverter does, and each retry waits out that write's read-back again.
        """
        landed: list[Write] = []
        try:
            await self._async_run(
                sequence,
                values,
                error=ErrorState.DISCHARGE_STOP_FAILED,
                extra=extra,
                budgeted=False,
                landed=landed,
            )
        except ActuatorError as err:
            if not self._stopped_by(landed):
                raise
            LOGGER.warning("Stopped, but a later write of the stop failed: %s", err)
        self._stopped_at = dt_util.utcnow()

    def _stopped_by(self, landed: list[Write]) -> bool:
        """Return whether a confirmed write to the running control (or its gate) ended it."""
        running = self.profile.running
        if running is None:
            return False
        roles = (running.role, running.gate)
        return (
            any(write.role in roles for write in landed) and self.is_running() is False
        )

    async def _async_run(
        self,
        sequence: tuple[Write, ...],
        values: WriteValues,
        *,
        error: ErrorState | None = None,
        skip_unchanged: bool = False,
        extra: bool = False,
        before_each: Callable[[Write], None] | None = None,
        budgeted: bool = True,
        landed: list[Write] | None = None,
        await_last: bool = True,
    ) -> None:
        """Render and send each write in order; the first failure raises.

        A write read back at once is confirmed before the next goes out; the polled
        parameters are confirmed together (one wait, bounded by the profile's
        latency) before the activation, the last write, goes out. A write that is not
        `budgeted` (a stop) is counted but never refused. Each write sent and
        confirmed is appended to `landed`. Without `await_last` a polled activation
        is sent, not awaited: the caller's session judges it.
        """
        values = replace(
            values,
            rearm=self.profile.backstop.rearm,
            power_reads_lower=self.profile.power_meaning is PowerMeaning.RATE_CAP,
            whole_minutes=self.profile.whole_minute_slots,
            clock_offset_s=self._slot_offset(sequence, values),
        )
        polled: list[tuple[Write, Call, ErrorState]] = []
        for index, write in enumerate(sequence):
            activation = index == len(sequence) - 1
            if activation and polled:
                # The parameters (timer, power) bound what the activation does.
                await self._async_confirm(polled, extra=extra, landed=landed)
                polled = []
            if before_each is not None:
                before_each(write)
            key = error or _error_for(write)
            call = self._render(write, values, key)
            if call is None or (
                skip_unchanged and self._shows(write, call, activation=activation)
            ):
                continue
            flash = self._spend_flash(write, call, values, key, budgeted=budgeted)
            try:
                await self.actuator.async_send(call, key)
            finally:
                if flash:
                    await self._async_save_ledger()
            self._note_backstop(write, values)
            if call.readback is ReadBack.POLLED:
                polled.append((write, call, key))
                continue
            await self.actuator.async_confirm(((call, key),), extra=extra)
            if landed is not None:
                landed.append(write)
        if await_last:
            await self._async_confirm(polled, extra=extra, landed=landed)

    async def _async_confirm(
        self,
        polled: list[tuple[Write, Call, ErrorState]],
        *,
        extra: bool,
        landed: list[Write] | None,
    ) -> None:
        """Confirm polled writes together: one wait, bounded by the profile's latency.

        Those that show are `landed`, even when another of them fails.
        """
        try:
            await self.actuator.async_confirm(
                [(call, key) for _write, call, key in polled],
                latency_s=self.profile.readback_latency_s,
                extra=extra,
            )
        finally:
            if landed is not None:
                landed.extend(
                    write for write, call, _key in polled if self.actuator.shows(call)
                )

    def _slot_offset(self, sequence: tuple[Write, ...], values: WriteValues) -> float:
        """Return the clock offset a sequence is written with; none trusted: refuse it.

        Only a time on the inverter's clock (a slot) needs it; a stop clears the slot
        with a fixed time and goes out whatever the clock reads.
        """
        offset = self.clock_offset(values.now)
        if offset is not None:
            return offset
        if not any(_on_inverter_clock(write) for write in sequence):
            return 0.0
        limit = int(CLOCK_SKEW_LIMIT.total_seconds() // 60)
        detail = f"it shows no time within {limit} minutes of Home Assistant's"
        clock = self.controls.get(Role.CLOCK, "")
        raise _error(ErrorState.INVERTER_CLOCK_UNREADABLE, clock, detail)

    def _render(
        self, write: Write, values: WriteValues, key: ErrorState
    ) -> Call | None:
        """Render a write from the entities' current facts; a refusal is a failure."""
        try:
            return render(write, self.controls, self._facts(), values)
        except RenderError as err:
            target = self.controls.get(write.role) if write.role else write.service
            raise _error(key, str(target), str(err)) from err

    def _shows(self, write: Write, call: Call, *, activation: bool) -> bool:
        """Return whether a parameter already shows the value: no write is needed.

        A number is compared, and so is any write that wears flash, except the
        activation (the sequence's last write), which always goes out.
        """
        if write.value is Value.TIMER:
            return False  # a timer write re-arms
        if write.op is not Op.SET_NUMBER and (activation or not self._wears(write)):
            return False
        expect = call.expect
        if expect is None:
            return False
        state = self._hass.states.get(expect.entity_id)
        # Only the very value is "shown": a lower power still needs the write.
        exact = replace(expect, lower_is_safe=False)
        return readback_failure(exact, None if state is None else state.state) is None

    def _wears(self, write: Write) -> bool:
        """Return whether a write goes to a control that wears the inverter's flash."""
        control = None if write.role is None else self.profile.control(write.role)
        return control is not None and control.flash

    def _note_backstop(self, write: Write, values: WriteValues) -> None:
        """Remember the timer sent as a plain value (nothing reads it back)."""
        fields = [field for _name, field in write.fields]
        sent = [field for field in (write.value, *fields) if field in FIELD_TIMERS]
        if not sent:
            return
        if Value.END in sent:
            self._sent_backstop_minutes = values.backstop_minutes
            return
        seconds = math.floor(min(values.backstop_minutes, BACKSTOP_MAX_MINUTES) * 60.0)
        if Value.TIMER_MIN in sent:
            seconds -= seconds % 60  # whole minutes, as the field is sent
        self._sent_backstop_minutes = seconds / 60.0

    def _spend_flash(
        self,
        write: Write,
        call: Call,
        values: WriteValues,
        key: ErrorState,
        *,
        budgeted: bool,
    ) -> bool:
        """Count a flash-wearing write; refuse one beyond the profile's daily budget.

        Return whether it was counted. A stop is never refused: it goes out anyway.
        """
        if not self._wears(write):
            return False
        today = values.now.date()
        left = self.ledger.left(today, self.profile.write_budget_per_day)
        if budgeted and left == 0:
            # Refused, not sent: the caller stops instead, and says why.
            budget = self.profile.write_budget_per_day
            detail = f"today's budget of {budget} flash writes is spent"
            raise _error(key, str(call.entity_id), detail)
        self.ledger = self.ledger.spend(today)
        return True

    async def _async_save_ledger(self) -> None:
        """Keep today's count of flash writes, so a restart does not reset the budget."""
        if self._store is not None:
            await self._store.async_save(self.ledger.to_data())


def _on_inverter_clock(write: Write) -> bool:
    """Return whether a write sends a time on the inverter's clock (a slot's start or end)."""
    fields = (field for _name, field in write.fields)
    return any(field in _CLOCK_VALUES for field in (write.value, *fields))


def _error_for(write: Write) -> ErrorState:
    """Return the error a failed write of a start raises."""
    if write.role is None:
        return ErrorState.DISCHARGE_START_FAILED
    return _ROLE_ERRORS.get(write.role, ErrorState.DISCHARGE_START_FAILED)


def _error(key: ErrorState, entity_id: str, detail: str) -> ActuatorError:
    """Return a translated actuator error that no service call raised."""
    return ActuatorError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"entity_id": entity_id, "detail": detail},
    )
