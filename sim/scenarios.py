"""Named, seeded scenario-days for the benchmark, each producing a PlantConfig."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
import math
import random
from typing import Final, Literal
from zoneinfo import ZoneInfo

from .battery import BatteryConfig
from .clock import DEFAULT_TIMEZONE, local_midnight
from .inverter import GridCharge, InverterConfig
from .load import LoadConfig
from .meters import ENERGY_SENSORS, EXPORT_TODAY, SOC, Episode, EpisodeKind, MeterConfig
from .plant import Plant, PlantConfig
from .pv import PvConfig
from .sun import noon_elevation_deg, sun_times

type Tweak = Callable[[PlantConfig, random.Random, date, ZoneInfo], PlantConfig]
type DstKind = Literal["spring", "autumn"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DayEvents:
    """What happens to the controller on a day: a daily cap, Home Assistant dying or restarting."""

    daily_cap_kwh: float | None = None
    ha_dies_at: datetime | None = None
    restart_at: datetime | None = None
    restart_gap_s: float = 0.0


type Events = Callable[[random.Random, date, ZoneInfo], DayEvents]

_FIRST_DAY: Final = date(2025, 4, 15)
_SUMMER_DAYS: Final = 150
_EPISODE_SENSORS: Final[tuple[frozenset[str], ...]] = (
    frozenset(),
    ENERGY_SENSORS,
    frozenset({EXPORT_TODAY}),
    frozenset({SOC}),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """A named family of days: what it varies and how it changes the base plant."""

    name: str
    varies: str
    tweak: Tweak
    dst: DstKind | None = None
    # (first date, span in days): the day is drawn from this range instead of the summer.
    days_from: tuple[date, int] | None = None
    events: Events | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioDay:
    """One benchmark day: scenario, index, seed, local date, start (local midnight), plant."""

    name: str
    index: int
    seed: int
    day: date
    start: datetime
    config: PlantConfig
    events: DayEvents = DayEvents()

    def plant(self) -> Plant:
        """Return a fresh plant at the day's local midnight."""
        return Plant(self.config, self.start)


def last_sunday(year: int, month: int) -> date:
    """Return the last Sunday of a month (EU summer-time changes)."""
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def base_config(rng: random.Random, day: date, tz: ZoneInfo, seed: int) -> PlantConfig:
    """Return a realistic home: 4-6 kWp, 10 kWh battery grid-charged 00:30-05:30, 0.2-3 kW load."""
    sunrise, sunset = sun_times(day, tz)
    season = math.sin(math.radians(noon_elevation_deg(day))) / math.sin(
        math.radians(62.0)
    )
    pv = PvConfig(
        peak_kw=rng.uniform(3.0, 5.0) * min(1.0, max(0.3, season)),
        sunrise_h=sunrise + 0.3,
        sunset_h=sunset - 0.3,
        shape=rng.uniform(1.3, 1.7),
        cloudiness=rng.uniform(0.0, 0.25),
    )
    load = LoadConfig(
        base_kw=rng.uniform(0.2, 0.4),
        morning_kw=rng.uniform(0.3, 0.8),
        morning_h=rng.uniform(6.5, 8.5),
        evening_kw=rng.uniform(0.6, 1.4),
        evening_h=rng.uniform(17.5, 19.5),
        spikes_per_day=rng.randint(6, 14),
    )
    battery = BatteryConfig(
        initial_soc=rng.uniform(30.0, 55.0),
        round_trip_efficiency=rng.uniform(0.88, 0.94),
    )
    charge = GridCharge(
        start=time(0, 30),
        end=time(5, 30),
        target_soc=rng.uniform(90.0, 100.0),
        power_kw=3.0,
    )
    return PlantConfig(
        seed=seed,
        timezone=tz.key,
        pv=pv,
        load=load,
        battery=battery,
        inverter=InverterConfig(latency_s=(1.0, 3.0), grid_charge=charge),
        meters=MeterConfig(update_interval_s=10.0, jitter=0.1),
        forecast_error=(0.85, 1.15),
    )


def at_hours(day: date, tz: ZoneInfo, hours: float) -> datetime:
    """Return the aware moment hours after local midnight."""
    return local_midnight(day, tz) + timedelta(hours=hours)


def random_episodes(
    rng: random.Random,
    day: date,
    tz: ZoneInfo,
    kind: EpisodeKind,
    count: int,
    minutes: tuple[float, float],
) -> tuple[Episode, ...]:
    """Return fault episodes of one kind scattered over 08:00-20:00."""
    episodes: list[Episode] = []
    for _ in range(count):
        start = at_hours(day, tz, rng.uniform(8.0, 20.0))
        length = timedelta(minutes=rng.uniform(*minutes))
        sensors = rng.choice(_EPISODE_SENSORS)
        episodes.append(
            Episode(start=start, end=start + length, kind=kind, sensors=sensors)
        )
    return tuple(episodes)


