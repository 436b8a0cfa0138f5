"""One way to read the integration's stores: what they hold, or that they held nothing usable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store

from .const import LOGGER


@dataclass(frozen=True, slots=True)
class Stored:
    """What a store held: its data ({} when nothing usable) and whether it was unreadable."""

    data: dict[str, Any] = field(default_factory=dict)
    # Something was stored that this version cannot read (a newer version, another shape):
    # it may have said that a discharge runs.
    unreadable: bool = False

    def holds(self, key: str) -> bool:
        """Return whether `key` may have been stored: set, or the store unreadable."""
        return self.unreadable or self.data.get(key) is not None


async def async_load_stored(store: Store[dict[str, Any]], what: str) -> Stored:
    """Load a store; what this version cannot read (newer, another shape, no file) is logged."""
    try:
        # Typed as what we wrote; what is on disk may be anything.
        data: object = await store.async_load()
    except NotImplementedError:
        # Home Assistant's Store raises this for another major version: do not guess at it.
        LOGGER.warning("Ignoring %s stored by a newer version", what)
        return Stored(unreadable=True)
    except (HomeAssistantError, KeyError, TypeError) as err:
        # A file that cannot be opened, or one not in the Store's own form: set-up goes on
        # (a failed set-up would leave a running discharge unsupervised).
        LOGGER.warning("Ignoring %s that could not be read: %r", what, err)
        return Stored(unreadable=True)
    if data is None:
        return Stored()
    if not isinstance(data, dict):
        LOGGER.warning("Ignoring %s stored in a form this version cannot read", what)
        return Stored(unreadable=True)
    return Stored(data)
