"""The adversarial scenario set: allowance-bound plants, awkward sensors and inverters, dying hosts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
import random
from typing import Final
from zoneinfo import ZoneInfo

from .clock import DEFAULT_TIMEZONE
from .inverter import BackstopKind, IgnoreWindow
from .meters import EXPORT_TODAY, GRID_POWER, PV_TODAY
from .plant import PlantConfig
from .scenarios import (
    SCENARIOS,
    DayEvents,
    Events,
    Scenario,
    ScenarioDay,
    Tweak,
    at_hours,
    make_day,
)

AUTUMN: Final = (date(2025, 9, 20), 30)
WINTER: Final = (date(2025, 11, 10), 80)
BIG_BATTERY_KWH: Final = 20.0
# Home Assistant dies or restarts at a random moment between these local hours.
EVENT_HOURS: Final = (16.1, 18.5)
RESTART_GAP_S: Final = (30.0, 300.0)


def allowance_bound(config: PlantConfig) -> PlantConfig:
    """Return the plant with a 20 kWh battery and a frugal house: the allowance binds."""
    load = replace(
        config.load, base_kw=0.12, morning_kw=0.2, evening_kw=0.3, spikes_per_day=3
    )
    battery = replace(config.battery, capacity_kwh=BIG_BATTERY_KWH)
    return replace(config, battery=battery, load=load)


def _bound(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """Allowance-bound plant, 10 s meters without jitter, prompt inverter."""
    config = allowance_bound(config)
    return replace(config, meters=replace(config.meters, jitter=0.0))


def _winter(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """Winter PV into a 20 kWh battery charged overnight only to 60-75 %: little exported."""
    config = allowance_bound(config)
    charge = config.inverter.grid_charge
    if charge is not None:
        charge = replace(charge, target_soc=rng.uniform(60.0, 75.0))
    return replace(config, inverter=replace(config.inverter, grid_charge=charge))


def _coarse_slow(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """0.1 kWh counters every 300 s; a 2 kW appliance switches off in the discharge."""
    config = allowance_bound(config)
    off_h = rng.uniform(16.3, 17.5)
    load = replace(config.load, fixed_h=((15.5, off_h, 2.0),))
    meters = replace(
        config.meters, update_interval_s=300.0, jitter=0.05, energy_resolution_kwh=0.1
    )
    return replace(config, load=load, meters=meters)


def _delayed(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """Make the export meter's values (counter, grid power) 30-300 s old, stamped now."""
    config = allowance_bound(config)
    delay = rng.uniform(30.0, 300.0)
    meters = replace(
        config.meters, value_delay_s=((EXPORT_TODAY, delay), (GRID_POWER, delay))
    )
    return replace(config, meters=meters)


