"""The development simulator integration's clock rules: fast days, midnight, restarts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
import importlib.util
from pathlib import Path
import pickle
import sys
from types import ModuleType
from typing import Any, Final
from zoneinfo import ZoneInfo

import pytest

from sim import Plant
from sim.bridge import (
    BATTERY_POWER,
    DURATION_ENTITY,
    EXPORT_TODAY,
    GRID_POWER,
    IMPORT_TODAY,
    PV_TODAY,
    SENSOR_ENTITIES,
    SOC,
    sensor_states,
)
from sim.clock import local_midnight

ROOT: Final = Path(__file__).resolve().parents[2]
TZ: Final = ZoneInfo("Europe/London")
TODAY: Final = datetime(2026, 6, 10, 14, 0, tzinfo=TZ)


def load_export_sim() -> ModuleType:
    """Import dev/custom_components/export_sim as a plain module."""
    path = ROOT / "dev" / "custom_components" / "export_sim" / "__init__.py"
    # A package, so that its relative imports (.saving) resolve.
    spec = importlib.util.spec_from_file_location(
        "export_sim_under_test", path, submodule_search_locations=[str(path.parent)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered first: dataclasses and pickle look the module up by name.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


export_sim: Final = load_export_sim()


class Clocks:
    """Stand-ins for the real monotonic clock and Home Assistant's local time."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seconds = 1000.0
        self.now = TODAY
        monkeypatch.setattr(export_sim, "monotonic", lambda: self.seconds)
        monkeypatch.setattr(export_sim.dt_util, "now", lambda: self.now)

    def advance(self, seconds: float) -> None:
        """Let real time pass."""
        self.seconds += seconds
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clocks(monkeypatch: pytest.MonkeyPatch) -> Clocks:
    """Control both clocks the simulator reads."""
    return Clocks(monkeypatch)


def plant_at(clock: time) -> Plant:
    """Return the nominal scenario's plant (seed 1) at a local clock time."""
    return export_sim.build_plant("nominal", 1, "Europe/London", clock)


def runner(plant: Plant, speed: float, path: Path) -> Any:
    """Return a SimulatedPlant around a plant; stepping it needs no Home Assistant."""
    conf = {"scenario": "nominal", "seed": 1, "speed": speed}
    return export_sim.SimulatedPlant(None, plant, conf, path)


def save(path: Path, plant: Plant, real_day: datetime, scenario: str) -> None:
    """Write a saved plant the way the integration does at shutdown."""
    saved = export_sim.Saved(scenario, 1, real_day.date(), plant)
    path.write_bytes(pickle.dumps((export_sim.SAVE_FORMAT, saved)))


def test_plant_starts_at_the_clock_time() -> None:
    """A new plant starts at the current local time of day, not at midnight."""
    plant = plant_at(time(14, 30))

    assert plant.now.time() == time(14, 30)


def test_fast_day_holds_before_its_midnight(clocks: Clocks, tmp_path: Path) -> None:
    """At 10x a simulated day reaching its midnight first waits, one second short."""
    sim = runner(plant_at(time(23, 58)), 10, tmp_path / "saved")
    day = sim.plant.day

    clocks.advance(60)
    sim.advance()

    assert sim.plant.day == day
    assert sim.plant.now.time() == time(23, 59, 59)
    assert sim.holding is True


def test_home_assistant_midnight_ends_the_held_day(
    clocks: Clocks, tmp_path: Path
) -> None:
    """When Home Assistant's day ends, the held simulated day ends too: counters reset."""
    sim = runner(plant_at(time(23, 58)), 10, tmp_path / "saved")
    day = sim.plant.day
    clocks.advance(60)
    sim.advance()

    clocks.now = TODAY.replace(hour=0) + timedelta(days=1, seconds=1)
    clocks.advance(1)
    sim.advance()

    assert sim.plant.day == day + timedelta(days=1)
    assert sim.plant.now.time() == time(0, 0, 10)
    assert sim.plant.export_today_kwh < 0.01
    assert sim.holding is False


def test_slow_day_jumps_to_midnight_with_home_assistant(
    clocks: Clocks, tmp_path: Path
) -> None:
    """At 0.5x, Home Assistant's midnight moves the simulated day on to its midnight."""
    sim = runner(plant_at(time(20, 0)), 0.5, tmp_path / "saved")
    day = sim.plant.day

    clocks.now = TODAY.replace(hour=0) + timedelta(days=1)
    clocks.advance(2)
    sim.advance()

    assert sim.plant.day == day + timedelta(days=1)
    assert sim.plant.now.time() == time(0, 0, 1)


def test_restart_resumes_the_saved_plant(tmp_path: Path) -> None:
    """On the same day a restart carries on from the saved plant, even if it ran ahead."""
    path = tmp_path / "saved"
    save(path, plant_at(time(18, 0)), TODAY, "nominal")

    plant, restored = export_sim.restore_or_build(
        path, "nominal", 1, "Europe/London", TODAY
    )

    assert restored is True
    assert plant.now.time() == time(18, 0)


