"""The pytest plugin object scripts/bench hands to pytest: which days, and where results go."""

from __future__ import annotations

from typing import Any, Final

import pytest

from sim.scenarios import ScenarioDay

from .config import HassSpan
from .records import DayOutcome


class BenchPlugin:
    """Carries the run's days and span into the session and the outcomes back out."""

    def __init__(self, days: list[ScenarioDay], span: HassSpan) -> None:
        """Hold the days to run and the Home Assistant span."""
        self.days = days
        self.span = span
        self.outcomes: list[DayOutcome] = []
        self.failed: list[str] = []
        self._config: pytest.Config | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        """Make the plugin reachable from the bench module."""
        config.stash[BENCH_KEY] = self
        self._config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Note any failure; show each day's progress."""
        if report.failed:
            self.failed.append(report.nodeid)
        if report.when != "call":
            return
        terminal: Any = None
        if self._config is not None:
            terminal = self._config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None:
            terminal.write_line(self._progress(report))

    def _progress(self, report: pytest.TestReport) -> str:
        """Return one progress line: the day, its wall time and both over-exports."""
        line = f"{report.nodeid.partition('[')[2].rstrip(']')}: {report.duration:.1f} s"
        if report.failed or not self.outcomes:
            return f"{line} FAILED"
        last = self.outcomes[-1]
        ours, theirs = last.ours.result, last.baseline.result
        return (
            f"{line}; over-export ours {ours.over_export_kwh:.3f} kWh, "
            f"baseline {theirs.over_export_kwh:.3f} kWh"
        )


BENCH_KEY: Final = pytest.StashKey[BenchPlugin]()


def day_ids(days: list[ScenarioDay]) -> list[str]:
    """Return the pytest ids of the days, e.g. nominal-0."""
    return [f"{day.name}-{day.index}" for day in days]
