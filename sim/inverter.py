"""The inverter: force-discharge controls with latency, ignored writes, a timer, and dispatch.

Faults are keyed to time, never drawn per write: a write's latency and whether it is ignored
depend only on the seed and the second it is sent, so every controller that writes at the
same moment meets the same fault.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, time
import random
from typing import Literal

from .clock import EVENT_EPS

type Setting = Literal["enabled", "power_kw", "cutoff_soc", "duration_minutes"]
# How the inverter ends a forced discharge by itself when nobody writes any more:
# rearm_any_write: a duration timer every duration or enable-on write re-arms (Alpha ESS
#   dispatch register written on each call, Huawei forcible_discharge duration);
# rearm_on_change: the same timer, re-armed only by a changed value (the Alpha ESS helper
#   package refreshes the dispatch only on a value change);
# command_timeout: a timeout re-armed only by writing the command (enable on) again
#   (SolarEdge Storage Command Timeout);
# watchdog_fallback: no timer; a watchdog fed by the vendor integration's polling falls
#   back, once Home Assistant is gone, to a mode that keeps exporting (Fox ESS watchdog to
#   Feed-in First); modelled pessimistically: the discharge goes on down to its cutoff;
# none: no time bound at all, only the cutoff SOC (Sigenergy Remote EMS).
type BackstopKind = Literal[
    "rearm_any_write", "rearm_on_change", "command_timeout", "watchdog_fallback", "none"
]
SETTINGS: tuple[Setting, ...] = (
    "enabled",
    "power_kw",
    "cutoff_soc",
    "duration_minutes",
)
# The seconds a vendor watchdog waits after the last poll before it falls back (Fox: 2 x poll).
WATCHDOG_S = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class IgnoreWindow:
    """Writes of a setting (and value, if given) landing in [start, end) read back but do nothing."""

    start: datetime
    end: datetime
    setting: Setting
    value: bool | float | None = None

    def matches(self, setting: Setting, value: bool | float) -> bool:
        """Return whether a write of this setting and value is one this window ignores."""
        return setting == self.setting and self.value in (None, value)


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
    backstop: BackstopKind = "rearm_any_write"
    ignore_windows: tuple[IgnoreWindow, ...] = ()
    stop_latency_s: tuple[float, float] | None = None
    power_factor: float = 1.0
    persistent_settings: frozenset[Setting] = frozenset({"power_kw", "cutoff_soc"})

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
        power = max(0.0, settings.power_kw) * config.power_factor
        return Dispatch(power, settings.cutoff_soc, 100.0)
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
        "_fallback_s",
        "_ignore_after_s",
        "_ignore_windows_s",
        "_key",
        "_last_due_s",
        "_pending",
        "_readback",
        "_rng",
        "fallback_active",
        "ignored_count",
        "timer_stops",
        "writes_by_setting",
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
        self._key = rng.getrandbits(64)
        self._ignore_windows_s: tuple[tuple[float, float, IgnoreWindow], ...] = ()
        self._fallback_s: float | None = None
        self.fallback_active = False
        self.timer_stops = 0
        self.ignored_count = 0
        self.writes_by_setting: dict[Setting, int] = dict.fromkeys(SETTINGS, 0)

    def schedule(self, epoch: datetime) -> None:
        """Turn the configured ignore windows into simulation seconds from epoch."""
        self._ignore_windows_s = tuple(
            ((w.start - epoch).total_seconds(), (w.end - epoch).total_seconds(), w)
            for w in self._config.ignore_windows
        )

    def controller_gone(self, now_s: float) -> None:
        """Note that Home Assistant stopped: a vendor watchdog falls back after WATCHDOG_S."""
        if self._config.backstop == "watchdog_fallback":
            self._fallback_s = now_s + WATCHDOG_S

    def _draw(self, tag: str, now_s: float) -> float:
        """Return a uniform [0, 1) number fixed by the seed, a tag and the whole second."""
        return random.Random(f"{self._key}:{tag}:{int(now_s)}").random()

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
        low, high = self._latency(setting, value)
        due = max(
            now_s + low + (high - low) * self._draw("latency", now_s), self._last_due_s
        )
        ignored = self._draw("ignore", now_s) < self._config.ignore_probability
        self.writes_by_setting[setting] += 1
        self._last_due_s = due
        self._pending.append(PendingCommand(due, setting, value, ignored))
        if self._config.readback_immediate:
            self._readback = with_setting(self._readback, setting, value)

    def _latency(self, setting: Setting, value: bool | float) -> tuple[float, float]:
        """Return the latency range of a write: stops may have their own."""
        late = self._config.stop_latency_s
        if late is not None and setting == "enabled" and value is False:
            return late
        return self._config.latency_s

    def timer_expiry_s(self) -> float | None:
        """Return when the inverter's own timer will end the discharge, if it will."""
        eff = self._effective
        if self._config.backstop in ("watchdog_fallback", "none"):
            return None
        if not eff.enabled or eff.duration_minutes <= 0.0 or self._armed_s is None:
            return None
        return self._armed_s + eff.duration_minutes * 60.0

    def next_event_s(self) -> float | None:
        """Return the time of the next queued write, timer expiry or watchdog fallback."""
        times = [t for t in (self.timer_expiry_s(), self._fallback_s) if t is not None]
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
        fallback = self._fallback_s
        if fallback is not None and fallback <= now_s + EVENT_EPS:
            self._fall_back()
        return self._readback != before

    def _fall_back(self) -> None:
        """Fall back as the watchdog does: a running discharge goes on, with no time bound."""
        self._fallback_s = None
        self.fallback_active = self._effective.enabled

    def _ignored(self, command: PendingCommand) -> bool:
        """Return whether a landing write is ignored (drawn, hung, or in an ignore window)."""
        after = self._ignore_after_s
        if command.ignored or (after is not None and command.due_s >= after):
            return True
        return any(
            start <= command.due_s < end
            and window.matches(command.setting, command.value)
            for start, end, window in self._ignore_windows_s
        )

    def _rearms(self, command: PendingCommand) -> bool:
        """Return whether a landing write re-arms the inverter's timer."""
        kind = self._config.backstop
        on = command.setting == "enabled" and command.value is True
        if kind == "command_timeout":
            return on
        if command.setting != "duration_minutes" and not on:
            return False
        if kind == "rearm_on_change":
            before = self._effective
            return with_setting(before, command.setting, command.value) != before
        return True

    def _land(self, command: PendingCommand) -> None:
        """Apply one write to the readback and, unless ignored, to the effective controls."""
        self._readback = with_setting(self._readback, command.setting, command.value)
        if self._ignored(command):
            self.ignored_count += 1
            return
        rearm = self._rearms(command)
        self._effective = with_setting(self._effective, command.setting, command.value)
        if rearm:
            self._armed_s = command.due_s
