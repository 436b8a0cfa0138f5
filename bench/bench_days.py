"""The benchmark's scenario-days as pytest items: started by scripts/bench, never by scripts/test."""

from __future__ import annotations

from freezegun import api as freezegun_api
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from bench.day import async_run_scenario_day
from bench.plugin import BENCH_KEY, day_ids
from sim.scenarios import ScenarioDay

# freezegun inspects the call stack on every clock read so that a few modules (threading,
# pytest's reporting) see real time; a profile showed it as a sixth of a day's CPU, which is
# not the integration's. Off in the benchmark: results are unchanged, pytest's own durations
# become meaningless (the progress line shows CPU instead).
freezegun_api.call_stack_inspection_limit = 0


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run one item per scenario-day of the plugin (none without scripts/bench)."""
    plugin = metafunc.config.stash.get(BENCH_KEY, None)
    days = [] if plugin is None else plugin.days
    metafunc.parametrize("scenario_day", days, ids=day_ids(days))


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load the integration from custom_components/."""


async def test_scenario_day(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    scenario_day: ScenarioDay,
    request: pytest.FixtureRequest,
) -> None:
    """Run one scenario-day through ours and the baseline; hand the outcome back."""
    plugin = request.config.stash[BENCH_KEY]
    outcome = await async_run_scenario_day(hass, freezer, scenario_day, plugin.span)
    plugin.outcomes.append(outcome)
