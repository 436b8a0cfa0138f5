"""The SOC floor: the battery cutoff as an energy dead-man, and energy per SOC percent.

Written to the inverter's cutoff, the floor bounds what the battery can deliver should
Home Assistant die: SOC now - (headroom - reserve) / energy per percent. Every error
goes toward a higher floor: energy per percent is never understated (the larger of the
declared capacity and the largest measured, with a margin; twice the declared until a
battery power sensor has measured it), and the floor is rounded up to the cutoff's step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
import math
from typing import Any, Final

# Energy per percent is used this much larger than measured (sensor and SOC errors).
ENERGY_MARGIN: Final = 1.1
# Until battery power has been measured against the SOC, the battery is assumed to
# hold up to this many times its declared capacity (one module of two left out).
UNMEASURED_FACTOR: Final = 2.0
# A measurement beyond this many times the declared capacity is a glitch: clamped.
MAX_FACTOR: Final = 5.0
# A measurement spans at least this SOC drop; the SOC reading may be this far off.
MIN_SOC_DROP: Final = 5.0
SOC_READ_ERROR: Final = 1.0
# The floor is lowered when the SOC comes within this many steps of it, or when it
# stands this many steps above the wanted floor: it is where the inverter stops if
# Home Assistant dies, so a floor left high costs that much export then.
URGENT_STEPS: Final = 3
# Nor within this long of the last write unless the SOC is a step from the cutoff: the
# floor's rounding would flip it down and up again at each reading (a write each).
SETTLE_INTERVAL: Final = timedelta(seconds=60)
# Flash writes kept back from the daily budget: the restore of min SOC at the stop.
RESERVED_WRITES: Final = 2
_EPSILON: Final = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class FloorLearning:
    """Energy per SOC percent as measured, and the stretch of falling SOC measured now."""

    # The largest kWh per percent measured, without margin: from battery power
    # (the whole battery energy) and from the export counter (a lower bound).
    battery_kwh: float | None = None
    export_kwh: float | None = None
    start_soc: float | None = None
    start_energy_kwh: float = 0.0
    lowest_soc: float | None = None

    def observe(
        self, soc: float, energy_kwh: float, *, from_battery: bool
    ) -> FloorLearning:
        """Return the learning after a SOC reading and the energy delivered so far."""
        if (
            self.start_soc is None
            or self.lowest_soc is None
            or energy_kwh < self.start_energy_kwh - _EPSILON
            or soc > self.lowest_soc + _EPSILON
        ):
            # First look, a counter reset, or the battery charged: measure afresh.
            return self._restart(soc, energy_kwh)
        drop = self.start_soc - soc
        if drop < MIN_SOC_DROP - _EPSILON:
            return replace(self, lowest_soc=min(self.lowest_soc, soc))
        # The SOC may have fallen less than it reads: the larger energy per percent.
        sample = (energy_kwh - self.start_energy_kwh) / (drop - SOC_READ_ERROR)
        learned = self._restart(soc, energy_kwh)
        if from_battery:
            return replace(learned, battery_kwh=max(self.battery_kwh or 0.0, sample))
        return replace(learned, export_kwh=max(self.export_kwh or 0.0, sample))

    def _restart(self, soc: float, energy_kwh: float) -> FloorLearning:
        """Return the learning measuring from this point on."""
        return replace(self, start_soc=soc, start_energy_kwh=energy_kwh, lowest_soc=soc)

    def kwh_per_percent(self, capacity_kwh: float) -> float:
        """Return the energy per SOC percent the floor assumes: never understated."""
        declared = capacity_kwh / 100.0
        prior = (
            declared if self.battery_kwh is not None else declared * UNMEASURED_FACTOR
        )
        measured = max(self.battery_kwh or 0.0, self.export_kwh or 0.0)
        return max(prior, min(measured, declared * MAX_FACTOR)) * ENERGY_MARGIN

    def to_data(self) -> dict[str, Any]:
        """Return what is kept across restarts: the measurements."""
        return {"battery_kwh": self.battery_kwh, "export_kwh": self.export_kwh}

    @classmethod
    def from_data(cls, data: object) -> FloorLearning:
        """Return the learning stored by `to_data`; nothing learned when unreadable."""
        if not isinstance(data, dict):
            return cls()
        return cls(
            battery_kwh=_positive(data.get("battery_kwh")),
            export_kwh=_positive(data.get("export_kwh")),
        )


def _positive(value: object) -> float | None:
    """Return a stored measurement when it is a positive finite number, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number > 0 else None


def delivered_kwh(total_kwh: float, last_kw: float, kw: float, seconds: float) -> float:
    """Return the energy delivered after an interval, at the larger of its two samples."""
    if seconds <= 0:
        return total_kwh
    return total_kwh + max(0.0, last_kw, kw) * seconds / 3600.0