def _nominal(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """Clear sky, 10 s meters without jitter, prompt inverter, good forecast."""
    return replace(
        config,
        pv=replace(config.pv, cloudiness=0.0),
        meters=replace(config.meters, jitter=0.0),
        inverter=replace(config.inverter, latency_s=(1.0, 2.0)),
        forecast_error=(0.95, 1.05),
    )


def _cloudy(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """Heavy broken cloud and a forecast wrong by up to 40 % either way."""
    pv = replace(config.pv, cloudiness=rng.uniform(0.4, 0.85))
    return replace(config, pv=pv, forecast_error=(0.6, 1.4))


def _meters(interval_s: float) -> Tweak:
    """Return a tweak setting the meter interval."""

    def tweak(
        config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
    ) -> PlantConfig:
        """Set the meter interval."""
        return replace(
            config, meters=replace(config.meters, update_interval_s=interval_s)
        )

    return tweak


def _slow_meters(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """60 s meters, or 300 s on about a third of the days."""
    interval = 300.0 if rng.random() < 1.0 / 3.0 else 60.0
    return replace(
        config, meters=replace(config.meters, update_interval_s=interval, jitter=0.05)
    )


def _laggy(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """Every write lands 2-30 s late."""
    return replace(config, inverter=replace(config.inverter, latency_s=(2.0, 30.0)))


def _ignoring(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """One write in ten reads back but changes nothing."""
    return replace(config, inverter=replace(config.inverter, ignore_probability=0.1))


def _hung(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """From some time between 12:00 and 18:00 the inverter ignores every write."""
    after = at_hours(day, tz, rng.uniform(12.0, 18.0))
    return replace(config, inverter=replace(config.inverter, ignore_after=after))


def _dropouts(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """2-4 stale episodes (2-20 min) and 1-3 unavailable periods (1-15 min) in daytime."""
    stale = random_episodes(rng, day, tz, "stale", rng.randint(2, 4), (2.0, 20.0))
    gone = random_episodes(rng, day, tz, "unavailable", rng.randint(1, 3), (1.0, 15.0))
    return replace(config, meters=replace(config.meters, episodes=stale + gone))


def _glitches(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """1-3 periods (1-10 min) where daily counters read 0, as after an integration restart."""
    zero = random_episodes(rng, day, tz, "zero", rng.randint(1, 3), (1.0, 10.0))
    return replace(config, meters=replace(config.meters, episodes=zero))


def _unchanged(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """Keep the base plant (the date is what varies)."""
    return config


SCENARIOS: Final[Mapping[str, Scenario]] = {
    s.name: s
    for s in (
        Scenario(
            name="nominal",
            varies="clear sky, 10 s meters, 1-2 s latency, forecast +-5 %",
            tweak=_nominal,
        ),
        Scenario(
            name="cloudy",
            varies="cloudiness 0.4-0.85, forecast factor 0.6-1.4",
            tweak=_cloudy,
        ),
        Scenario(name="fast_meters", varies="meters every 5 s", tweak=_meters(5.0)),
        Scenario(
            name="slow_meters",
            varies="meters every 60 s, 300 s on ~1/3 of days",
            tweak=_slow_meters,
        ),
        Scenario(name="laggy_inverter", varies="command latency 2-30 s", tweak=_laggy),
        Scenario(
            name="ignored_commands", varies="10 % of writes ignored", tweak=_ignoring
        ),
        Scenario(
            name="hung_inverter",
            varies="all writes ignored after 12:00-18:00",
            tweak=_hung,
        ),
        Scenario(
            name="sensor_dropouts",
            varies="stale and unavailable sensor periods",
            tweak=_dropouts,
        ),
        Scenario(
            name="counter_glitch",
            varies="daily counters read 0 for minutes",
            tweak=_glitches,
        ),
        Scenario(
            name="dst_spring",
            varies="23 h day (last Sunday of March)",
            tweak=_unchanged,
            dst="spring",
        ),
        Scenario(
            name="dst_autumn",
            varies="25 h day (last Sunday of October)",
            tweak=_unchanged,
            dst="autumn",
        ),
    )
}
SCENARIO_NAMES: Final = tuple(SCENARIOS)


def _pick_day(scenario: Scenario, rng: random.Random, index: int) -> date:
    """Return a spring-to-autumn date, or the DST day of year 2025 + index."""
    if scenario.dst == "spring":
        return last_sunday(2025 + index, 3)
    if scenario.dst == "autumn":
        return last_sunday(2025 + index, 10)
    if scenario.days_from is not None:
        first, span = scenario.days_from
        return first + timedelta(days=rng.randrange(span))
    return _FIRST_DAY + timedelta(days=rng.randrange(_SUMMER_DAYS))


def scenario_day(
    name: str, index: int, base_seed: int, timezone: str = DEFAULT_TIMEZONE
) -> ScenarioDay:
    """Return the index-th day of a named scenario for a base seed (deterministic)."""
    return make_day(SCENARIOS[name], index, base_seed, timezone)


def make_day(
    scenario: Scenario, index: int, base_seed: int, timezone: str = DEFAULT_TIMEZONE
) -> ScenarioDay:
    """Return the index-th day of a scenario for a base seed (deterministic)."""
    name = scenario.name
    rng = random.Random(f"{base_seed}:{name}:{index}")
    tz = ZoneInfo(timezone)
    seed = rng.getrandbits(32)
    day = _pick_day(scenario, rng, index)
    config = scenario.tweak(base_config(rng, day, tz, seed), rng, day, tz)
    start = local_midnight(day, tz).astimezone(tz)
    events = DayEvents()
    if scenario.events is not None:
        events = scenario.events(
            random.Random(f"{base_seed}:{name}:{index}:events"), day, tz
        )
    return ScenarioDay(
        name=name,
        index=index,
        seed=seed,
        day=day,
        start=start,
        config=config,
        events=events,
    )


def scenario_days(n_per_scenario: int, base_seed: int) -> list[ScenarioDay]:
    """Return the benchmark set: n days of every scenario, in scenario order."""
    return [
        scenario_day(name, i, base_seed)
        for name in SCENARIO_NAMES
        for i in range(n_per_scenario)
    ]
