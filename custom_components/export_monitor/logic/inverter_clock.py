"""The inverter's own clock (time slots): its offset from Home Assistant's, or none to trust."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

# The most the inverter's clock may read away from Home Assistant's. Further off, the
# reading is misread (a time zone) or old (the integration stopped polling): a slot
# written with it may not hold "now" on the inverter, or may end later than sized.
CLOCK_SKEW_LIMIT: Final = timedelta(minutes=15)


def clock_offset_s(now: datetime, shown: str | None) -> float | None:
    """Return Home Assistant's clock minus the inverter's, from the clock it shows.

    A naive time is the inverter's local wall time. A reading taken at the last poll
    makes the inverter's clock seem behind: a slot then starts and ends sooner, safe.
    None when it shows no time (unknown, unavailable, not a time).
    """
    try:
        shown_at = datetime.fromisoformat(shown or "")
    except ValueError:
        return None
    if shown_at.tzinfo is None:
        shown_at = shown_at.replace(tzinfo=now.tzinfo)
    return (now - shown_at).total_seconds()


def slot_clock_offset_s(
    now: datetime, shown: str | None, *, chosen: bool
) -> float | None:
    """Return the offset a slot is written and read with; None when none is trusted.

    No clock chosen (the role is optional): the clocks are taken to agree. A clock
    chosen that shows no time, or one further off than CLOCK_SKEW_LIMIT, gives none:
    a slot must then be neither written nor read back (fail closed).
    """
    if not chosen:
        return 0.0
    offset = clock_offset_s(now, shown)
    if offset is None or abs(offset) > CLOCK_SKEW_LIMIT.total_seconds():
        return None
    return offset
