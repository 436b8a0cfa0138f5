"""Turn a discharge session into stored data and back, refusing anything malformed."""

from __future__ import annotations

from datetime import datetime
import math
from typing import Any

from .supervision import Session

_TIME_FIELDS = ("started_at", "ends_at", "backstop_armed_at")


def session_to_data(session: Session) -> dict[str, Any]:
    """Return a JSON-ready dict of a session."""
    return {
        "started_at": session.started_at.isoformat(),
        "origin": session.origin,
        "power_kw": session.power_kw,
        "cutoff_soc": session.cutoff_soc,
        "start_exported_kwh": session.start_exported_kwh,
        "target_export_kwh": session.target_export_kwh,
        "ends_at": _iso(session.ends_at),
        "started_in_window": session.started_in_window,
        "backstop_minutes": session.backstop_minutes,
        "backstop_armed_at": _iso(session.backstop_armed_at),
    }


def session_from_data(data: Any) -> Session | None:
    """Rebuild a stored session; None when the data are missing or malformed."""
    if not isinstance(data, dict):
        return None
    try:
        times = {key: _parse(data.get(key)) for key in _TIME_FIELDS}
        started_at = times["started_at"]
        power_kw = float(data["power_kw"])
        if started_at is None or not math.isfinite(power_kw) or power_kw <= 0:
            return None
        return Session(
            started_at=started_at,
            origin=str(data["origin"]),
            power_kw=power_kw,
            cutoff_soc=float(data["cutoff_soc"]),
            start_exported_kwh=float(data["start_exported_kwh"]),
            target_export_kwh=_optional_float(data.get("target_export_kwh")),
            ends_at=times["ends_at"],
            started_in_window=bool(data.get("started_in_window", True)),
            backstop_minutes=_optional_float(data.get("backstop_minutes")),
            backstop_armed_at=times["backstop_armed_at"],
        )
    except (KeyError, TypeError, ValueError):
        return None


def latency_from_data(value: Any) -> float:
    """Return a stored stop latency in seconds; 0 when missing or malformed."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) and value > 0 else 0.0


def _iso(value: datetime | None) -> str | None:
    """Return an ISO timestamp or None."""
    return None if value is None else value.isoformat()


def _parse(value: Any) -> datetime | None:
    """Parse an aware ISO timestamp; raise ValueError on naive or bad text."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("naive timestamp")
    return parsed


def _optional_float(value: Any) -> float | None:
    """Return a float or None."""
    return None if value is None else float(value)
