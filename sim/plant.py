"""The plant: PV, load, battery, inverter and meters stepped together with exact integration."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
import random
from zoneinfo import ZoneInfo

from .battery import Battery, BatteryConfig
from .clock import (
    DEFAULT_TIMEZONE,
    EVENT_EPS,
    clock_hours,
    in_window,
    local_day,
    local_midnight,
    require_aware,
)
from .inverter import DischargeSettings, Inverter, InverterConfig, Setting, dispatch
from .load import LoadConfig, LoadModel
from .meters import (
    BATTERY_POWER,
    EXPORT_TODAY,
    FORECAST_TODAY,
    GRID_POWER,
    IMPORT_TODAY,
    PV_TODAY,
    SOC,
    EnergyCounters,
    Flows,
    MeterConfig,
    MeterPublisher,
    MeterReadings,
    SensorState,
)
from .pv import PvConfig, PvModel


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantConfig:
    """Everything that defines one simulated home, including its seed."""

    seed: int = 0
    timezone: str = DEFAULT_TIMEZONE
    pv: PvConfig = field(default_factory=PvConfig)
    load: LoadConfig = field(default_factory=LoadConfig)
    battery: BatteryConfig = field(default_factory=BatteryConfig)
    inverter: InverterConfig = field(default_factory=InverterConfig)
    meters: MeterConfig = field(default_factory=MeterConfig)
    forecast_error: tuple[float, float] = (1.0, 1.0)
    initial_controls: DischargeSettings = field(default_factory=DischargeSettings)


@dataclass(frozen=True, slots=True, kw_only=True)
class DayTotals:
    """True totals of one local day (from its midnight or the plant's start), UTC bounds."""

    day: date
    start: datetime
    end: datetime
    pv_kwh: float
    export_kwh: float
    import_kwh: float
    load_kwh: float
    discharge_kwh: float
    charge_kwh: float

    @property
    def hours(self) -> float:
        """Return how long the counted span lasted."""
        return (self.end - self.start).total_seconds() / 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Published:
    """Everything a controller can read: sensors as published and the controls' readback."""

    pv_today: SensorState
    export_today: SensorState
    import_today: SensorState
    grid_power: SensorState
    battery_power: SensorState
    soc: SensorState
    forecast_today: SensorState
    controls: DischargeSettings
    grid_export_negative: bool
    battery_discharge_positive: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Truth:
    """The plant's true state, for scoring (flows are those of the last sub-step)."""

    now: datetime
    day: date
    pv_kw: float
    load_kw: float
    battery_kw: float
    grid_kw: float
    soc_pct: float
    pv_today_kwh: float
    export_today_kwh: float
    import_today_kwh: float
    load_today_kwh: float
    discharge_today_kwh: float
    charge_today_kwh: float
    pv_day_total_kwh: float
    forecast_today_kwh: float
    forcing: bool
    effective: DischargeSettings
    readback: DischargeSettings
    commands: int
    ignored_commands: int
    timer_stops: int
    previous_day: DayTotals | None
    flash_writes: int = 0


_DELAYED_FIELDS: dict[str, Callable[[MeterReadings], dict[str, float]]] = {
    PV_TODAY: lambda r: {"pv_today_kwh": r.pv_today_kwh},
    EXPORT_TODAY: lambda r: {"export_today_kwh": r.export_today_kwh},
    IMPORT_TODAY: lambda r: {"import_today_kwh": r.import_today_kwh},
    GRID_POWER: lambda r: {"grid_kw": r.grid_kw},
    BATTERY_POWER: lambda r: {"battery_kw": r.battery_kw},
    SOC: lambda r: {"soc_pct": r.soc_pct},
    FORECAST_TODAY: lambda r: {"forecast_today_kwh": r.forecast_today_kwh},
}


class Plant:
    """A simulated home with a force-dischargeable battery, stepped in simulation seconds."""

    __slots__ = (
        "_battery",
        "_commands",
        "_config",
        "_counters",
        "_day",
        "_day_end_s",
        "_day_start_s",
        "_day_total_kwh",
        "_epoch",
        "_flows",
        "_forecast_kwh",
        "_history",
        "_inverter",
        "_load",
        "_meters",
        "_previous_day",
        "_published",
        "_pv",
        "_t",
        "_tz",
    )

    def __init__(self, config: PlantConfig, start: datetime) -> None:
        """Build the plant at an aware start moment; counters count from there."""
        self._config = config
        self._tz = ZoneInfo(config.timezone)
        self._epoch = require_aware(start)
        self._t = 0.0
        self._pv = PvModel(config.pv, config.seed, self._tz)
        self._load = LoadModel(config.load, config.seed, self._tz)
        self._battery = Battery.from_config(config.battery)
        after = config.inverter.ignore_after
        after_s = None if after is None else self._seconds(require_aware(after))
        inverter_rng = random.Random(f"{config.seed}:inverter")
        self._inverter = Inverter(
            config.inverter, inverter_rng, after_s, config.initial_controls
        )
        self._inverter.schedule(self._epoch)
        self._history: deque[tuple[float, MeterReadings]] = deque()
        self._meters = MeterPublisher(
            config.meters, random.Random(f"{config.seed}:meters"), self._epoch
        )
        self._counters = EnergyCounters()
        self._previous_day: DayTotals | None = None
        self._published: Published | None = None
        self._commands = 0
        self._start_day(local_day(self._epoch, self._tz))
        self._flows = self._compute_flows(1.0, apply=False)
        self._process_events()

    @property
    def config(self) -> PlantConfig:
        """Return the plant's configuration."""
        return self._config

    @property
    def tz(self) -> ZoneInfo:
        """Return the plant's local time zone."""
        return self._tz

    @property
    def elapsed_s(self) -> float:
        """Return simulation seconds since the start."""
        return self._t

    @property
    def start_utc(self) -> datetime:
        """Return the moment of simulation time 0, in UTC."""
        return self._epoch

    @property
    def now_utc(self) -> datetime:
        """Return the current moment in UTC."""
        return self._epoch + timedelta(seconds=self._t)

    @property
    def now(self) -> datetime:
        """Return the current moment in the plant's local zone."""
        return self.now_utc.astimezone(self._tz)

    @property
    def day(self) -> date:
        """Return the local day the counters are counting."""
        return self._day

    @property
    def forcing(self) -> bool:
        """Return whether a forced discharge is actually running (cheap)."""
        return self._inverter.effective.enabled

    @property
    def next_poll_s(self) -> float:
        """Return the simulation seconds of the meters' next poll."""
        return self._meters.next_due_s

    @property
    def pv_today_kwh(self) -> float:
        """Return true PV energy of the running day (cheap; see truth() for everything)."""
        return self._counters.pv_kwh

    @property
    def export_today_kwh(self) -> float:
        """Return true exported energy of the running day (cheap; see truth())."""
        return self._counters.export_kwh

    def step(self, dt_s: float = 1.0) -> None:
        """Advance dt_s, splitting at every event (midnight, command, timer, poll) for exactness."""
        if dt_s <= 0.0:
            raise ValueError("dt_s must be positive")
        end = self._t + dt_s
        while self._t < end:
            target = min(end, self._next_event_s())
            if target > self._t:
                self._flows = self._compute_flows(target - self._t, apply=True)
                self._counters.add(self._flows, target - self._t)
                self._t = target
            self._process_events()

    def command_enable(self, enabled: bool) -> None:
        """Write the force-discharge switch."""
        self._command("enabled", enabled)

    def command_power_kw(self, power_kw: float) -> None:
        """Write the force-discharge power setpoint (kW)."""
        self._command("power_kw", power_kw)

    def command_cutoff_soc(self, soc: float) -> None:
        """Write the force-discharge cutoff SOC (%)."""
        self._command("cutoff_soc", soc)

    def command_duration_minutes(self, minutes: float) -> None:
        """Write the inverter-side discharge duration (minutes; 0 disables the timer)."""
        self._command("duration_minutes", minutes)

    def controller_gone(self) -> None:
        """Home Assistant stopped for good: nobody writes or polls any more from now."""
        self._inverter.controller_gone(self._t)

    def published(self) -> Published:
        """Return what a controller can see now."""
        if self._published is None:
            states = self._meters.states
            meters = self._config.meters
            self._published = Published(
                pv_today=states[PV_TODAY],
                export_today=states[EXPORT_TODAY],
                import_today=states[IMPORT_TODAY],
                grid_power=states[GRID_POWER],
                battery_power=states[BATTERY_POWER],
                soc=states[SOC],
                forecast_today=states[FORECAST_TODAY],
                controls=self._inverter.readback,
                grid_export_negative=meters.grid_export_negative,
                battery_discharge_positive=meters.battery_discharge_positive,
            )
        return self._published

    def truth(self) -> Truth:
        """Return the true state for scoring."""
        c, f = self._counters, self._flows
        return Truth(
            now=self.now,
            day=self._day,
            pv_kw=f.pv_kw,
            load_kw=f.load_kw,
            battery_kw=f.battery_kw,
            grid_kw=f.grid_kw,
            soc_pct=self._battery.soc_pct,
            pv_today_kwh=c.pv_kwh,
            export_today_kwh=c.export_kwh,
            import_today_kwh=c.import_kwh,
            load_today_kwh=c.load_kwh,
            discharge_today_kwh=c.discharge_kwh,
            charge_today_kwh=c.charge_kwh,
            pv_day_total_kwh=self._day_total_kwh,
            forecast_today_kwh=self._forecast_kwh,
            forcing=self._inverter.effective.enabled,
            effective=self._inverter.effective,
            readback=self._inverter.readback,
            commands=self._commands,
            ignored_commands=self._inverter.ignored_count,
            timer_stops=self._inverter.timer_stops,
            previous_day=self._previous_day,
            flash_writes=sum(
                count
                for setting, count in self._inverter.writes_by_setting.items()
                if setting in self._config.inverter.persistent_settings
            ),
        )

    def day_totals(self) -> DayTotals:
        """Return the running day's true totals so far."""
        c = self._counters
        return DayTotals(
            day=self._day,
            start=self._epoch + timedelta(seconds=max(self._day_start_s, 0.0)),
            end=self.now_utc,
            pv_kwh=c.pv_kwh,
            export_kwh=c.export_kwh,
            import_kwh=c.import_kwh,
            load_kwh=c.load_kwh,
            discharge_kwh=c.discharge_kwh,
            charge_kwh=c.charge_kwh,
        )

    def _seconds(self, moment: datetime) -> float:
        """Return simulation seconds of an aware moment."""
        return (moment - self._epoch).total_seconds()

    def _command(self, setting: Setting, value: bool | float) -> None:
        """Send a write to the inverter; a zero-latency write lands at once."""
        self._commands += 1
        self._inverter.command(setting, value, self._t)
        self._inverter.process(self._t)
        self._published = None

    def _start_day(self, day: date) -> None:
        """Begin a local day: its bounds, true PV total and seeded forecast."""
        self._day = day
        self._day_start_s = self._seconds(local_midnight(day, self._tz))
        self._day_end_s = self._seconds(
            local_midnight(day + timedelta(days=1), self._tz)
        )
        self._day_total_kwh = self._pv.day_total_kwh(day)
        rng = random.Random(f"{self._config.seed}:forecast:{day.isoformat()}")
        self._forecast_kwh = self._day_total_kwh * rng.uniform(
            *self._config.forecast_error
        )

    def _next_event_s(self) -> float:
        """Return the time of the next event of any kind."""
        inverter = self._inverter.next_event_s()
        soonest = min(self._day_end_s, self._meters.next_due_s)
        return soonest if inverter is None else min(soonest, inverter)

    def _process_events(self) -> None:
        """Handle what is due now: midnight first, then writes and the timer, then the poll."""
        if self._t >= self._day_end_s - EVENT_EPS:
            self._previous_day = self.day_totals()
            self._counters.reset()
            self._start_day(self._day + timedelta(days=1))
        if self._inverter.process(self._t):
            self._published = None
        delays = self._config.meters.value_delay_s
        if delays:
            self._remember(max(delay for _, delay in delays))
        if self._t >= self._meters.next_due_s - EVENT_EPS:
            self._meters.publish(self._t, self._delayed(self._readings()))
            self._published = None

    def _remember(self, horizon_s: float) -> None:
        """Keep the readings of the last horizon_s for sensors that report late values."""
        history = self._history
        history.append((self._t, self._readings()))
        while len(history) > 1 and history[1][0] <= self._t - horizon_s:
            history.popleft()

    def _delayed(self, now: MeterReadings) -> MeterReadings:
        """Return the readings with each delayed sensor's value taken from delay seconds ago."""
        delays = self._config.meters.value_delay_s
        if not delays:
            return now
        fields: dict[str, float] = {}
        for key, delay in delays:
            old = self._reading_at(self._t - delay)
            fields.update(_DELAYED_FIELDS[key](old))
        return replace(now, **fields)

    def _reading_at(self, moment_s: float) -> MeterReadings:
        """Return the latest remembered readings at or before moment_s (else the oldest)."""
        chosen = self._history[0][1]
        for at, readings in self._history:
            if at > moment_s + EVENT_EPS:
                break
            chosen = readings
        return chosen

    def _compute_flows(self, dt_s: float, *, apply: bool) -> Flows:
        """Return flows from now for dt_s; with apply, the battery actually moves."""
        local = self.now
        hour = clock_hours(local)
        elapsed = self._t - self._day_start_s
        pv = self._pv.power_at(self._day, hour, elapsed)
        load = self._load.power_at(self._day, hour, elapsed)
        charge = self._config.inverter.grid_charge
        charging = charge is not None and in_window(
            local.time(), charge.start, charge.end
        )
        request = dispatch(
            self._inverter.effective, self._config.inverter, pv, load, charging
        )
        move = self._battery.apply if apply else self._battery.achievable_kw
        battery = move(request.power_kw, dt_s, request.floor_soc, request.ceiling_soc)
        return Flows.balance(pv, load, battery)

    def _readings(self) -> MeterReadings:
        """Return the true values the meters sample at a poll."""
        c, f = self._counters, self._flows
        return MeterReadings(
            pv_today_kwh=c.pv_kwh,
            export_today_kwh=c.export_kwh,
            import_today_kwh=c.import_kwh,
            grid_kw=f.grid_kw,
            battery_kw=f.battery_kw,
            soc_pct=self._battery.soc_pct,
            forecast_today_kwh=self._forecast_kwh,
        )