def test_restart_catches_up_to_the_clock(tmp_path: Path) -> None:
    """A saved plant behind the clock is stepped on to the current time of day."""
    path = tmp_path / "saved"
    save(path, plant_at(time(9, 0)), TODAY, "nominal")

    plant, _restored = export_sim.restore_or_build(
        path, "nominal", 1, "Europe/London", TODAY
    )

    assert plant.now.time() == time(14, 0)


def test_restart_on_a_later_day_starts_the_next_day(tmp_path: Path) -> None:
    """A plant saved on an earlier day moves to its next day, at the clock time."""
    path = tmp_path / "saved"
    saved = plant_at(time(23, 0))
    day = saved.day
    save(path, saved, TODAY - timedelta(days=1), "nominal")

    plant, restored = export_sim.restore_or_build(
        path, "nominal", 1, "Europe/London", TODAY
    )

    assert restored is True
    assert plant.day == day + timedelta(days=1)
    assert plant.now.time() == time(14, 0)


def write_nothing(path: Path) -> None:
    """Leave no saved plant."""


def write_corrupt(path: Path) -> None:
    """Write bytes that are no pickle."""
    path.write_bytes(b"not a pickle")


def write_unknown_format(path: Path) -> None:
    """Write a pickle of something else."""
    path.write_bytes(pickle.dumps(("other format", None)))


@pytest.mark.parametrize(
    "write",
    [write_nothing, write_corrupt, write_unknown_format],
    ids=["missing", "corrupt", "unknown_format"],
)
def test_unusable_saved_plant_builds_a_new_one(
    tmp_path: Path, write: Callable[[Path], None]
) -> None:
    """A missing, corrupt or foreign save file gives a new plant at the clock time."""
    path = tmp_path / "saved"
    write(path)

    plant, restored = export_sim.restore_or_build(
        path, "nominal", 1, "Europe/London", TODAY
    )

    assert restored is False
    assert plant.now.time() == time(14, 0)


def test_other_scenario_builds_a_new_plant(tmp_path: Path) -> None:
    """A saved plant of another scenario is not resumed."""
    path = tmp_path / "saved"
    save(path, plant_at(time(18, 0)), TODAY, "cloudy")

    plant, restored = export_sim.restore_or_build(
        path, "nominal", 1, "Europe/London", TODAY
    )

    assert restored is False
    assert plant.now.time() == time(14, 0)


def test_duration_counts_real_minutes(clocks: Clocks, tmp_path: Path) -> None:
    """A duration written in minutes reaches the 10x inverter as ten times as many."""
    sim = runner(plant_at(time(12, 0)), 10, tmp_path / "saved")

    sim.async_command(DURATION_ENTITY, "15")
    clocks.advance(1)
    sim.advance()

    assert sim.plant.truth().effective.duration_minutes == 150


def test_a_new_vendor_shows_its_status_at_set_up() -> None:
    """A new vendor integration reads the inverter at once: its clock, HA's plus skew."""
    vendor = export_sim.restore_vendor(None, "givenergy", TODAY, running=False)

    shown = vendor.states["sensor.givtcp_sim_invertor_time"]

    skew = timedelta(seconds=vendor.vendor.clock_skew_s)
    assert datetime.fromisoformat(shown) == TODAY + skew


def test_a_daily_counter_says_which_midnight_reset_it() -> None:
    """Counters carry the local midnight that reset them; yesterday's until they drop.

    The simulated clock may run ahead of Home Assistant's (a fast day, a day started
    at 16:00): counted since the simulated midnight, 10 kWh of PV at 00:40 would be
    refused as not reset without its `last_reset`.
    """
    plant = plant_at(time(16, 0))
    day_start = local_midnight(plant.day, plant.tz)
    now = datetime(2026, 12, 1, 0, 40, tzinfo=TZ)
    today = export_sim.dt_util.start_of_local_day(now.date()).isoformat()
    yesterday = export_sim.dt_util.start_of_local_day(date(2026, 11, 30)).isoformat()
    states = {state.entity_id: state for state in sensor_states(plant.published())}
    counters = {PV_TODAY, EXPORT_TODAY, IMPORT_TODAY}

    for key in counters:
        state = states[SENSOR_ENTITIES[key]]
        attributes = export_sim.counter_attributes(state, day_start, now)
        assert attributes["last_reset"] == today
        assert attributes["state_class"] == "total"
        before = replace(state, reported_at=day_start - timedelta(seconds=1))
        assert export_sim.counter_attributes(before, day_start, now)["last_reset"] == (
            yesterday
        )
    for key in (SOC, GRID_POWER, BATTERY_POWER):
        state = states[SENSOR_ENTITIES[key]]
        assert export_sim.counter_attributes(state, day_start, now) == state.attributes


def test_a_new_plant_starts_at_the_clock_asked_for(tmp_path: Path) -> None:
    """`clock` starts a new plant at that time of day, whatever Home Assistant's."""
    now = datetime(2026, 12, 1, 0, 40, tzinfo=TZ)

    plant, restored = export_sim.restore_or_build(
        tmp_path / "saved", "nominal", 1, "Europe/London", now, time(16, 0)
    )

    assert restored is False
    assert plant.now.time() == time(16, 0)
    assert float(plant.published().pv_today.state) > 0
