"""PV output over the local day: a clear-sky bell times a seeded Markov cloud process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
import math
import random
from typing import Final
from zoneinfo import ZoneInfo

from .clock import clock_hours, local_midnight

KNOT_S: Final = 60.0
# Knots cover 25 h (the longest local day) plus one for interpolation.
_KNOTS_PER_DAY: Final = 25 * 60 + 2


@dataclass(frozen=True, slots=True, kw_only=True)
class PvConfig:
    """Clear-sky shape and cloudiness of one PV array."""

    peak_kw: float = 4.0
    sunrise_h: float = 5.5
    sunset_h: float = 20.5
    shape: float = 1.5
    cloudiness: float = 0.0
    cloud_factor: tuple[float, float] = (0.15, 0.6)
    cloud_minutes: tuple[float, float] = (5.0, 45.0)

    def __post_init__(self) -> None:
        """Reject shapes that cannot be a day."""
        if not 0.0 <= self.cloudiness <= 1.0:
            raise ValueError("cloudiness must be within 0..1")
        if not 0.0 <= self.sunrise_h < self.sunset_h <= 24.0:
            raise ValueError("need 0 <= sunrise_h < sunset_h <= 24")
        if self.peak_kw < 0.0 or self.shape <= 0.0:
            raise ValueError("peak_kw must be >= 0 and shape > 0")


def clear_sky_kw(config: PvConfig, hour: float) -> float:
    """Return clear-sky PV power at a local clock hour (a sine bell to a power)."""
    if hour <= config.sunrise_h or hour >= config.sunset_h:
        return 0.0
    x = (hour - config.sunrise_h) / (config.sunset_h - config.sunrise_h)
    return config.peak_kw * float(math.sin(math.pi * x) ** config.shape)


def _switch_probabilities(config: PvConfig) -> tuple[float, float]:
    """Return per-minute chances of a cloud starting and ending for the cloudiness."""
    c = config.cloudiness
    low, high = config.cloud_minutes
    cloudy_minutes = low + (high - low) * c
    p_end = 0.0 if c >= 1.0 else 1.0 / cloudy_minutes
    clear_minutes = cloudy_minutes * (1.0 - c) / c
    return min(1.0, 1.0 / clear_minutes) if clear_minutes > 0 else 1.0, p_end


def cloud_knots(config: PvConfig, rng: random.Random) -> tuple[float, ...]:
    """Return one day of per-minute cloud factors (1 = clear) from a two-state Markov chain."""
    if config.cloudiness <= 0.0:
        return (1.0,) * _KNOTS_PER_DAY
    p_start, p_end = _switch_probabilities(config)
    cloudy = rng.random() < config.cloudiness
    depth = rng.uniform(*config.cloud_factor)
    knots: list[float] = []
    for _ in range(_KNOTS_PER_DAY):
        jitter = rng.uniform(0.85, 1.15)
        knots.append(
            min(1.0, depth * jitter) if cloudy else 1.0 - 0.05 * (jitter - 0.85)
        )
        if rng.random() < (p_end if cloudy else p_start):
            cloudy = not cloudy
            depth = rng.uniform(*config.cloud_factor)
    return tuple(knots)


def interpolate(knots: tuple[float, ...], elapsed_s: float) -> float:
    """Return the linearly interpolated knot value at seconds since local midnight."""
    position = min(max(elapsed_s / KNOT_S, 0.0), len(knots) - 1.000001)
    index = int(position)
    fraction = position - index
    return knots[index] * (1.0 - fraction) + knots[index + 1] * fraction


class PvModel:
    """Deterministic PV power for a seed: same seed and day, same curve."""

    __slots__ = ("_config", "_days", "_seed", "_tz")

    def __init__(self, config: PvConfig, seed: int, tz: ZoneInfo) -> None:
        """Hold the array, the seed and the plant's zone."""
        self._config = config
        self._seed = seed
        self._tz = tz
        self._days: dict[date, tuple[float, ...]] = {}

    @property
    def config(self) -> PvConfig:
        """Return the array's configuration."""
        return self._config

    def cloud_factors(self, day: date) -> tuple[float, ...]:
        """Return (and cache) the day's per-minute cloud factors."""
        knots = self._days.get(day)
        if knots is None:
            rng = random.Random(f"{self._seed}:pv:{day.isoformat()}")
            knots = self._days[day] = cloud_knots(self._config, rng)
        return knots

    def power_at(self, day: date, hour: float, elapsed_s: float) -> float:
        """Return PV kW for a local day, its clock hour and seconds since its midnight."""
        clear = clear_sky_kw(self._config, hour)
        if clear == 0.0:
            return 0.0
        return clear * interpolate(self.cloud_factors(day), elapsed_s)

    def power_kw(self, moment: datetime) -> float:
        """Return PV kW at an aware moment."""
        local = moment.astimezone(self._tz)
        day = local.date()
        elapsed = (moment - local_midnight(day, self._tz)).total_seconds()
        return self.power_at(day, clock_hours(local), elapsed)

    def day_total_kwh(self, day: date, step_s: float = KNOT_S) -> float:
        """Return the day's true PV energy, integrated at the midpoints of step_s slices."""
        start = local_midnight(day, self._tz)
        length = (
            local_midnight(day + timedelta(days=1), self._tz) - start
        ).total_seconds()
        slices = round(length / step_s)
        moments = (start + timedelta(seconds=(i + 0.5) * step_s) for i in range(slices))
        return sum(self.power_kw(m) for m in moments) * step_s / 3600.0
