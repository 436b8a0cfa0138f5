"""Tests of the export integrated from grid power and the counter's learned lag."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_components.export_monitor.logic.cadence import (
    MeterCadence,
    cadence_from_data,
)
from custom_components.export_monitor.logic.control import reported_at, rise_kw
from custom_components.export_monitor.logic.lag import (
    MAX_LAG_SECONDS,
    ExportIntegral,
    expected_rise_kw,
    follow_echo,
    follow_export,
    lagged_headroom,
)
from custom_components.export_monitor.logic.settings import settings_from_options
from custom_components.export_monitor.logic.snapshot import Source, build_snapshot
from custom_components.export_monitor.logic.supervision import reserve_kwh

from .common import NOW, raw

START = NOW - timedelta(hours=1)


def _at(seconds: float) -> timedelta:
    """Return a time offset of `seconds`."""
    return timedelta(seconds=seconds)


def _integral(*samples: tuple[float, float]) -> ExportIntegral:
    """Return an integral from 10.0 kWh fed (seconds after START, export kW) samples."""
    integral = ExportIntegral(started_at=START, start_counter_kwh=10.0)
    for seconds, kw in samples:
        integral = integral.sample(START + _at(seconds), kw)
    return integral


def test_integral_takes_the_larger_sample_of_each_interval() -> None:
    """Each interval counts at the larger of its two samples; import counts as none."""
    integral = _integral((0, 3.0), (60, 1.0), (120, -2.0), (180, 6.0))
    assert integral.integrated_kwh == pytest.approx((3.0 + 1.0 + 6.0) / 60.0)
    assert integral.estimate_kwh == pytest.approx(10.0 + 10.0 / 60.0)


def test_a_sample_at_the_same_moment_raises_the_power() -> None:
    """Two samples at one moment: no energy, the larger power carries on."""
    integral = _integral((0, 1.0), (0, 3.0), (60, 0.0))
    assert integral.integrated_kwh == pytest.approx(3.0 / 60.0)


def test_old_samples_are_dropped() -> None:
    """Only samples within the longest lag looked for are kept."""
    integral = _integral((0, 3.0), (MAX_LAG_SECONDS + 60, 3.0))
    assert len(integral.track) == 1


def test_lag_is_the_time_since_the_integral_reached_the_value() -> None:
    """3 kW from START: 0.1 kWh is reached at 120 s; seen at 420 s it lags 300 s."""
    integral = _integral((0, 3.0), (60, 3.0), (180, 3.0), (420, 3.0))
    assert integral.lag_seconds(10.1, START + _at(420)) == pytest.approx(300.0)
    assert integral.lag_seconds(10.05, START + _at(420)) == pytest.approx(360.0)
    # The first kept sample already beyond the value: reached no later than that.
    late = MAX_LAG_SECONDS + 60
    trimmed = _integral((0, 3.0), (late, 3.0))
    assert trimmed.lag_seconds(10.01, START + _at(late + 30)) == pytest.approx(30.0)


@pytest.mark.parametrize("counter", [9.0, 10.0, 11.0], ids=["below", "at", "ahead"])
def test_no_lag_when_the_integral_never_reached_the_value(counter: float) -> None:
    """A counter at or below the start, or ahead of the integral, shows no lag."""
    integral = _integral((0, 3.0), (60, 3.0))
    assert integral.lag_seconds(counter, START + _at(60)) is None


def test_follow_export() -> None:
    """Idle has no integral; a new discharge starts a new one; no power, no sample."""
    assert follow_export(None, None, 1.0, NOW, 3.0) is None
    first = follow_export(None, START, 1.0, NOW, None)
    assert first == ExportIntegral(started_at=START, start_counter_kwh=1.0)
    sampled = follow_export(first, START, 5.0, NOW, 3.0)
    assert sampled is not None
    assert (sampled.start_counter_kwh, sampled.last_at) == (1.0, NOW)
    restarted = follow_export(sampled, NOW, 2.0, NOW, None)
    assert restarted == ExportIntegral(started_at=NOW, start_counter_kwh=2.0)


def test_lagged_headroom() -> None:
    """The headroom shrinks by what the integral shows beyond the counter."""
    integral = _integral((0, 6.0), (600, 6.0))  # 1 kWh since START
    assert lagged_headroom(2.0, 10.4, integral) == pytest.approx(1.4)
    assert lagged_headroom(2.0, 11.5, integral) == pytest.approx(2.0)
    assert lagged_headroom(None, 10.4, integral) is None
    assert lagged_headroom(2.0, None, integral) == 2.0
    assert lagged_headroom(2.0, 10.4, None) == 2.0


def test_cadence_learns_and_keeps_the_worst_recent_lag() -> None:
    """The reserve covers the declared delay or the worst of the recent lags."""
    cadence = MeterCadence(delay_s=60.0)
    assert cadence.lag_seconds == 60.0
    assert cadence.learn_lag(None) is cadence
    learned = cadence.learn_lag(300.0).learn_lag(20.0)
    assert learned.lag_seconds == 300.0
    for _ in range(6):
        learned = learned.learn_lag(10.0)
    assert learned.lag_seconds == 60.0  # old lags age out; the declaration stays
    stored = cadence_from_data(cadence.learn_lag(250.0).to_data())
    assert stored.lags == (250.0,)
    # 3 kW over the 300 s interval + 10 s + 250 s late + one 0.1 kWh step.
    assert reserve_kwh(3.0, stored, 0.0, 10.0) == pytest.approx(
        3.0 * 560.0 / 3600.0 + 0.1
    )


@pytest.mark.parametrize("delay_s", [30.0, 120.0, 300.0])
def test_a_late_counter_seen_on_a_step_learns_its_whole_delay(delay_s: float) -> None:
    """The lag is learned against the counter's value, not value + step (issue 10).

    A 0.1 kWh counter truly `delay_s` late shows 10.4 when the export reached exactly
    10.4 `delay_s` ago (nothing truncated): the sample is the whole delay. Later the
    same counter may hide just under a step more, a full interval old, at 5 kW; the
    reserve (step + lag x power) covers that. Learned against value + step, the sample
    would be step / 3 kW (120 s) short and the reserve short by about the step.
    """
    seen_at = START + _at(480.0 + delay_s)  # 3 kW: 0.4 kWh exported at 480 s
    integral = _integral(*((seconds, 3.0) for seconds in range(0, 1500, 10)))
    learned = MeterCadence().learn_lag(integral.lag_seconds(10.4, seen_at))
    assert learned.lag_seconds == pytest.approx(delay_s)
    unseen = 0.0999 + 5.0 * (300.0 + delay_s + 10.0) / 3600.0
    assert reserve_kwh(5.0, learned, 300.0, 10.0) >= unseen
    short = integral.lag_seconds(10.5, seen_at) or 0.0
    assert reserve_kwh(5.0, MeterCadence().learn_lag(short), 300.0, 10.0) < unseen


def test_the_start_echo_gives_the_feed_lag() -> None:
    """Grid power's first report showing the start counts up to the report before it."""
    start = ExportIntegral(started_at=START, start_counter_kwh=10.0)
    before, lag = follow_echo(start, START - _at(5), 3.0, 3.0)
    assert lag is None  # reported before the start: not its echo
    quiet, lag = follow_echo(before, START + _at(150), 0.2, 3.0)
    assert lag is None  # after the start, but no rise yet
    assert follow_echo(quiet, START + _at(150), 3.0, 3.0) == (quiet, None)  # seen
    assert follow_echo(quiet, START + _at(160), None, 3.0)[1] is None  # unknown
    assert follow_echo(quiet, None, 3.0, 3.0) == (quiet, None)
    echoed, lag = follow_echo(quiet, START + _at(170), 2.9, 3.0)
    assert (echoed.echoed, lag) == (True, 150.0)
    assert follow_echo(echoed, START + _at(180), 3.0, 3.0) == (echoed, None)
    # A first report after the start that already shows it: no lag to learn.
    assert follow_echo(start, START + _at(10), 3.0, 3.0)[1] == 0.0


