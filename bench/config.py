"""What both controllers share in the benchmark: window, limits, and the Home Assistant span."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
import math
from typing import Any, Final
from zoneinfo import ZoneInfo

from sim.baseline import BaselineConfig
from sim.bridge import monitor_options
from sim.plant import PlantConfig, Published

WINDOW_START: Final = time(16, 0)
WINDOW_END: Final = time(19, 0)
SAFETY_MARGIN_KWH: Final = 0.5
MIN_SOC: Final = 20.0
POWER_KW: Final = 3.0
DEFAULT_DAYS: Final = 2
DEFAULT_SEED: Final = 2026
# Home Assistant's timers are fired every HASS_STEP_S; the plant moves PLANT_STEP_S at a time.
HASS_STEP_S: Final = 5.0
PLANT_STEP_S: Final = 1.0
SAMPLE_S: Final = 60.0
# A stale threshold below a few meter intervals would trip on every healthy meter.
MIN_STALE_AFTER_S: Final = 30
STALE_INTERVALS: Final = 3
# The helper's and the battery's limit: the most the simulated inverter can deliver.
INVERTER_MAX_KW: Final = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class HassSpan:
    """The part of each day run inside Home Assistant (local clock; end None = midnight)."""

    start: time = time(15, 50)
    end: time | None = time(19, 1)
    step_s: float = HASS_STEP_S
    # Give the monitor the export meter's true interval and resolution (the guide's step 3).
    describe_meter: bool = False

    def bounds(self, day: date, timezone: str) -> tuple[datetime, datetime | None]:
        """Return the span's aware start and end (None: the day's local midnight)."""
        tz = ZoneInfo(timezone)
        start = datetime.combine(day, self.start, tzinfo=tz)
        end = None if self.end is None else datetime.combine(day, self.end, tzinfo=tz)
        return start, end

    def describe(self) -> str:
        """Return the span as text, e.g. 15:30-midnight."""
        end = "midnight" if self.end is None else self.end.strftime("%H:%M")
        return f"{self.start.strftime('%H:%M')}-{end}"


def export_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    """Return the day's aware export window (both controllers use the same one)."""
    tz = ZoneInfo(timezone)
    return (
        datetime.combine(day, WINDOW_START, tzinfo=tz),
        datetime.combine(day, WINDOW_END, tzinfo=tz),
    )


def baseline_config(timezone: str) -> BaselineConfig:
    """Return the earlier tool's settings: the same window, margin, floor and power."""
    return BaselineConfig(
        power_kw=POWER_KW,
        safety_margin_kwh=SAFETY_MARGIN_KWH,
        min_soc=MIN_SOC,
        window_start=WINDOW_START,
        window_end=WINDOW_END,
        timezone=timezone,
    )


def stale_after_seconds(interval_s: float) -> int:
    """Return a stale threshold that a healthy meter of this interval never trips."""
    return max(MIN_STALE_AFTER_S, math.ceil(STALE_INTERVALS * interval_s))


def bench_options(
    published: Published,
    config: PlantConfig,
    cap_kwh: float | None = None,
    describe_meter: bool = False,
) -> dict[str, Any]:
    """Return the monitor's options: the simulated entities plus the benchmark's settings.

    With describe_meter the export meter's interval and resolution are given (as a user
    who knows them would, the guide's step 3).

    The stale threshold follows the production guide: above the slowest source's normal
    interval (30 s for 5-10 s sources). Without describe_meter the export meter's interval,
    resolution and delay are left out, as a user who does not know them would: the monitor
    assumes 300 s and 0.1 kWh until it has learned them.
    """
    cap = {} if cap_kwh is None else {"daily_export_cap_kwh": cap_kwh}
    if describe_meter:
        cap |= {
            "export_meter_interval_seconds": round(config.meters.update_interval_s),
            "export_meter_resolution_kwh": config.meters.energy_resolution_kwh,
        }
    sources = {
        key: value
        for key, value in monitor_options(published).items()
        if key != "forecast_today_entity"  # forecast credit is off: no forecast needed
    }
    return {
        **cap,
        **sources,
        "auto_discharge": True,
        "export_window_start": WINDOW_START.isoformat(),
        "export_window_end": WINDOW_END.isoformat(),
        "safety_margin_kwh": SAFETY_MARGIN_KWH,
        "min_soc": MIN_SOC,
        "discharge_power_kw": POWER_KW,
        "battery_capacity_kwh": config.battery.capacity_kwh,
        "stale_after_seconds": stale_after_seconds(config.meters.slowest_interval_s()),
        "inverter_max_power_kw": INVERTER_MAX_KW,
    }
