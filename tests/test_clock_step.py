"""Staleness is not hidden by a backward step of the wall clock (#17).

A report's age is the larger of its wall-clock age and the monotonic time since it was
received: when the wall clock steps back, every report would otherwise look new.
"""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.export_monitor import coordinator as coordinator_module
from tests.discharge import async_advance, async_settle, shown

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")


class Monotonic:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        """Start at 1000 s."""
        self.seconds = 1000.0

    def __call__(self) -> float:
        """Return the clock's reading."""
        return self.seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Monotonic:
    """Give the coordinator a monotonic clock the test moves."""
    fake = Monotonic()
    monkeypatch.setattr(coordinator_module, "monotonic", fake)
    return fake


async def test_backward_clock_step_does_not_hide_staleness(
    hass: HomeAssistant,
    clock: Monotonic,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The wall clock steps back an hour, the meters go silent: stale after 30 s."""
    await async_advance(hass, freezer, 10)  # the meters re-report: not change-only
    clock.seconds += 10
    assert shown(hass)[1] == "none"
    freezer.move_to(dt_util.utcnow() - timedelta(hours=1))
    clock.seconds += 40
    # The timers run on the loop's clock: fire the heartbeat that is due.
    async_fire_time_changed(hass, dt_util.utcnow(), fire_all=True)
    await async_settle(hass)
    assert shown(hass)[1:] == ("stale_data", "stale_data")
