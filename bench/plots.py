"""Draw one scenario-day: ours' power flows, and every controller's export against the allowance."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Final

from matplotlib import dates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .config import WINDOW_END, WINDOW_START, export_window
from .records import CONTROLLERS, OURS, DayOutcome
from .scoring import day_id, share

TITLES: Final = {
    "ours": "ours",
    "published": "(a) published",
    "corrected": "(b) corrected",
    "oracle": "(c) oracle",
}
COLOURS: Final = {
    "ours": "#d62728",
    "published": "#9467bd",
    "corrected": "#8c564b",
    "oracle": "#17becf",
}


def _shade(axes: list[Axes], span: tuple[datetime, datetime], color: str) -> None:
    """Shade a span of time on every panel."""
    for ax in axes:
        ax.axvspan(span[0], span[1], color=color, alpha=0.2)  # type: ignore[arg-type]


def _zoom(outcome: DayOutcome) -> tuple[datetime, datetime]:
    """Return the part of the day to show: the Home Assistant span with some margin."""
    window = export_window(outcome.day.day, outcome.day.config.timezone)
    span = outcome.ours.hass_span or window
    return min(span[0], window[0]), max(span[1], window[1])


def plot_day(outcome: DayOutcome, path: Path) -> None:  # fmt: skip
    """Write a PNG of one scenario-day from the one-minute samples of every controller."""
    ours = outcome.ours.result.samples
    low, high = _zoom(outcome)
    fig = Figure(figsize=(11, 7))
    FigureCanvasAgg(fig)
    power, energy = fig.subplots(2, 1, sharex=True)
    shown = [s for s in ours if low <= s.at <= high]
    at = [s.at for s in shown]
    power.plot(at, [s.pv_kw for s in shown], label="PV (kW)", color="#e6a700")
    power.plot(at, [s.load_kw for s in shown], label="load (kW)", color="#7f7f7f")
    power.plot(
        at,
        [s.battery_kw for s in shown],
        label="ours: battery (kW, discharge +)",
        color="#1f77b4",
    )
    power.plot(
        at,
        [s.grid_kw for s in shown],
        label="ours: grid (kW, export +)",
        color="#d62728",
    )
    power.set_ylabel("kW")
    power.axhline(0.0, color="black", linewidth=0.5)
    power.legend(loc="upper left", fontsize=8)
    energy.plot(
        at,
        [s.allowance_kwh for s in shown],
        label="allowance",
        color="#2ca02c",
        linestyle="--",
        linewidth=2,
    )
    for name in CONTROLLERS:
        samples = [s for s in outcome.of(name).result.samples if low <= s.at <= high]
        energy.plot(
            [s.at for s in samples],
            [s.export_today_kwh for s in samples],
            label=f"export today: {TITLES[name]}",
            color=COLOURS[name],
        )
    energy.set_ylabel("kWh")
    energy.legend(loc="upper left", fontsize=8)
    _shade(
        [power, energy],
        export_window(outcome.day.day, outcome.day.config.timezone),
        "#ffd54f",
    )
    events = outcome.day.events
    for moment in (events.ha_dies_at, events.restart_at):
        if moment is not None:
            for ax in (power, energy):
                ax.axvline(moment, color="black", linestyle=":")
    formatter = dates.DateFormatter("%H:%M", tz=at[0].tzinfo)  # type: ignore[no-untyped-call]
    energy.xaxis.set_major_formatter(formatter)
    fig.suptitle(_title(outcome))
    fig.text(
        0.01,
        0.01,
        f"yellow: export window {WINDOW_START:%H:%M}-{WINDOW_END:%H:%M}; "
        "dotted: Home Assistant dies / crashes",
        fontsize=8,
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)


def _title(outcome: DayOutcome) -> str:
    """Return the figure title: the day and each controller's over-export and share."""
    parts = []
    for name in CONTROLLERS:
        day = outcome.of(name)
        value = share(day, outcome)
        got = "-" if value is None else f"{100.0 * value:.0f} %"
        parts.append(
            f"{TITLES[name]} {day.result.over_export_kwh:.3f}/"
            f"{day.result.max_over_export_kwh:.3f} kWh {got}"
        )
    head = f"{day_id(outcome)} ({outcome.day.day}, {outcome.reference.binding}-bound)"
    return head + "\n" + "; ".join(parts[:2]) + "\n" + "; ".join(parts[2:])


def plot_name(outcome: DayOutcome, controller: str = OURS) -> str:
    """Return the file name of a day's picture."""
    return f"worst_{controller}_{day_id(outcome)}.png"