def _grain(step: float | None) -> float:
    """Return the cutoff's granularity: its step, whole percents without one."""
    return step if step is not None and step > 0 else 1.0


def round_up(value: float, step: float | None) -> float:
    """Return `value` rounded up to the step (toward a higher floor)."""
    grain = _grain(step)
    return math.ceil(value / grain - _EPSILON) * grain


def round_down(value: float, step: float | None) -> float:
    """Return `value` rounded down to the step."""
    grain = _grain(step)
    return math.floor(value / grain + _EPSILON) * grain


def soc_floor(
    *,
    soc: float,
    min_soc: float,
    headroom_kwh: float,
    reserve_kwh: float,
    kwh_per_percent: float,
    step: float | None,
    above_soc_imports: bool = False,
    backstop_backed: bool = False,
    raise_pct: float = 0.0,
) -> float:
    """Return the cutoff that lets the battery deliver no more than headroom - reserve.

    Never below min SOC, rounded up to the step, and never above the SOC rounded up;
    on an inverter that imports to reach a cutoff above the SOC, never above the SOC.
    When the inverter's own timer bounds the discharge, the floor is a second bound
    and leaves at least one step (never below min SOC) for the timer to run in. An
    inverter that truncates the cutoff by up to `raise_pct` is asked that much higher.
    """
    allowed = max(0.0, headroom_kwh - reserve_kwh)
    lowest = max(min_soc, soc - allowed / kwh_per_percent)
    floor = round_up(lowest + raise_pct, step)
    if backstop_backed:
        room = round_down(soc, step) - _grain(step)
        floor = max(min(floor, room), round_up(min_soc, step))
    ceiling = (
        round_down(soc, step) if above_soc_imports else round_up(soc + raise_pct, step)
    )
    return max(0.0, min(floor, ceiling, 100.0))


def floor_must_rise(written: float | None, wanted: float) -> bool:
    """Return whether the cutoff on the inverter lets through more than is safe now."""
    return written is None or written < wanted - _EPSILON


def floor_reached(*, soc: float | None, written: float, min_soc: float) -> bool:
    """Return whether the battery rests at a SOC floor above min SOC: headroom used up."""
    return (
        soc is not None and soc <= written + _EPSILON and written > min_soc + _EPSILON
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class FloorWrites:
    """The cutoff as last written, and the flash writes left today."""

    written: float
    written_at: datetime | None = None  # None: not written by this run of HA
    writes_left: int | None = None  # None: the cutoff does not wear flash
    # The floor is the inverter's only dead-man (no backstop timer ends it first).
    only_deadman: bool = False


def lower_floor_worth_writing(
    writes: FloorWrites,
    *,
    wanted: float,
    soc: float,
    step: float | None,
    now: datetime,
) -> bool:
    """Return whether lowering the cutoff to `wanted` is worth a write now.

    Worth it when it gains at least one step and the SOC is about to reach the
    cutoff (within URGENT_STEPS: a minute after the last write; a step from it: at
    once), and a cutoff that wears flash keeps the budget for the restore. Further
    from the SOC, a floor that is the only dead-man and wears no flash is lowered
    (a minute after the last write) once it stands URGENT_STEPS above the wanted
    floor: should Home Assistant die, the battery stops there.
    """
    grain = _grain(step)
    if writes.written - wanted < grain - _EPSILON:
        return False
    if writes.writes_left is not None and writes.writes_left <= RESERVED_WRITES:
        return False
    if soc - writes.written <= grain + _EPSILON:
        return True
    near = soc - writes.written <= URGENT_STEPS * grain + _EPSILON
    high = (
        writes.only_deadman
        and writes.writes_left is None
        and writes.written - wanted >= URGENT_STEPS * grain - _EPSILON
    )
    return (near or high) and _waited(writes, now, SETTLE_INTERVAL)


def lowered_floor(written: float, wanted: float, step: float | None) -> float:
    """Return the cutoff a lowering writes: a step above `wanted` while that gains a step.

    The step kept absorbs a reading that raises the wanted floor again, which would
    otherwise be written back at once (two writes for nothing). Never below `wanted`.
    """
    grain = _grain(step)
    kept = wanted + grain
    return kept if written - kept >= grain - _EPSILON else wanted


def _waited(writes: FloorWrites, now: datetime, interval: timedelta) -> bool:
    """Return whether `interval` has passed since the cutoff was written (or never)."""
    if writes.written_at is None:
        return True
    waited = (now.astimezone(UTC) - writes.written_at.astimezone(UTC)).total_seconds()
    return waited >= interval.total_seconds() - _EPSILON
