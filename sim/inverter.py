"""The inverter: force-discharge controls with latency, ignored writes, a timer, and dispatch."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, time
import random
from typing import Literal

from .clock import EVENT_EPS

type Setting = Literal["enabled", "power_kw", "cutoff_soc", "duration_minutes"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GridCharge:
    """An off-peak window in which the battery charges from the grid to a target SOC."""

    start: time
    end: time
    target_soc: float
    power_kw: float


@dataclass(frozen=True, slots=True, kw_only=True)
class InverterConfig:
    """How the inverter reacts to commands and runs the battery by itself."""

    latency_s: tuple[float, float] = (1.0, 1.0)
    ignore_probability: float = 0.0
    ignore_after: datetime | None = None
    readback_immediate: bool = False
    reserve_soc: float = 10.0
    grid_charge: GridCharge | None = None

    def __post_init__(self) -> None:
        """Reject impossible latencies and probabilities."""
        low, high = self.latency_s
        if not 0.0 <= low <= high:
            raise ValueError("latency_s must be (low, high) with 0 <= low <= high")
        if not 0.0 <= self.ignore_probability <= 1.0:
            raise ValueError("ignore_probability must be within 0..1")


@dataclass(frozen=True, slots=True, kw_only=True)
class DischargeSettings:
    """The force-discharge controls: as read back, or as actually driving power flow."""

    enabled: bool = False
    power_kw: float = 3.0
    cutoff_soc: float = 10.0
    duration_minutes: float = 0.0


@dataclass(frozen=True, slots=True)
class PendingCommand:
    """A write on its way to the inverter; ignored writes change only the readback."""

    due_s: float
    setting: Setting
    value: bool | float
    ignored: bool


@dataclass(frozen=True, slots=True)
class Dispatch:
    """What the inverter asks of the battery: AC power (discharge +) and the SOC bounds."""

    power_kw: float
    floor_soc: float
    ceiling_soc: float


def with_setting(
    settings: DischargeSettings, setting: Setting, value: bool | float
) -> DischargeSettings:
    """Return the settings with one control changed."""
    match setting:
        case "enabled":
            return replace(settings, enabled=bool(value))
        case "power_kw":
            return replace(settings, power_kw=float(value))
        case "cutoff_soc":
            return replace(settings, cutoff_soc=float(value))
        case "duration_minutes":
            return replace(settings, duration_minutes=float(value))


def dispatch(
    settings: DischargeSettings,
    config: InverterConfig,
    pv_kw: float,
    load_kw: float,
    grid_charging: bool,
) -> Dispatch:
    """Return the battery request: forced discharge, grid charge, or self-consumption."""
    if settings.enabled:
        return Dispatch(max(0.0, settings.power_kw), settings.cutoff_soc, 100.0)
    charge = config.grid_charge
    if grid_charging and charge is not None:
        return Dispatch(-max(charge.power_kw, pv_kw - load_kw), 0.0, charge.target_soc)
    return Dispatch(load_kw - pv_kw, config.reserve_soc, 100.0)


class Inverter:
    """Readback and effective controls, a command queue, and the inverter-side timer."""

    __slots__ = (
        "_armed_s",
        "_config",
        "_effective",
        "_ignore_after_s",
        "_last_due_s",
        "_pending",
        "_readback",
        "_rng",
        "ignored_count",
        "timer_stops",
    )

    def __init__(
        self,
        config: InverterConfig,
        rng: random.Random,
        ignore_after_s: float | None,
        initial: DischargeSettings,
    ) -> None:
        """Start with both readback and effective controls at the initial settings."""
        self._config = config
        self._rng = rng
        self._ignore_after_s = ignore_after_s
        self._readback = initial
        self._effective = initial
        self._armed_s: float | None = 0.0 if initial.enabled else None
        self._pending: deque[PendingCommand] = deque()
        self._last_due_s = 0.0
        self.timer_stops = 0
        self.ignored_count = 0

    @property
    def readback(self) -> DischargeSettings:
        """Return the controls as the inverter reports them."""
        return self._readback

    @property
    def effective(self) -> DischargeSettings:
        """Return the controls that actually drive power flow."""
        return self._effective

    def command(self, setting: Setting, value: bool | float, now_s: float) -> None:
        """Queue a write; it lands after the latency, in order, maybe ignored."""
        low, high = self._config.latency_s
        due = max(now_s + self._rng.uniform(low, high), self._last_due_s)
        ignored = self._rng.random() < self._config.ignore_probability
        self._last_due_s = due
        self._pending.append(PendingCommand(due, setting, value, ignored))
        if self._config.readback_immediate:
            self._readback = with_setting(self._readback, setting, value)

    def timer_expiry_s(self) -> float | None:
        """Return when the inverter's own timer will end the discharge, if it will."""
        eff = self._effective
        if not eff.enabled or eff.duration_minutes <= 0.0 or self._armed_s is None:
            return None
        return self._armed_s + eff.duration_minutes * 60.0

    def next_event_s(self) -> float | None:
        """Return the time of the next queued write or timer expiry."""
        times = [t for t in (self.timer_expiry_s(),) if t is not None]
        if self._pending:
            times.append(self._pending[0].due_s)
        return min(times, default=None)

    def process(self, now_s: float) -> bool:
        """Apply what is due at now_s; return whether the readback changed."""
        before = self._readback
        while self._pending and self._pending[0].due_s <= now_s + EVENT_EPS:
            self._land(self._pending.popleft())
        expiry = self.timer_expiry_s()
        if expiry is not None and expiry <= now_s + EVENT_EPS:
            self._effective = replace(self._effective, enabled=False)
            self._readback = replace(self._readback, enabled=False)
            self.timer_stops += 1
        return self._readback != before

    def _land(self, command: PendingCommand) -> None:
        """Apply one write to the readback and, unless ignored, to the effective controls."""
        self._readback = with_setting(self._readback, command.setting, command.value)
        after = self._ignore_after_s
        if command.ignored or (after is not None and command.due_s >= after):
            self.ignored_count += 1
            return
        self._effective = with_setting(self._effective, command.setting, command.value)
        if command.setting == "duration_minutes" or (
            command.setting == "enabled" and command.value is True
        ):
            self._armed_s = command.due_s
