"""The published algorithm of earlier tools, as a pure controller to compare against."""

# Its flaws are deliberate: the forecast may raise the cap, the margin is added, and a run
# ends by time only (duration fixed at the start), never by watching the export meter.

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
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


def baseline_allowance_kwh(published: Published, margin_kwh: float) -> float | None:
    """Return the earlier tool's allowance: max(PV, forecast) + margin - exported."""
    pv = as_kwh(published.pv_today)
    exported = as_kwh(published.export_today)
    if pv is None or exported is None:
        return None
    forecast = as_kwh(published.forecast_today) or 0.0
    return max(pv, forecast) + margin_kwh - exported


class BaselineController:
    """Checks every interval; starts a fixed-duration run; stops when that time is up."""

    __slots__ = ("_config", "_next_check", "_tz", "_until")

    def __init__(self, config: BaselineConfig | None = None) -> None:
        """Start idle."""
        self._config = config or BaselineConfig()
        self._tz = ZoneInfo(self._config.timezone)
        self._next_check: datetime | None = None
        self._until: datetime | None = None

    @property
    def running(self) -> bool:
        """Return whether the controller believes a run is in progress."""
        return self._until is not None

    def decide(self, published: Published, now: datetime) -> list[Command]:
        """Return the writes to make at now (an aware moment)."""
        moment = require_aware(now)
        if self._until is not None:
            return self._finish(moment)
        if self._next_check is not None and moment < self._next_check:
            return []
        self._next_check = moment + timedelta(seconds=self._config.check_interval_s)
        return self._maybe_start(published, moment)

    def _finish(self, moment: datetime) -> list[Command]:
        """Stop once the fixed duration has elapsed; the meter is not consulted."""
        if self._until is None or moment < self._until:
            return []
        self._until = None
        self._next_check = moment + timedelta(seconds=self._config.check_interval_s)
        return [SetEnable(False)]

    def _maybe_start(self, published: Published, moment: datetime) -> list[Command]:
        """Start a run of allowance / power when inside the window with SOC to spare."""
        cfg = self._config
        if not in_window(
            moment.astimezone(self._tz).time(), cfg.window_start, cfg.window_end
        ):
            return []
        allowance = baseline_allowance_kwh(published, cfg.safety_margin_kwh)
        soc = published.soc.value
        if allowance is None or soc is None or allowance <= cfg.min_start_kwh:
            return []
        if soc <= cfg.min_soc:
            return []
        minutes = allowance / cfg.power_kw * 60.0
        self._until = moment + timedelta(minutes=minutes)
        return [
            SetPower(cfg.power_kw),
            SetCutoff(cfg.min_soc),
            SetDuration(minutes),
            SetEnable(True),
        ]
