"""House load: base load, morning and evening bumps, and seeded appliance spikes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
import math
import random
from zoneinfo import ZoneInfo

from .clock import clock_hours, local_midnight


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadConfig:
    """Shape of a household's consumption."""

    base_kw: float = 0.3
    morning_kw: float = 0.5
    morning_h: float = 7.5
    evening_kw: float = 0.9
    evening_h: float = 18.5
    bump_width_h: float = 1.0
    spikes_per_day: int = 10
    spike_kw: tuple[float, float] = (0.5, 2.5)
    spike_minutes: tuple[float, float] = (2.0, 30.0)
    waking_h: tuple[float, float] = (6.0, 23.0)
    max_kw: float = 3.0
    # Appliances at fixed local clock hours: (start_h, end_h, kW), e.g. one switched off
    # in the middle of a discharge.
    fixed_h: tuple[tuple[float, float, float], ...] = ()

    def __post_init__(self) -> None:
        """Reject negative loads."""
        if self.base_kw < 0.0 or self.max_kw < self.base_kw:
            raise ValueError("need 0 <= base_kw <= max_kw")


@dataclass(frozen=True, slots=True)
class Spike:
    """One appliance run: from start_s to end_s after local midnight, at kw."""

    start_s: float
    end_s: float
    kw: float


def bumps_kw(config: LoadConfig, hour: float) -> float:
    """Return the Gaussian morning and evening bumps at a local clock hour."""
    width = 2.0 * config.bump_width_h**2
    morning = config.morning_kw * math.exp(-((hour - config.morning_h) ** 2) / width)
    evening = config.evening_kw * math.exp(-((hour - config.evening_h) ** 2) / width)
    return morning + evening


def make_spikes(config: LoadConfig, rng: random.Random) -> tuple[Spike, ...]:
    """Return a day's appliance runs, count scattered around spikes_per_day."""
    mean = config.spikes_per_day
    count = max(0, round(rng.gauss(mean, math.sqrt(mean))))
    spikes: list[Spike] = []
    for _ in range(count):
        start = rng.uniform(*config.waking_h) * 3600.0
        length = rng.uniform(*config.spike_minutes) * 60.0
        spikes.append(Spike(start, start + length, rng.uniform(*config.spike_kw)))
    return tuple(sorted(spikes, key=lambda spike: spike.start_s))


class LoadModel:
    """Deterministic house load for a seed: same seed and day, same curve."""

    __slots__ = ("_config", "_days", "_seed", "_tz")

    def __init__(self, config: LoadConfig, seed: int, tz: ZoneInfo) -> None:
        """Hold the load shape, the seed and the plant's zone."""
        self._config = config
        self._seed = seed
        self._tz = tz
        self._days: dict[date, tuple[Spike, ...]] = {}

    def spikes(self, day: date) -> tuple[Spike, ...]:
        """Return (and cache) the day's appliance runs."""
        spikes = self._days.get(day)
        if spikes is None:
            rng = random.Random(f"{self._seed}:load:{day.isoformat()}")
            fixed = tuple(
                Spike(start * 3600.0, end * 3600.0, kw)
                for start, end, kw in self._config.fixed_h
            )
            spikes = self._days[day] = make_spikes(self._config, rng) + fixed
        return spikes

    def power_at(self, day: date, hour: float, elapsed_s: float) -> float:
        """Return load kW for a local day, its clock hour and seconds since its midnight."""
        running = sum(
            s.kw for s in self.spikes(day) if s.start_s <= elapsed_s < s.end_s
        )
        total = self._config.base_kw + bumps_kw(self._config, hour) + running
        return min(total, self._config.max_kw)

    def power_kw(self, moment: datetime) -> float:
        """Return load kW at an aware moment."""
        local = moment.astimezone(self._tz)
        day = local.date()
        elapsed = (moment - local_midnight(day, self._tz)).total_seconds()
        return self.power_at(day, clock_hours(local), elapsed)
