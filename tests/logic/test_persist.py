"""Tests of storing a discharge session and reading it back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.export_monitor.logic.persist import (
    session_from_data,
    session_to_data,
)
from custom_components.export_monitor.logic.supervision import Session

from .common import NOW

MINIMAL = Session(
    started_at=NOW,
    origin="service",
    power_kw=3.0,
    cutoff_soc=20.0,
    start_exported_kwh=1.25,
)
FULL = Session(
    started_at=NOW,
    origin="auto",
    power_kw=4.5,
    cutoff_soc=25.0,
    start_exported_kwh=0.0,
    target_export_kwh=2.0,
    ends_at=NOW + timedelta(minutes=40),
    started_in_window=False,
    backstop_minutes=45,
    backstop_armed_at=NOW + timedelta(seconds=5),
)


@pytest.mark.parametrize("session", [MINIMAL, FULL], ids=["minimal", "full"])
def test_round_trip(session: Session) -> None:
    """A stored session reads back equal to the original."""
    assert session_from_data(session_to_data(session)) == session


def test_stored_form() -> None:
    """Times are stored as ISO text and absent values as None."""
    assert session_to_data(MINIMAL) == {
        "started_at": "2026-06-15T12:00:00+00:00",
        "origin": "service",
        "power_kw": 3.0,
        "cutoff_soc": 20.0,
        "start_exported_kwh": 1.25,
        "target_export_kwh": None,
        "ends_at": None,
        "started_in_window": True,
        "backstop_minutes": None,
        "backstop_armed_at": None,
    }


def test_window_flag_defaults_to_true() -> None:
    """Data stored before the window flag existed read back as started in the window."""
    data = session_to_data(MINIMAL)
    del data["started_in_window"]
    restored = session_from_data(data)
    assert restored is not None
    assert restored.started_in_window is True


def _with(**changes: Any) -> dict[str, Any]:
    """Return the stored form of FULL with some fields changed."""
    return {**session_to_data(FULL), **changes}


def _without(key: str) -> dict[str, Any]:
    """Return the stored form of FULL without one field."""
    data = session_to_data(FULL)
    del data[key]
    return data


MALFORMED: dict[str, object] = {
    "none": None,
    "list": [session_to_data(FULL)],
    "text": "session",
    "empty": {},
    "no_start": _without("started_at"),
    "start_none": _with(started_at=None),
    "no_origin": _without("origin"),
    "no_power": _without("power_kw"),
    "no_cutoff": _without("cutoff_soc"),
    "no_start_export": _without("start_exported_kwh"),
    "naive_start": _with(started_at="2026-06-15T12:00:00"),
    "bad_start": _with(started_at="yesterday"),
    "naive_end": _with(ends_at="2026-06-15T12:40:00"),
    "bad_backstop_time": _with(backstop_armed_at="soon"),
    "power_text": _with(power_kw="fast"),
    "power_nan": _with(power_kw=float("nan")),
    "power_infinite": _with(power_kw=float("inf")),
    "power_zero": _with(power_kw=0.0),
    "power_negative": _with(power_kw=-3.0),
    "power_list": _with(power_kw=[3.0]),
    "target_text": _with(target_export_kwh="lots"),
    "backstop_minutes_text": _with(backstop_minutes="forty"),
}


@pytest.mark.parametrize("data", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_data_is_refused(data: object) -> None:
    """Missing, mistyped or naive-time data give no session rather than raising."""
    assert session_from_data(data) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)


@given(
    st.fixed_dictionaries(
        {},
        optional=dict.fromkeys(session_to_data(FULL), json_values),
    )
)
def test_arbitrary_stored_data_never_raises(data: dict[str, Any]) -> None:
    """Whatever is in storage, reading never raises; a session has an aware start."""
    restored = session_from_data(data)
    assert restored is None or restored.started_at.tzinfo is not None