@pytest.mark.parametrize(
    ("battery_before_kw", "export_before_kw", "expected_kw"),
    [
        pytest.param(None, None, 3.0, id="nothing_known_the_setpoint"),
        pytest.param(0.0, 0.5, 3.0, id="idle_battery_exporting"),
        pytest.param(1.0, 0.0, 2.0, id="battery_covering_house_load"),
        pytest.param(0.5, -0.5, 2.0, id="import_covered_first"),
        pytest.param(2.8, 0.0, 1.5, id="never_below_half_the_setpoint"),
        pytest.param(-1.0, 1.0, 3.0, id="charging_never_above_the_setpoint"),
    ],
)
def test_the_rise_a_start_should_cause(
    battery_before_kw: float | None, export_before_kw: float | None, expected_kw: float
) -> None:
    """The setpoint less the battery's discharge and the import before the start."""
    assert expected_rise_kw(3.0, battery_before_kw, export_before_kw) == pytest.approx(
        expected_kw
    )


def test_the_echo_is_judged_against_the_rise_expected() -> None:
    """A 1.4 kW rise shows a start expected to add 1.4 kW, not one expected to add 3."""
    start = ExportIntegral(started_at=START, start_counter_kwh=10.0)
    seen, lag = follow_echo(start, START + _at(240), 1.4, expected_rise_kw(3.0, 1.6, 0))
    assert (seen.echoed, lag) == (True, 0.0)
    unseen, lag = follow_echo(start, START + _at(240), 1.4, 3.0)
    assert (unseen.echoed, lag) == (False, None)


