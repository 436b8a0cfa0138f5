"""Tests of the compliance rule: allowance and headroom."""

from __future__ import annotations

from hypothesis import assume, given, strategies as st
import pytest

from custom_components.export_monitor.logic.allowance import (
    ExportLimits,
    allowance_kwh,
    headroom_kwh,
)

# Float rounding of allowance - exported (1 µWh); far below any meter's resolution.
ROUNDING_KWH = 1e-9

ALLOWANCES: dict[str, tuple[float, float | None, ExportLimits, float]] = {
    "generation_rule": (10.0, None, ExportLimits(safety_margin_kwh=0.5), 9.5),
    "no_margin": (10.0, None, ExportLimits(safety_margin_kwh=0.0), 10.0),
    "margin_above_generation": (0.2, None, ExportLimits(safety_margin_kwh=0.5), -0.3),
    "nothing_generated": (0.0, None, ExportLimits(safety_margin_kwh=0.5), -0.5),
    "cap_below_generation": (
        10.0,
        None,
        ExportLimits(safety_margin_kwh=0.5, daily_export_cap_kwh=5.0),
        4.5,
    ),
    "cap_above_generation": (
        10.0,
        None,
        ExportLimits(safety_margin_kwh=0.5, daily_export_cap_kwh=20.0),
        9.5,
    ),
    "cap_equal_to_generation": (
        10.0,
        None,
        ExportLimits(safety_margin_kwh=0.5, daily_export_cap_kwh=10.0),
        9.5,
    ),
    "forecast_ignored_by_default": (
        5.0,
        20.0,
        ExportLimits(safety_margin_kwh=0.5),
        4.5,
    ),
    "credit_forecast_above_pv": (
        5.0,
        20.0,
        ExportLimits(safety_margin_kwh=0.5, forecast_credit=True),
        15.5,
    ),
    "credit_forecast_below_pv": (
        10.0,
        10.0,
        ExportLimits(safety_margin_kwh=0.5, forecast_credit=True),
        9.5,
    ),
    "credit_forecast_confidence": (
        5.0,
        20.0,
        ExportLimits(
            safety_margin_kwh=0.5, forecast_credit=True, forecast_confidence=0.5
        ),
        9.5,
    ),
    "credit_without_forecast": (
        10.0,
        None,
        ExportLimits(safety_margin_kwh=0.5, forecast_credit=True),
        9.5,
    ),
    "credit_still_capped": (
        5.0,
        20.0,
        ExportLimits(
            safety_margin_kwh=0.5, daily_export_cap_kwh=8.0, forecast_credit=True
        ),
        7.5,
    ),
}


@pytest.mark.parametrize(
    ("pv", "forecast", "limits", "expected"),
    list(ALLOWANCES.values()),
    ids=list(ALLOWANCES),
)
def test_allowance(
    pv: float, forecast: float | None, limits: ExportLimits, expected: float
) -> None:
    """The allowance follows the rule in CONTRACT.md, margin always subtracted."""
    assert allowance_kwh(pv, forecast, limits) == pytest.approx(expected)


HEADROOMS: dict[str, tuple[float, float, float]] = {
    "some_left": (9.5, 3.0, 6.5),
    "nothing_exported": (9.5, 0.0, 9.5),
    "exactly_used": (9.5, 9.5, 0.0),
    "breached": (9.5, 12.0, 0.0),
    "negative_allowance": (-0.3, 0.0, 0.0),
    "negative_allowance_and_export": (-0.3, 1.0, 0.0),
}


@pytest.mark.parametrize(
    ("allowance", "exported", "expected"), list(HEADROOMS.values()), ids=list(HEADROOMS)
)
def test_headroom(allowance: float, exported: float, expected: float) -> None:
    """Headroom is what is left of the allowance, never negative."""
    assert headroom_kwh(allowance, exported) == pytest.approx(expected)


energies = st.floats(0, 1000)
margins = st.floats(0, 10)
caps = st.none() | st.floats(0.1, 1000)
forecasts = st.none() | energies
confidences = st.floats(0, 1)


@given(energies, forecasts, margins, caps, confidences)
def test_without_credit_never_above_measured_pv(
    pv: float,
    forecast: float | None,
    margin: float,
    cap: float | None,
    confidence: float,
) -> None:
    """Without forecast credit the allowance never exceeds measured PV minus margin."""
    limits = ExportLimits(
        safety_margin_kwh=margin,
        daily_export_cap_kwh=cap,
        forecast_confidence=confidence,
    )
    assert allowance_kwh(pv, forecast, limits) <= pv - margin


@given(energies, forecasts, margins, st.floats(0.1, 1000), st.booleans(), confidences)
def test_never_above_cap(
    pv: float,
    forecast: float | None,
    margin: float,
    cap: float,
    credit: bool,
    confidence: float,
) -> None:
    """With a cap the allowance never exceeds cap minus margin, forecast or not."""
    limits = ExportLimits(
        safety_margin_kwh=margin,
        daily_export_cap_kwh=cap,
        forecast_credit=credit,
        forecast_confidence=confidence,
    )
    assert allowance_kwh(pv, forecast, limits) <= cap - margin


@given(energies, energies, margins, caps, confidences)
def test_credit_never_above_credited_forecast(
    pv: float,
    forecast: float,
    margin: float,
    cap: float | None,
    confidence: float,
) -> None:
    """With forecast credit the allowance is bounded by the larger of PV and forecast."""
    limits = ExportLimits(
        safety_margin_kwh=margin,
        daily_export_cap_kwh=cap,
        forecast_credit=True,
        forecast_confidence=confidence,
    )
    assert (
        allowance_kwh(pv, forecast, limits) <= max(pv, forecast * confidence) - margin
    )


@given(st.floats(-10, 1000), energies)
def test_headroom_never_negative(allowance: float, exported: float) -> None:
    """Headroom is never negative, whatever was exported."""
    assert headroom_kwh(allowance, exported) >= 0.0


@given(st.floats(-10, 1000), energies)
def test_exporting_the_headroom_stays_within_allowance(
    allowance: float, exported: float
) -> None:
    """When there is headroom, allowance - headroom never falls below exported."""
    headroom = headroom_kwh(allowance, exported)
    assume(headroom > 0)
    assert allowance - headroom <= exported + ROUNDING_KWH
