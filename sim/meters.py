"""Energy counters (true, exact) and the sensors a controller sees (polled, rounded, faulty)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
import random
from typing import Final, Literal

from .clock import EVENT_EPS

PV_TODAY: Final = "pv_today"
EXPORT_TODAY: Final = "export_today"
IMPORT_TODAY: Final = "import_today"
GRID_POWER: Final = "grid_power"
BATTERY_POWER: Final = "battery_power"
SOC: Final = "soc"
FORECAST_TODAY: Final = "forecast_today"
ENERGY_SENSORS: Final = frozenset({PV_TODAY, EXPORT_TODAY, IMPORT_TODAY})
SENSORS: Final = (
    PV_TODAY,
    EXPORT_TODAY,
    IMPORT_TODAY,
    GRID_POWER,
    BATTERY_POWER,
    SOC,
    FORECAST_TODAY,
)
UNAVAILABLE: Final = "unavailable"
_ENERGY_SCALE: Final = {"kWh": 1.0, "Wh": 1000.0}
_POWER_SCALE: Final = {"kW": 1.0, "W": 1000.0}

type EpisodeKind = Literal["stale", "unavailable", "zero"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Episode:
    """A fault period: values frozen (stale), 'unavailable', or daily counters glitched to 0."""

    start: datetime
    end: datetime
    kind: EpisodeKind
    sensors: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        """Reject empty or reversed periods."""
        if self.end <= self.start:
            raise ValueError("an episode must end after it starts")

    def covers(self, sensor: str) -> bool:
        """Return whether the episode affects the sensor (no sensors listed: all)."""
        return not self.sensors or sensor in self.sensors


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterConfig:
    """How and how often the plant's sensors are published."""

    update_interval_s: float = 10.0
    jitter: float = 0.0
    episodes: tuple[Episode, ...] = ()
    grid_export_negative: bool = True
    battery_discharge_positive: bool = True
    energy_unit: Literal["kWh", "Wh"] = "kWh"
    power_unit: Literal["W", "kW"] = "W"
    energy_resolution_kwh: float = 0.01
    soc_resolution: float = 0.1
    # (sensor, seconds): the value is that many seconds old under a fresh timestamp.
    value_delay_s: tuple[tuple[str, float], ...] = ()
    # False: a sensor writes only when its state changes (no re-report of the same value).
    report_unchanged: bool = True
    # (sensor, n): the sensor is written at every n-th poll only (a lagging counter).
    sensor_every: tuple[tuple[str, int], ...] = ()

    def slowest_interval_s(self) -> float:
        """Return the longest normal interval between two writes of any sensor."""
        slowest = max((n for _, n in self.sensor_every), default=1)
        return self.update_interval_s * slowest

    def __post_init__(self) -> None:
        """Reject intervals outside 5..300 s and jitter of a whole interval or more."""
        if not 5.0 <= self.update_interval_s <= 300.0:
            raise ValueError("update_interval_s must be within 5..300")
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError("jitter must be within [0, 1)")


@dataclass(frozen=True, slots=True)
class Flows:
    """Power flows in kW over one sub-step: battery discharge positive, grid export positive."""

    pv_kw: float
    load_kw: float
    battery_kw: float
    grid_kw: float

    @classmethod
    def balance(cls, pv_kw: float, load_kw: float, battery_kw: float) -> Flows:
        """Return flows where the grid takes whatever PV and battery leave after the load."""
        return cls(pv_kw, load_kw, battery_kw, pv_kw + battery_kw - load_kw)


@dataclass(slots=True)
class EnergyCounters:
    """True energy since local midnight, integrated exactly per sub-step (kWh)."""

    pv_kwh: float = 0.0
    export_kwh: float = 0.0
    import_kwh: float = 0.0
    load_kwh: float = 0.0
    discharge_kwh: float = 0.0
    charge_kwh: float = 0.0

    def add(self, flows: Flows, dt_s: float) -> None:
        """Add dt_s of constant flows."""
        hours = dt_s / 3600.0
        self.pv_kwh += flows.pv_kw * hours
        self.load_kwh += flows.load_kw * hours
        self.export_kwh += max(flows.grid_kw, 0.0) * hours
        self.import_kwh += max(-flows.grid_kw, 0.0) * hours
        self.discharge_kwh += max(flows.battery_kw, 0.0) * hours
        self.charge_kwh += max(-flows.battery_kw, 0.0) * hours

    def reset(self) -> None:
        """Zero every counter (local midnight)."""
        self.pv_kwh = self.export_kwh = self.import_kwh = 0.0
        self.load_kwh = self.discharge_kwh = self.charge_kwh = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterReadings:
    """True values handed to the publisher at a poll (kWh, kW, %; grid export positive)."""

    pv_today_kwh: float
    export_today_kwh: float
    import_today_kwh: float
    grid_kw: float
    battery_kw: float
    soc_pct: float
    forecast_today_kwh: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SensorState:
    """One published sensor as Home Assistant would hold it."""

    state: str
    value: float | None
    unit: str
    last_reported: datetime
    last_changed: datetime

    @property
    def available(self) -> bool:
        """Return whether the sensor holds a number."""
        return self.value is not None