def test_a_start_not_yet_shown_counts_as_lag() -> None:
    """Until grid power shows the start, its last report's age since the start is lag."""
    start = ExportIntegral(started_at=START, start_counter_kwh=10.0)
    assert start.unshown_seconds == 0.0  # no report yet
    before, _ = follow_echo(start, START - _at(5), 0.0, 3.0)
    assert before.unshown_seconds == 0.0  # reported before the start
    quiet, _ = follow_echo(before, START + _at(150), 0.2, 3.0)
    assert quiet.unshown_seconds == 150.0
    echoed, lag = follow_echo(quiet, START + _at(160), 3.0, 3.0)
    assert (echoed.unshown_seconds, lag) == (0.0, 150.0)
    cadence = MeterCadence(echoes=(20.0,)).begin(START)
    waiting = cadence.awaiting_echo(quiet.unshown_seconds)
    assert waiting.lag_seconds == 150.0
    assert waiting.awaiting_echo(150.0) is waiting
    assert waiting.to_data() == cadence.to_data()  # one discharge's: not stored
    assert waiting.end().lag_seconds == 20.0


def test_cadence_keeps_the_recent_echoes() -> None:
    """Echo lags widen the reserve like the counter's lags; they are stored too."""
    cadence = MeterCadence(delay_s=60.0)
    assert cadence.learn_echo(None) is cadence
    learned = cadence.learn_echo(199.0)
    assert learned.lag_seconds == 199.0
    assert cadence_from_data(learned.to_data()).echoes == (199.0,)


def test_the_echo_reads_grid_power_over_the_export_before_the_start() -> None:
    """The rise is the export power less any export before the start; None unknown."""
    settings = settings_from_options({})
    snapshot = build_snapshot(
        {Source.GRID_POWER: raw("-2.5", "kW"), Source.SOC: None}, settings, NOW
    )
    assert reported_at(snapshot, Source.GRID_POWER) == NOW
    assert reported_at(snapshot, Source.BATTERY_POWER) is None
    assert rise_kw(snapshot, settings, 0.5) == pytest.approx(2.0)
    assert rise_kw(snapshot, settings, None) == pytest.approx(2.5)
    empty = build_snapshot({Source.SOC: None}, settings, NOW)
    assert rise_kw(empty, settings, 0.5) is None
