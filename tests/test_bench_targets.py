"""Issue 10's targets table, computed from a results document."""

from __future__ import annotations

from typing import Any

from bench.targets import Target, targets, targets_table


def _day(
    scenario: str,
    index: int,
    share: float,
    *,
    over: float = 0.0,
    max_over: float = 0.0,
    writes: int = 10,
    peer_writes: int = 12,
) -> dict[str, Any]:
    """Return one day's entry with only the figures the targets read."""
    return {
        "id": f"{scenario}-{index}",
        "scenario": scenario,
        "ours": {
            "share": share,
            "over_export_kwh": over,
            "max_over_export_kwh": max_over,
            "writes": writes,
        },
        "corrected": {"writes": peer_writes},
    }


def _by_ask(document: dict[str, Any]) -> dict[str, Target]:
    """Return the targets keyed by their ask up to its first bracket."""
    return {t.asks.split(" (")[0]: t for t in targets(document)}


def test_every_target_met() -> None:
    """A run inside every target reads met on every row."""
    document = {
        "days": [
            _day("bound_nominal", 0, 0.99),
            _day("coarse_slow", 0, 0.95),
            _day("late_stop", 0, 0.5),
            _day("fox_watchdog_ha_dies", 0, 0.3),
        ]
    }
    assert [t.met for t in targets(document)] == [True] * 6
    assert "**missed**" not in targets_table(document)


def test_each_miss_names_its_days() -> None:
    """A breach at a moment, a low share and extra writes are each a miss that names the day."""
    document = {
        "days": [
            _day("bound_nominal", 0, 0.97, max_over=0.001, writes=30),
            _day("coarse_slow", 1, 0.79),
            _day("sigenergy_no_backstop_ha_dies", 2, 0.7, over=0.2, max_over=0.2),
        ]
    }
    found = _by_ask(document)
    breach = found[
        "ours 0.000 kWh beyond the allowance on every day, at day end and at every moment"
    ]
    assert not breach.met
    assert "bound_nominal-0" in breach.measured
    assert "sigenergy_no_backstop_ha_dies-2" in breach.measured
    assert not found["share >= 98 % of the oracle with 10 s meters"].met
    coarse = found["share >= 90 % with 300 s / 0.1 kWh meters"]
    assert (coarse.met, coarse.measured) == (False, "79.0 % (min 79.0 %, n = 1)")
    low = found["no day below 80 % where the inverter obeys"]
    assert (low.met, low.measured) == (False, "1 of 2 days below 80 %: coarse_slow-1")
    assert not found["writes per day no more than peer"].met
    assert not found["... while the Home-Assistant-dies days stay at 0.000"].met


def test_a_family_missing_from_the_run_is_not_met() -> None:
    """A share target with no day of its scenarios in the run cannot read met."""
    document = {"days": [_day("late_stop", 0, 0.9)]}
    found = _by_ask(document)
    assert not found["share >= 98 % of the oracle with 10 s meters"].met
    assert not found["... while the Home-Assistant-dies days stay at 0.000"].met
