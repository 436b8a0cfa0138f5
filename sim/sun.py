"""Approximate sunrise, sunset and noon elevation for a date and place (good to minutes)."""

from __future__ import annotations

from datetime import date, datetime, time
import math
from typing import Final
from zoneinfo import ZoneInfo

LONDON: Final = (51.5, -0.13)


def declination_rad(day: date) -> float:
    """Return the solar declination for the day of the year."""
    return math.radians(23.44) * math.sin(
        2.0 * math.pi * (284 + day.timetuple().tm_yday) / 365.0
    )


def equation_of_time_h(day: date) -> float:
    """Return the equation of time in hours (sundial minus clock)."""
    b = 2.0 * math.pi * (day.timetuple().tm_yday - 81) / 364.0
    return (9.87 * math.sin(2 * b) - 7.53 * math.cos(b) - 1.5 * math.sin(b)) / 60.0


def sun_times(
    day: date, tz: ZoneInfo, place: tuple[float, float] = LONDON
) -> tuple[float, float]:
    """Return local clock hours of sunrise and sunset."""
    latitude, longitude = math.radians(place[0]), place[1]
    cos_w = -math.tan(latitude) * math.tan(declination_rad(day))
    half_day_h = math.degrees(math.acos(max(-1.0, min(1.0, cos_w)))) / 15.0
    offset = datetime.combine(day, time(12), tzinfo=tz).utcoffset()
    offset_h = 0.0 if offset is None else offset.total_seconds() / 3600.0
    noon = 12.0 - longitude / 15.0 - equation_of_time_h(day) + offset_h
    return noon - half_day_h, noon + half_day_h


def noon_elevation_deg(day: date, latitude: float = LONDON[0]) -> float:
    """Return the sun's elevation at solar noon."""
    return 90.0 - latitude + math.degrees(declination_rad(day))
