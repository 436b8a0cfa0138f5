"""Writes as short tuples, so a profile test reads as the sequence it checks."""

from __future__ import annotations

from collections.abc import Iterable

from custom_components.export_monitor.profiles.base import Field, Write

type Step = tuple[str, str, Field | tuple[tuple[str, Field], ...] | None]


def steps(writes: Iterable[Write]) -> list[Step]:
    """Return (op, role or service, value or fields) for each write, in order."""
    return [
        (str(w.op), str(w.service), w.fields)
        if w.service is not None
        else (str(w.op), str(w.role), w.value)
        for w in writes
    ]
