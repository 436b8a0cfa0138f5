"""One scenario-day through both controllers, in the same run."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from sim.scenarios import ScenarioDay

from .config import HassSpan
from .ours import async_run_ours
from .records import DayOutcome
from .reference import reference_runs
from .theirs import run_baseline


async def async_run_scenario_day(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    day: ScenarioDay,
    span: HassSpan,
) -> DayOutcome:
    """Run ours in Home Assistant, the baseline and the references in the pure runner."""
    ours = await async_run_ours(hass, freezer, day, span)
    return DayOutcome(
        day=day, ours=ours, baseline=run_baseline(day), reference=reference_runs(day)
    )