def _changes_only(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """Sensors write only when their state changes (no re-report of the same value)."""
    config = allowance_bound(config)
    return replace(config, meters=replace(config.meters, report_unchanged=False))


def _pv_lagging(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """Write the PV counter every 300 s (a cloud API); the rest every 10 s."""
    config = allowance_bound(config)
    meters = replace(config.meters, jitter=0.0, sensor_every=((PV_TODAY, 30),))
    return replace(config, meters=meters)


def _power_above(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """Make the inverter discharge at 1.2-1.6 x its setpoint; 60 s meters."""
    config = allowance_bound(config)
    inverter = replace(config.inverter, power_factor=rng.uniform(1.2, 1.6))
    meters = replace(config.meters, update_interval_s=60.0, jitter=0.05)
    return replace(config, inverter=inverter, meters=meters)


def _ignored_stop(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """Every stop landing in a 3-15 min window (16:20-18:00) reads back off but is ignored."""
    config = allowance_bound(config)
    start = at_hours(day, tz, rng.uniform(16.33, 18.0))
    window = IgnoreWindow(
        start=start,
        end=start + timedelta(minutes=rng.uniform(3.0, 15.0)),
        setting="enabled",
        value=False,
    )
    return replace(config, inverter=replace(config.inverter, ignore_windows=(window,)))


def _late_stop(
    config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
) -> PlantConfig:
    """Make stops land 30-180 s after they are written (other writes 1-3 s)."""
    config = allowance_bound(config)
    inverter = replace(config.inverter, stop_latency_s=(30.0, 180.0))
    return replace(config, inverter=inverter)


def _backstop(kind: BackstopKind) -> Tweak:
    """Return a tweak: allowance-bound plant whose inverter has this backstop."""

    def tweak(
        config: PlantConfig, rng: random.Random, day: date, tz: ZoneInfo
    ) -> PlantConfig:
        """Allowance-bound plant with the inverter's backstop set."""
        config = allowance_bound(config)
        persistent = config.inverter.persistent_settings
        if kind == "command_timeout":
            persistent = frozenset(
                {"enabled", "power_kw", "cutoff_soc", "duration_minutes"}
            )
        inverter = replace(
            config.inverter, backstop=kind, persistent_settings=persistent
        )
        return replace(config, inverter=inverter)

    return tweak


def _dies(rng: random.Random, day: date, tz: ZoneInfo) -> DayEvents:
    """Home Assistant dies at a random moment of the window and never comes back."""
    return DayEvents(ha_dies_at=at_hours(day, tz, rng.uniform(*EVENT_HOURS)))


def _restarts(rng: random.Random, day: date, tz: ZoneInfo) -> DayEvents:
    """Home Assistant crashes at a random moment of the window and is back 30-300 s later."""
    return DayEvents(
        restart_at=at_hours(day, tz, rng.uniform(*EVENT_HOURS)),
        restart_gap_s=rng.uniform(*RESTART_GAP_S),
    )


def _cap(rng: random.Random, day: date, tz: ZoneInfo) -> DayEvents:
    """Set a daily export cap of 1.5-3.0 kWh."""
    return DayEvents(daily_cap_kwh=round(rng.uniform(1.5, 3.0), 2))


def _adv(
    name: str, varies: str, tweak: Tweak, events: Events | None = None
) -> Scenario:
    """Return an autumn scenario (20 Sep - 19 Oct 2025)."""
    return Scenario(
        name=name, varies=varies, tweak=tweak, days_from=AUTUMN, events=events
    )


# Inverter variants, named after the vendor behaviour each stands for.
VARIANTS: Final[Mapping[str, tuple[BackstopKind, str]]] = {
    "alpha_dispatch": ("rearm_any_write", "duration timer re-armed by any write"),
    "alpha_helpers": (
        "rearm_on_change",
        "duration timer re-armed only by a changed value",
    ),
    "solaredge_timeout": (
        "command_timeout",
        "command timeout re-armed only by the command",
    ),
    "fox_watchdog": (
        "watchdog_fallback",
        "watchdog falls back to a mode that keeps exporting",
    ),
    "sigenergy_no_backstop": ("none", "no time backstop, only the cutoff SOC"),
}

ADVERSARIAL: Final[Mapping[str, Scenario]] = {
    s.name: s
    for s in (
        _adv("bound_nominal", "20 kWh battery, frugal house, 10 s meters", _bound),
        Scenario(
            name="winter_cap",
            varies="winter PV, 20 kWh battery at 60-75 %, daily cap 1.5-3.0 kWh",
            tweak=_winter,
            days_from=WINTER,
            events=_cap,
        ),
        _adv(
            "coarse_slow",
            "0.1 kWh / 300 s meters, 2 kW load switching off",
            _coarse_slow,
        ),
        _adv(
            "delayed_values", "export values 30-300 s late, fresh timestamps", _delayed
        ),
        _adv("changes_only", "sensors write only on change", _changes_only),
        _adv("pv_lagging", "PV counter every 300 s, others 10 s", _pv_lagging),
        _adv(
            "power_above", "export power 1.2-1.6 x setpoint, 60 s meters", _power_above
        ),
        _adv("ignored_stop", "stops ignored for 3-15 min", _ignored_stop),
        _adv("late_stop", "stops land 30-180 s late", _late_stop),
        _adv(
            "alpha_helpers",
            VARIANTS["alpha_helpers"][1],
            _backstop("rearm_on_change"),
        ),
        _adv(
            "solaredge_timeout",
            VARIANTS["solaredge_timeout"][1],
            _backstop("command_timeout"),
        ),
        _adv(
            "restart", "Home Assistant crashes, back 30-300 s later", _bound, _restarts
        ),
        *(
            _adv(
                f"{name}_ha_dies",
                f"Home Assistant dies; {text}",
                _backstop(kind),
                _dies,
            )
            for name, (kind, text) in VARIANTS.items()
        ),
        Scenario(
            name="dst_spring_bound",
            varies="23 h day, allowance-bound plant",
            tweak=_bound,
            dst="spring",
        ),
        Scenario(
            name="dst_autumn_bound",
            varies="25 h day, allowance-bound plant",
            tweak=_bound,
            dst="autumn",
        ),
    )
}
ALL_SCENARIOS: Final[Mapping[str, Scenario]] = {**SCENARIOS, **ADVERSARIAL}
ADVERSARIAL_NAMES: Final = tuple(ADVERSARIAL)
ALL_NAMES: Final = tuple(ALL_SCENARIOS)


def any_scenario_day(
    name: str, index: int, base_seed: int, timezone: str = DEFAULT_TIMEZONE
) -> ScenarioDay:
    """Return the index-th day of any scenario, original or adversarial."""
    return make_day(ALL_SCENARIOS[name], index, base_seed, timezone)
