"""Typed settings built from the config entry's options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from ..const import (
    CONF_AUTO_DISCHARGE,
    CONF_BATTERY_CAPACITY_KWH,
    CONF_BATTERY_POWER_DISCHARGE_POSITIVE,
    CONF_DAILY_EXPORT_CAP_KWH,
    CONF_DISCHARGE_POWER_KW,
    CONF_EXPORT_METER_DELAY_SECONDS,
    CONF_EXPORT_METER_INTERVAL_SECONDS,
    CONF_EXPORT_METER_RESOLUTION_KWH,
    CONF_EXPORT_WINDOW_END,
    CONF_EXPORT_WINDOW_START,
    CONF_FORECAST_CONFIDENCE,
    CONF_FORECAST_CREDIT,
    CONF_GRID_POWER_EXPORT_NEGATIVE,
    CONF_INVERTER_MAX_POWER_KW,
    CONF_MIN_SOC,
    CONF_PV_PEAK_POWER_KW,
    CONF_RESUME_WHEN_SAFE,
    CONF_SAFETY_MARGIN_KWH,
    CONF_STALE_AFTER_SECONDS,
    DEFAULT_AUTO_DISCHARGE,
    DEFAULT_BATTERY_CAPACITY_KWH,
    DEFAULT_BATTERY_POWER_DISCHARGE_POSITIVE,
    DEFAULT_DISCHARGE_POWER_KW,
    DEFAULT_EXPORT_METER_DELAY_SECONDS,
    DEFAULT_EXPORT_WINDOW_END,
    DEFAULT_EXPORT_WINDOW_START,
    DEFAULT_FORECAST_CONFIDENCE,
    DEFAULT_FORECAST_CREDIT,
    DEFAULT_GRID_POWER_EXPORT_NEGATIVE,
    DEFAULT_MIN_SOC,
    DEFAULT_PV_PEAK_POWER_KW,
    DEFAULT_RESUME_WHEN_SAFE,
    DEFAULT_SAFETY_MARGIN_KWH,
    DEFAULT_STALE_AFTER_SECONDS,
)
from .allowance import ExportLimits
from .window import parse_time


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterSpec:
    """What the user declared of the export meter; None means learn it."""

    interval_seconds: float | None = None
    resolution_kwh: float | None = None
    delay_seconds: float = float(DEFAULT_EXPORT_METER_DELAY_SECONDS)


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorSettings:
    """Every tunable the decisions need, typed and defaulted."""

    limits: ExportLimits
    min_soc: float
    discharge_power_kw: float
    battery_capacity_kwh: float
    stale_after_seconds: float
    window_start: time
    window_end: time
    auto_discharge: bool
    grid_power_export_negative: bool
    battery_power_discharge_positive: bool
    resume_when_safe: bool
    pv_peak_kw: float = DEFAULT_PV_PEAK_POWER_KW
    # None: not declared; the dead-man and the reserve then assume 1.5 x the setpoint.
    inverter_max_kw: float | None = None
    meter: MeterSpec = field(default_factory=MeterSpec)


def _optional(options: Mapping[str, Any], key: str) -> float | None:
    """Read an optional number; None when not set."""
    value = options.get(key)
    return None if value is None else float(value)


def meter_from_options(options: Mapping[str, Any]) -> MeterSpec:
    """Build the declared export meter from the options."""
    return MeterSpec(
        interval_seconds=_optional(options, CONF_EXPORT_METER_INTERVAL_SECONDS),
        resolution_kwh=_optional(options, CONF_EXPORT_METER_RESOLUTION_KWH),
        delay_seconds=float(
            options.get(
                CONF_EXPORT_METER_DELAY_SECONDS, DEFAULT_EXPORT_METER_DELAY_SECONDS
            )
        ),
    )


def _time(options: Mapping[str, Any], key: str, default: str) -> time:
    """Read a window time, falling back to the default when malformed."""
    parsed = parse_time(str(options.get(key, default)))
    return parsed if parsed is not None else time.fromisoformat(default)


def settings_from_options(options: Mapping[str, Any]) -> MonitorSettings:
    """Build typed settings from entry options, applying contract defaults."""
    cap = options.get(CONF_DAILY_EXPORT_CAP_KWH)
    limits = ExportLimits(
        safety_margin_kwh=float(
            options.get(CONF_SAFETY_MARGIN_KWH, DEFAULT_SAFETY_MARGIN_KWH)
        ),
        daily_export_cap_kwh=None if cap is None else float(cap),
        forecast_credit=bool(
            options.get(CONF_FORECAST_CREDIT, DEFAULT_FORECAST_CREDIT)
        ),
        forecast_confidence=float(
            options.get(CONF_FORECAST_CONFIDENCE, DEFAULT_FORECAST_CONFIDENCE)
        ),
    )
    return MonitorSettings(
        limits=limits,
        min_soc=float(options.get(CONF_MIN_SOC, DEFAULT_MIN_SOC)),
        discharge_power_kw=float(
            options.get(CONF_DISCHARGE_POWER_KW, DEFAULT_DISCHARGE_POWER_KW)
        ),
        battery_capacity_kwh=float(
            options.get(CONF_BATTERY_CAPACITY_KWH, DEFAULT_BATTERY_CAPACITY_KWH)
        ),
        stale_after_seconds=float(
            options.get(CONF_STALE_AFTER_SECONDS, DEFAULT_STALE_AFTER_SECONDS)
        ),
        window_start=_time(
            options, CONF_EXPORT_WINDOW_START, DEFAULT_EXPORT_WINDOW_START
        ),
        window_end=_time(options, CONF_EXPORT_WINDOW_END, DEFAULT_EXPORT_WINDOW_END),
        auto_discharge=bool(options.get(CONF_AUTO_DISCHARGE, DEFAULT_AUTO_DISCHARGE)),
        grid_power_export_negative=bool(
            options.get(
                CONF_GRID_POWER_EXPORT_NEGATIVE, DEFAULT_GRID_POWER_EXPORT_NEGATIVE
            )
        ),
        battery_power_discharge_positive=bool(
            options.get(
                CONF_BATTERY_POWER_DISCHARGE_POSITIVE,
                DEFAULT_BATTERY_POWER_DISCHARGE_POSITIVE,
            )
        ),
        resume_when_safe=bool(
            options.get(CONF_RESUME_WHEN_SAFE, DEFAULT_RESUME_WHEN_SAFE)
        ),
        pv_peak_kw=float(options.get(CONF_PV_PEAK_POWER_KW, DEFAULT_PV_PEAK_POWER_KW)),
        inverter_max_kw=_optional(options, CONF_INVERTER_MAX_POWER_KW),
        meter=meter_from_options(options),
    )