def as_kwh(sensor: SensorState) -> float | None:
    """Return an energy sensor's value in kWh, or None when unavailable."""
    if sensor.value is None:
        return None
    return sensor.value / _ENERGY_SCALE[sensor.unit]


def as_kw(sensor: SensorState) -> float | None:
    """Return a power sensor's value in kW, or None when unavailable."""
    if sensor.value is None:
        return None
    return sensor.value / _POWER_SCALE[sensor.unit]


def floor_to(value: float, resolution: float) -> float:
    """Return value rounded down to a multiple of resolution (how counters display)."""
    return round(math.floor(value / resolution + 1e-9) * resolution, 9)


def published_values(
    config: MeterConfig, readings: MeterReadings
) -> dict[str, tuple[float, str]]:
    """Return each sensor's displayed value and unit: rounded, scaled and signed."""
    energy = _ENERGY_SCALE[config.energy_unit]
    power = _POWER_SCALE[config.power_unit]
    res = config.energy_resolution_kwh
    grid_sign = -1.0 if config.grid_export_negative else 1.0
    battery_sign = 1.0 if config.battery_discharge_positive else -1.0
    e_unit, p_unit = config.energy_unit, config.power_unit
    return {
        PV_TODAY: (round(floor_to(readings.pv_today_kwh, res) * energy, 6), e_unit),
        EXPORT_TODAY: (
            round(floor_to(readings.export_today_kwh, res) * energy, 6),
            e_unit,
        ),
        IMPORT_TODAY: (
            round(floor_to(readings.import_today_kwh, res) * energy, 6),
            e_unit,
        ),
        GRID_POWER: (round(grid_sign * readings.grid_kw * power, 3) + 0.0, p_unit),
        BATTERY_POWER: (
            round(battery_sign * readings.battery_kw * power, 3) + 0.0,
            p_unit,
        ),
        SOC: (
            round(
                round(readings.soc_pct / config.soc_resolution) * config.soc_resolution,
                6,
            ),
            "%",
        ),
        FORECAST_TODAY: (round(readings.forecast_today_kwh, 2), "kWh"),
    }


class MeterPublisher:
    """Publishes true readings every interval, honouring stale, unavailable and zero episodes."""

    __slots__ = (
        "_config",
        "_episodes",
        "_epoch",
        "_every",
        "_polls",
        "_rng",
        "_states",
        "next_due_s",
    )

    def __init__(
        self, config: MeterConfig, rng: random.Random, epoch: datetime
    ) -> None:
        """Hold the schedule; epoch is the aware instant of simulation time 0."""
        self._config = config
        self._rng = rng
        self._epoch = epoch
        self._episodes = tuple(
            ((e.start - epoch).total_seconds(), (e.end - epoch).total_seconds(), e)
            for e in config.episodes
        )
        self._states: dict[str, SensorState] = {}
        self._every = dict(config.sensor_every)
        self._polls = 0
        self.next_due_s = 0.0

    @property
    def states(self) -> Mapping[str, SensorState]:
        """Return the published sensors by key."""
        return self._states

    def fault(self, sensor: str, now_s: float) -> EpisodeKind | None:
        """Return the kind of the first episode covering the sensor at now_s, if any."""
        for start, end, episode in self._episodes:
            if start <= now_s + EVENT_EPS < end and episode.covers(sensor):
                return episode.kind
        return None

    def publish(self, now_s: float, readings: MeterReadings) -> None:
        """Write every sensor (unless stale) at now_s and schedule the next poll."""
        moment = self._epoch + timedelta(seconds=now_s)
        poll = self._polls
        self._polls += 1
        for key, (value, unit) in published_values(self._config, readings).items():
            if key in self._states and poll % self._every.get(key, 1):
                continue
            kind = self.fault(key, now_s)
            if kind == "stale" and key in self._states:
                continue
            if kind in ("stale", "unavailable"):
                self._write_unavailable(key, unit, moment)
                continue
            shown = 0.0 if kind == "zero" and key in ENERGY_SENSORS else value
            self._write(key, str(shown), shown, unit, moment)
        interval = self._config.update_interval_s
        spread = self._config.jitter
        self.next_due_s = now_s + interval * (1.0 + self._rng.uniform(-spread, spread))

    def _write_unavailable(self, key: str, unit: str, moment: datetime) -> None:
        """Mark a sensor unavailable once (repeated unavailability is not re-written)."""
        previous = self._states.get(key)
        if previous is None or previous.available:
            self._write(key, UNAVAILABLE, None, unit, moment)

    def _write(
        self, key: str, state: str, value: float | None, unit: str, moment: datetime
    ) -> None:
        """Write a state: last_reported always moves, last_changed only on a new state."""
        previous = self._states.get(key)
        changed = previous is None or previous.state != state
        if not changed and not self._config.report_unchanged:
            return
        last_changed = moment if changed or previous is None else previous.last_changed
        self._states[key] = SensorState(
            state=state,
            value=value,
            unit=unit,
            last_reported=moment,
            last_changed=last_changed,
        )
