"""Draw one controller's day: power flows, and export today against the allowance."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Final

from matplotlib import dates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .config import WINDOW_END, WINDOW_START, export_window
from .records import ControllerDay, Reference
from .scoring import share

TITLES: Final = {"ours": "Export Monitor (ours)", "baseline": "Baseline"}


def _shade(axes: list[Axes], span: tuple[datetime, datetime], color: str) -> None:
    """Shade a span of time on every panel."""
    for ax in axes:
        ax.axvspan(span[0], span[1], color=color, alpha=0.2)  # type: ignore[arg-type]


def plot_day(
    day: ControllerDay, reference: Reference, label: str, timezone: str, path: Path
) -> None:
    """Write a PNG of one controller's day from its one-minute samples."""
    samples = day.result.samples
    at = [s.at for s in samples]
    fig = Figure(figsize=(11, 7))
    FigureCanvasAgg(fig)
    power, energy = fig.subplots(2, 1, sharex=True)
    power.plot(at, [s.pv_kw for s in samples], label="PV (kW)", color="#e6a700")
    power.plot(at, [s.load_kw for s in samples], label="load (kW)", color="#7f7f7f")
    power.plot(
        at,
        [s.battery_kw for s in samples],
        label="battery (kW, discharge +)",
        color="#1f77b4",
    )
    power.set_ylabel("kW")
    power.axhline(0.0, color="black", linewidth=0.5)
    power.legend(loc="upper left", fontsize=8)
    energy.plot(
        at, [s.export_today_kwh for s in samples], label="export today", color="#d62728"
    )
    energy.plot(
        at,
        [s.allowance_kwh for s in samples],
        label="allowance (PV today - margin)",
        color="#2ca02c",
        linestyle="--",
    )
    energy.set_ylabel("kWh")
    energy.legend(loc="upper left", fontsize=8)
    window = export_window(day.result.day, timezone)
    _shade([power, energy], window, "#ffd54f")
    if day.hass_span is not None:
        _shade([power, energy], day.hass_span, "#90caf9")
    formatter = dates.DateFormatter("%H:%M", tz=at[0].tzinfo)  # type: ignore[no-untyped-call]
    energy.xaxis.set_major_formatter(formatter)
    fig.suptitle(_title(day, reference, label))
    fig.text(
        0.01,
        0.01,
        f"yellow: export window {WINDOW_START:%H:%M}-{WINDOW_END:%H:%M}"
        + ("; blue: inside Home Assistant" if day.hass_span is not None else ""),
        fontsize=8,
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def _title(day: ControllerDay, reference: Reference, label: str) -> str:
    """Return the figure title: controller, day, over-export and share."""
    value = share(day.window, reference)
    got = "-" if value is None else f"{100.0 * value:.1f} %"
    result = day.result
    return (
        f"{TITLES.get(day.controller, day.controller)}: {label} ({result.day})\n"
        f"over-export {result.over_export_kwh:.3f} kWh, "
        f"max during day {result.max_over_export_kwh:.3f} kWh, share {got}, "
        f"writes {result.commands_written}"
    )
