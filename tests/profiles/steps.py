"""Writes as short tuples, so a profile test reads as the sequence it checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from custom_components.export_monitor.profiles.base import Field, Literal, Role, Write
from custom_components.export_monitor.profiles.render import (
    EntityFacts,
    WriteValues,
    render,
)

# A sample plan: 3.2567 kW for 12.5 minutes, the floor at 31.2 %, at noon.
SAMPLE: Final = WriteValues(
    now=datetime(2026, 6, 1, 12, 0, 0, tzinfo=ZoneInfo("Europe/Berlin")),
    power_kw=3.2567,
    backstop_minutes=12.5,
    cutoff_soc=31.2,
)

type Step = tuple[str, str, Field | tuple[tuple[str, Field], ...] | None]


def steps(writes: Iterable[Write]) -> list[Step]:
    """Return (op, role or service, value or fields) for each write, in order."""
    return [
        (str(w.op), str(w.service), w.fields)
        if w.service is not None
        else (str(w.op), str(w.role), w.value)
        for w in writes
    ]


def rendered(
    writes: Iterable[Write],
    ids: Mapping[Role, str],
    facts: Mapping[str, EntityFacts],
    values: WriteValues = SAMPLE,
) -> list[tuple[str, str | None, dict[str, Literal]]]:
    """Return each write rendered for a sample plan: service, entity and data."""
    calls = [render(write, ids, facts, values) for write in writes]
    return [
        (f"{call.domain}.{call.service}", call.entity_id, dict(call.data))
        for call in calls
        if call is not None
    ]
