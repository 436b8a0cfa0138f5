"""Issue 10's targets, measured from a results document: one row per target with its verdict."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .records import CORRECTED, OURS

# Export meters every 10 s, an inverter that does what it is told, Home Assistant alive.
TEN_SECOND: Final = (
    "bound_nominal",
    "winter_cap",
    "changes_only",
    "restart",
    "alpha_helpers",
    "solaredge_timeout",
    "dst_spring_bound",
    "dst_autumn_bound",
    "nominal",
)
# 0.1 kWh counters reported every 300 s.
COARSE: Final = ("coarse_slow",)
# The inverter does not do what it is told: more power than set, stops ignored or late.
DISOBEYING: Final = ("power_above", "ignored_stop", "late_stop")
HA_DIES_SUFFIX: Final = "_ha_dies"
# Below this share of the oracle a day where the inverter obeys counts as a low day.
LOW_SHARE: Final = 0.8


@dataclass(frozen=True, slots=True)
class Target:
    """One target: what it asks, what was measured, and the verdict."""

    asks: str
    measured: str
    met: bool


def _pct(value: float) -> str:
    """Return a share as a percentage with one decimal."""
    return f"{100.0 * value:.1f} %"


def _ours(days: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Return ours' figures of each day."""
    return [day[OURS] for day in days]


def _in(
    days: Sequence[Mapping[str, Any]], names: Iterable[str]
) -> list[Mapping[str, Any]]:
    """Return the days of these scenarios."""
    wanted = set(names)
    return [day for day in days if day["scenario"] in wanted]


def _ha_dies(day: Mapping[str, Any]) -> bool:
    """Return whether Home Assistant dies on this day's scenario."""
    return str(day["scenario"]).endswith(HA_DIES_SUFFIX)


def _over_days(days: Sequence[Mapping[str, Any]]) -> list[str]:
    """Return the ids of the days where ours went over at day end or at any moment."""
    return [
        day["id"]
        for day in days
        if day[OURS]["over_export_kwh"] > 0.0 or day[OURS]["max_over_export_kwh"] > 0.0
    ]


def _share_target(asks: str, days: Sequence[Mapping[str, Any]], floor: float) -> Target:
    """Return a target on the mean share of these days."""
    shares = [entry["share"] for entry in _ours(days)]
    if not shares:
        return Target(asks, "no day of these scenarios in the run", False)
    mean = sum(shares) / len(shares)
    worst = min(shares)
    measured = f"{_pct(mean)} (min {_pct(worst)}, n = {len(shares)})"
    return Target(asks, measured, mean >= floor)


def targets(document: Mapping[str, Any]) -> list[Target]:
    """Return every issue-10 target that the day runs measure."""
    days: Sequence[Mapping[str, Any]] = document["days"]
    over = _over_days(days)
    obeying = [
        day for day in days if day["scenario"] not in DISOBEYING and not _ha_dies(day)
    ]
    low = [day["id"] for day in obeying if day[OURS]["share"] < LOW_SHARE]
    dies = [day for day in days if _ha_dies(day)]
    dies_over = _over_days(dies)
    ours_writes = sum(entry["writes"] for entry in _ours(days)) / max(len(days), 1)
    peer_writes = sum(day[CORRECTED]["writes"] for day in days) / max(len(days), 1)
    return [
        Target(
            "ours 0.000 kWh beyond the allowance on every day, at day end and at every moment",
            f"{len(days) - len(over)}/{len(days)} days at 0.000"
            + (f"; over: {', '.join(over)}" if over else ""),
            not over,
        ),
        _share_target(
            "share >= 98 % of the oracle with 10 s meters ("
            + ", ".join(TEN_SECOND)
            + ")",
            _in(days, TEN_SECOND),
            0.98,
        ),
        _share_target(
            "share >= 90 % with 300 s / 0.1 kWh meters (" + ", ".join(COARSE) + ")",
            _in(days, COARSE),
            0.90,
        ),
        Target(
            "no day below 80 % where the inverter obeys (all but "
            + ", ".join(DISOBEYING)
            + " and the Home-Assistant-dies days)",
            f"{len(low)} of {len(obeying)} days below 80 %"
            + (f": {', '.join(low)}" if low else ""),
            not low,
        ),
        Target(
            "writes per day no more than peer (b)'s",
            f"ours {ours_writes:.1f} vs corrected {peer_writes:.1f}",
            ours_writes <= peer_writes,
        ),
        Target(
            "... while the Home-Assistant-dies days stay at 0.000",
            f"{len(dies) - len(dies_over)}/{len(dies)} days at 0.000",
            bool(dies) and not dies_over,
        ),
    ]


def targets_table(document: Mapping[str, Any]) -> str:
    """Return the targets as a Markdown table."""
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    for target in targets(document):
        verdict = "**met**" if target.met else "**missed**"
        lines.append(f"| {target.asks} | {target.measured} | {verdict} |")
    return "\n".join(lines)
