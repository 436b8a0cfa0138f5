"""One scenario-day through every controller, in the same run."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from sim.scenarios import ScenarioDay

from .config import HassSpan
from .ours import async_run_ours
from .peers import run_peer
from .records import OURS, PEERS, DayOutcome, Reference
from .reference import WINDOW_BOUND, idle_figures


async def async_run_scenario_day(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    day: ScenarioDay,
    span: HassSpan,
) -> DayOutcome:
    """Run ours in Home Assistant, the peers and the idle day in the pure runner."""
    runs = {OURS: await async_run_ours(hass, freezer, day, span)}
    runs.update((name, run_peer(day, name)) for name in PEERS)
    binding = runs[PEERS[-1]].binding or WINDOW_BOUND
    reference = Reference(idle=idle_figures(day), binding=binding)
    return DayOutcome(day=day, runs=runs, reference=reference)
