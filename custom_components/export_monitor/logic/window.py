"""The daily export window, which may cross midnight."""

from __future__ import annotations

from datetime import time


def parse_time(text: str) -> time | None:
    """Parse "HH:MM" or "HH:MM:SS" into a local time, None when malformed."""
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        return None
    # An offset would make comparing with the naive local time raise TypeError.
    return None if parsed.tzinfo is not None else parsed


def in_window(now: time, start: time, end: time) -> bool:
    """Return whether a local time lies in [start, end], crossing midnight if end < start."""
    if start <= end:
        return start <= now <= end
    return now >= start or now <= end
