"""The pytest plugin object scripts/bench hands to pytest: which days, and where results go."""

from __future__ import annotations

from pathlib import Path
import pickle
from typing import Any, Final

import pytest

from sim.scenarios import ScenarioDay

from .config import HassSpan
from .records import DayOutcome


class BenchPlugin:
    """Carries the run's days and span into the session and the outcomes back out."""

    def __init__(
        self, days: list[ScenarioDay], span: HassSpan, raw: Path | None = None
    ) -> None:
        """Hold the days to run and the Home Assistant span; raw: save after every day."""
        self.days = days
        self.span = span
        self.raw = raw
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
        if self.raw is not None:
            save_raw(self.raw, self.outcomes, self.failed)
        terminal: Any = None
        if self._config is not None:
            terminal = self._config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None:
            terminal.write_line(self._progress(report))

    def _progress(self, report: pytest.TestReport) -> str:
        """Return one progress line: the day, its wall time and both over-exports."""
        line = f"{report.nodeid.partition('[')[2].rstrip(']')}"
        if report.failed or not self.outcomes:
            return f"{line} FAILED"
        last = self.outcomes[-1]
        overs = ", ".join(
            f"{name} {run.result.max_over_export_kwh:.3f} ({run.run_cpu_s:.1f} s CPU)"
            for name, run in last.runs.items()
        )
        return f"{line}; max over-export (kWh): {overs}"


BENCH_KEY: Final = pytest.StashKey[BenchPlugin]()


def save_raw(path: Path, outcomes: list[DayOutcome], failed: list[str]) -> None:
    """Save the outcomes so far (a worker's share survives an interrupted run)."""
    ids = [node.partition("[")[2].rstrip("]") for node in failed]
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as handle:
        pickle.dump((outcomes, ids), handle)
    temporary.replace(path)


def load_raw(path: Path) -> tuple[list[DayOutcome], list[str]]:
    """Load a worker's saved outcomes and failures."""
    with path.open("rb") as handle:
        outcomes, failed = pickle.load(handle)  # noqa: S301 (our own file)
    return outcomes, failed


def day_ids(days: list[ScenarioDay]) -> list[str]:
    """Return the pytest ids of the days, e.g. nominal-0."""
    return [f"{day.name}-{day.index}" for day in days]
