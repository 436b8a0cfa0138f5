"""The earlier tools' fixed-duration design as pure controllers: as published, and corrected."""

# As published: the forecast may raise the allowance and the margin is added; a run of
# allowance / power minutes (rounded up, as the tool writes it) starts when there is room,
# and a check every 10 s stops it early when the meter shows no room left or the target
# exported. Corrected: the same mechanics with the right rule (measured PV - margin, the
# daily cap, no forecast): the best simple controller a user could write.

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
import math
from zoneinfo import ZoneInfo

from .clock import DEFAULT_TIMEZONE, in_window, require_aware
from .commands import Command, SetCutoff, SetDuration, SetEnable, SetPower
from .meters import as_kwh
from .plant import Published


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineConfig:
    """Settings of the earlier tool (window defaults to a 16:00-19:00 evening peak)."""

    power_kw: float = 3.0
    safety_margin_kwh: float = 0.5
    min_soc: float = 20.0
    check_interval_s: float = 10.0
    window_start: time = time(16, 0)
    window_end: time = time(19, 0)
    min_start_kwh: float = 0.0
    timezone: str = DEFAULT_TIMEZONE
    # The rule: the earlier tool uses max(PV, forecast) + margin; the correct rule PV - margin.
    use_forecast: bool = True
    margin_sign: float = 1.0
    daily_cap_kwh: float | None = None
    # The mechanics: the 10 s meter check while running, and whole minutes as written.
    meter_stop: bool = False
    ceil_minutes: bool = False


# Why a run ended: its fixed duration, or the 10 s meter check.
DURATION_STOP = "fixed_duration"
METER_STOP = "meter_check"


def published_rule(config: BaselineConfig) -> BaselineConfig:
    """Return the earlier tool as published: its rule, its 10 s meter check, whole minutes."""
    return replace(
        config, use_forecast=True, margin_sign=1.0, meter_stop=True, ceil_minutes=True
    )


def corrected(config: BaselineConfig, daily_cap_kwh: float | None) -> BaselineConfig:
    """Return the same design with the correct rule: measured PV - margin, cap, no forecast."""
    return replace(
        config,
        use_forecast=False,
        margin_sign=-1.0,
        daily_cap_kwh=daily_cap_kwh,
        meter_stop=True,
        ceil_minutes=True,
    )


def baseline_allowance_kwh(
    published: Published, margin_kwh: float, config: BaselineConfig | None = None
) -> float | None:
    """Return the room left: by default the earlier tool's max(PV, forecast) + margin - exported."""
    rule = config or BaselineConfig()
    pv = as_kwh(published.pv_today)
    exported = as_kwh(published.export_today)
    if pv is None or exported is None:
        return None
    generation = pv
    if rule.use_forecast:
        generation = max(pv, as_kwh(published.forecast_today) or 0.0)
    allowance = generation + rule.margin_sign * margin_kwh
    if rule.daily_cap_kwh is not None:
        allowance = min(allowance, rule.daily_cap_kwh - margin_kwh)
    return allowance - exported


class BaselineController:
    """Checks every interval; starts a fixed-duration run; stops when its time is up."""

    __slots__ = (
        "_config",
        "_next_check",
        "_start_export",
        "_target",
        "_tz",
        "_until",
        "last_stop_due",
        "last_stop_kind",
    )

    def __init__(self, config: BaselineConfig | None = None) -> None:
        """Start idle."""
        self._config = config or BaselineConfig()
        self._tz = ZoneInfo(self._config.timezone)
        self._next_check: datetime | None = None
        self._until: datetime | None = None
        self._start_export = 0.0
        self._target = 0.0
        self.last_stop_due: datetime | None = None
        self.last_stop_kind = DURATION_STOP

    @property
    def running(self) -> bool:
        """Return whether the controller believes a run is in progress."""
        return self._until is not None

    def decide(self, published: Published, now: datetime) -> list[Command]:
        """Return the writes to make at now (an aware moment)."""
        moment = require_aware(now)
        if self._until is not None:
            return self._finish(published, moment)
        if self._next_check is not None and moment < self._next_check:
            return []
        self._next_check = self._after_interval(moment)
        return self._maybe_start(published, moment)

    def _after_interval(self, moment: datetime) -> datetime:
        """Return the moment of the next check."""
        return moment + timedelta(seconds=self._config.check_interval_s)

    def _finish(self, published: Published, moment: datetime) -> list[Command]:
        """Stop once the fixed duration has elapsed, or at a meter check that says so."""
        if self._until is not None and moment >= self._until:
            return self._stop(moment, self._until, DURATION_STOP)
        if not self._config.meter_stop or (
            self._next_check is not None and moment < self._next_check
        ):
            return []
        self._next_check = self._after_interval(moment)
        room = baseline_allowance_kwh(
            published, self._config.safety_margin_kwh, self._config
        )
        exported = as_kwh(published.export_today)
        if room is None or exported is None:
            return []  # fail-open, as the tool does
        if room <= 0.0 or exported - self._start_export >= self._target:
            return self._stop(moment, published.export_today.last_reported, METER_STOP)
        return []

    def _stop(self, moment: datetime, due: datetime, kind: str) -> list[Command]:
        """End the run; due is when the stop became due (its end, or the meter reading)."""
        self._until = None
        self._next_check = self._after_interval(moment)
        self.last_stop_due = due
        self.last_stop_kind = kind
        return [SetEnable(False)]

    def _maybe_start(self, published: Published, moment: datetime) -> list[Command]:
        """Start a run of allowance / power when inside the window with SOC to spare."""
        cfg = self._config
        if not in_window(
            moment.astimezone(self._tz).time(), cfg.window_start, cfg.window_end
        ):
            return []
        allowance = baseline_allowance_kwh(published, cfg.safety_margin_kwh, cfg)
        soc = published.soc.value
        exported = as_kwh(published.export_today)
        if allowance is None or soc is None or allowance <= cfg.min_start_kwh:
            return []
        if soc <= cfg.min_soc or exported is None:
            return []
        minutes = allowance / cfg.power_kw * 60.0
        if cfg.ceil_minutes:
            minutes = float(math.ceil(minutes))
        self._until = moment + timedelta(minutes=minutes)
        self._start_export = exported
        self._target = allowance
        return [
            SetPower(cfg.power_kw),
            SetCutoff(cfg.min_soc),
            SetDuration(minutes),
            SetEnable(True),
        ]
