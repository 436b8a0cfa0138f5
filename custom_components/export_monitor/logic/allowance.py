"""The compliance rule: how much may still be exported today."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportLimits:
    """The user's limits that shape the allowance."""

    safety_margin_kwh: float
    daily_export_cap_kwh: float | None = None
    forecast_credit: bool = False
    forecast_confidence: float = 0.8


def generation_credit_kwh(
    pv_today_kwh: float, forecast_today_kwh: float | None, limits: ExportLimits
) -> float:
    """Return the generation the rule credits: measured PV, forecast only if opted in."""
    if not limits.forecast_credit or forecast_today_kwh is None:
        return pv_today_kwh
    return max(pv_today_kwh, forecast_today_kwh * limits.forecast_confidence)


def allowance_kwh(
    pv_today_kwh: float, forecast_today_kwh: float | None, limits: ExportLimits
) -> float:
    """Return today's export allowance; the margin is always subtracted."""
    generation = generation_credit_kwh(pv_today_kwh, forecast_today_kwh, limits)
    allowance = generation - limits.safety_margin_kwh
    if limits.daily_export_cap_kwh is not None:
        allowance = min(
            allowance, limits.daily_export_cap_kwh - limits.safety_margin_kwh
        )
    return allowance


def headroom_kwh(allowance: float, exported_today_kwh: float) -> float:
    """Return what may still be exported today, never negative."""
    return max(0.0, allowance - exported_today_kwh)
