"""The plant and its vendor saved at shutdown and restored at start (development only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
import logging
from pathlib import Path
import pickle
from typing import Final

from sim import Plant, scenario_day
from sim.clock import next_local_midnight
from sim.vendors import VendorSim, vendor_sim

LOGGER: Final = logging.getLogger(__package__)
SAVE_FORMAT: Final = 1


@dataclass(frozen=True, slots=True)
class Saved:
    """A plant as saved at shutdown: its scenario, seed and Home Assistant's day then."""

    scenario: str
    seed: int
    real_day: date
    plant: Plant
    # The simulated vendor integration (None in saves from before vendors).
    vendor: VendorSim | None = None


def seconds_to_midnight(plant: Plant) -> float:
    """Return the simulated seconds until the plant's next local midnight."""
    return (
        next_local_midnight(plant.now_utc, plant.tz) - plant.now_utc
    ).total_seconds()


def catch_up(plant: Plant, clock: time) -> None:
    """Step the plant to a local clock time of its day, unless it is there already."""
    target = datetime.combine(plant.day, clock, tzinfo=plant.tz)
    # Timestamps, not wall-clock subtraction, so a DST day counts its real length.
    if (seconds := target.timestamp() - plant.now_utc.timestamp()) > 0:
        plant.step(seconds)


def build_plant(scenario: str, seed: int, timezone: str, clock: time) -> Plant:
    """Return the scenario's first day stepped from midnight to a local clock time."""
    plant = scenario_day(scenario, 0, seed, timezone).plant()
    catch_up(plant, clock)
    return plant


def load_saved(path: Path) -> Saved | None:
    """Return the plant saved at the last shutdown, or None when there is none usable."""
    try:
        # Our own file in the config folder: a development convenience, not an input.
        saved = pickle.loads(path.read_bytes())  # noqa: S301
    except FileNotFoundError:
        return None
    except (
        OSError,
        pickle.UnpicklingError,
        AttributeError,
        EOFError,
        ImportError,
        TypeError,
        ValueError,
    ) as err:
        LOGGER.warning("Ignoring the saved plant in %s: %s", path, err)
        return None
    if not isinstance(saved, tuple) or len(saved) != 2 or saved[0] != SAVE_FORMAT:  # noqa: PLR2004
        return None
    return saved[1] if isinstance(saved[1], Saved) else None


def restore_or_build(
    path: Path,
    scenario: str,
    seed: int,
    timezone: str,
    now: datetime,
    clock: time | None = None,
) -> tuple[Plant, bool]:
    """Return the saved plant moved on to now (same scenario and seed), else a new one.

    `clock`: the local time of day a new plant starts at, and a restored one is
    at least at (default: now's).
    """
    start = now.time() if clock is None else clock
    saved = load_saved(path)
    if saved is None or (saved.scenario, saved.seed) != (scenario, seed):
        return build_plant(scenario, seed, timezone, start), False
    plant = saved.plant
    if saved.real_day != now.date():
        # Home Assistant's day ended while it was down: so does the simulated one.
        plant.step(seconds_to_midnight(plant))
    catch_up(plant, start)
    return plant, True


def restore_vendor(
    path: Path | None, profile: str, now: datetime, running: bool
) -> VendorSim:
    """Return the saved vendor integration (path), else a new one, read at set-up.

    Either reads the inverter at once, as an integration's first refresh does: a new
    one showed no status (GivEnergy's clock "unknown") until its first poll.
    """
    saved = None if path is None else load_saved(path)
    vendor = getattr(saved, "vendor", None)
    if not isinstance(vendor, VendorSim) or vendor.vendor.key != profile:
        vendor = vendor_sim(profile, now)
    vendor.restart(now, running)
    return vendor
