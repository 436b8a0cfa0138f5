"""What the entities show: one immutable view of data, controller and breakers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from .breach import BreachRecord
from .breaker import BreakerState, CircuitBreaker
from .errors import START_CONDITIONS, ErrorState, SystemHealth, system_health
from .settings import MonitorSettings
from .snapshot import Snapshot, start_blockers
from .window import in_window


class DischargeStatus(StrEnum):
    """Whether a forced discharge runs, could run, or is blocked."""

    IDLE = "idle"
    ACTIVE = "active"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True, kw_only=True)
class ControllerStatus:
    """What the discharge controller reports about itself."""

    active: bool = False
    fault: ErrorState = ErrorState.NONE
    refusal: ErrorState = ErrorState.NONE
    exported_this_session_kwh: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorView:
    """Everything an entity may show, computed once per update."""

    snapshot: Snapshot
    settings: MonitorSettings
    controller: ControllerStatus
    read_breaker: CircuitBreaker
    action_breaker: CircuitBreaker
    now: datetime
    breach: BreachRecord | None = None

    @property
    def over_export_today_kwh(self) -> float:
        """Return today's largest export beyond the allowance, 0 normally."""
        if self.breach is None:
            return 0.0
        return round(self.breach.over_today_kwh(self.now.date()), 3)

    @property
    def error_state(self) -> ErrorState:
        """Return the most important current fault or refusal reason."""
        if self.controller.fault is not ErrorState.NONE:
            return self.controller.fault
        if not self.snapshot.safe:
            return self.snapshot.data_fault
        return self.controller.refusal

    @property
    def breaker_open(self) -> bool:
        """Return whether either breaker refuses calls right now."""
        return any(
            breaker.state(self.now) is not BreakerState.CLOSED
            for breaker in (self.read_breaker, self.action_breaker)
        )

    @property
    def breaker_failures(self) -> int:
        """Return the consecutive failures counted by both breakers."""
        return self.read_breaker.failure_count + self.action_breaker.failure_count

    @property
    def health(self) -> SystemHealth:
        """Return the one-word system health."""
        return system_health(
            self.error_state,
            is_stale=self.snapshot.is_stale,
            breaker_open=self.breaker_open,
        )

    @property
    def in_export_window(self) -> bool:
        """Return whether the local time is inside the export window."""
        return in_window(
            self.now.time(), self.settings.window_start, self.settings.window_end
        )

    @property
    def blockers(self) -> tuple[ErrorState, ...]:
        """Return everything that blocks a manual start now."""
        found = list(start_blockers(self.snapshot, self.settings))
        if not self.action_breaker.can_attempt(self.now):
            found.append(ErrorState.CIRCUIT_BREAKER_OPEN)
        fault = self.controller.fault
        if fault in _BLOCKING_FAULTS and fault not in found:
            found.append(fault)
        return tuple(found)

    @property
    def discharge_status(self) -> DischargeStatus:
        """Return idle, active or blocked."""
        if self.controller.active:
            return DischargeStatus.ACTIVE
        return DischargeStatus.BLOCKED if self.blockers else DischargeStatus.IDLE


# Controller faults that also refuse every start while they last.
_BLOCKING_FAULTS: Final = frozenset(
    {ErrorState.DISCHARGE_STOP_FAILED, ErrorState.SOURCE_MISSING}
)


def is_fault(error: ErrorState) -> bool:
    """Return whether an error state is a fault rather than a start condition."""
    return error is not ErrorState.NONE and error not in START_CONDITIONS
