"""The lab's figure style: one colour per activation, panel layout, confidence bands and the legend.

Figures are ``matplotlib.figure.Figure`` objects drawn on the Agg canvas directly, never through
``pyplot``: nothing is registered in pyplot's global figure list, so no state leaks between calls and
no GUI backend is ever selected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from relulab.lab.stats import Estimate

DPI = 110  # dots per inch of the written PNGs: ~1,200 px wide for a two-panel figure
PANEL_SIZE = (5.0, 3.8)  # inches per panel (width, height)
COLUMNS = 2  # panels per row, so a four-panel figure stays readable on a laptop screen
MIN_WIDTH = 6.5  # inches: a one-panel figure still fits a two-column legend
LEGEND_ROW = 0.25  # inches of height per row of the shared legend
BAND_ALPHA = 0.18  # opacity of a 95% confidence band
LINE_STYLES = ("-", "--", "-.", ":")  # second cue once colours repeat (more than 20 activations)

Colour = Any  # anything matplotlib accepts as a colour


def activation_colours(names: Iterable[str]) -> dict[str, Colour]:
    """A distinct colour for each activation, in the order given (the grid's order).

    Up to 10 names take ``tab10``, up to 20 ``tab20``; beyond that colours are spaced evenly on
    ``turbo`` (and :func:`line_style` adds a dash pattern). Passing the same names in the same order
    always gives the same colours, so one activation has one colour in every figure.
    """
    names = list(dict.fromkeys(names))
    if len(names) <= 10:
        palette = matplotlib.colormaps["tab10"].colors
    elif len(names) <= 20:
        palette = matplotlib.colormaps["tab20"].colors
    else:
        palette = [matplotlib.colormaps["turbo"](v) for v in np.linspace(0.05, 0.95, len(names))]
    return {name: palette[i] for i, name in enumerate(names)}


def line_style(index: int, total: int) -> str:
    """Solid lines while colours suffice (up to 20 activations), then a repeating dash pattern."""
    return "-" if total <= 20 else LINE_STYLES[index % len(LINE_STYLES)]


def colours_for(names: Iterable[str], colours: Mapping[str, Colour] | None) -> dict[str, Colour]:
    """``colours`` when it names every activation, else a fresh assignment in the order given."""
    names = list(dict.fromkeys(names))
    if colours is not None and all(name in colours for name in names):
        return dict(colours)
    return activation_colours(names)


def new_figure(panels: int, *, title: str, entries: int) -> tuple[Figure, list[Axes]]:
    """A figure on the Agg canvas with ``panels`` axes, at most :data:`COLUMNS` to a row, and room
    below them for a shared legend of ``entries`` labels (so the legend never covers a title)."""
    columns = min(panels, COLUMNS)
    rows = -(-panels // columns)
    width = max(PANEL_SIZE[0] * columns, MIN_WIDTH)
    legend_rows = -(-entries // legend_columns(width)) if entries else 0
    height = PANEL_SIZE[1] * rows + LEGEND_ROW * (legend_rows + 1) + 0.3
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.subplots(rows, columns, squeeze=False).ravel()
    for extra in grid[panels:]:
        extra.remove()
    axes = list(grid[:panels])
    figure.suptitle(title)
    for ax in axes:
        ax.grid(True, alpha=0.3)
    return figure, axes


def legend_columns(width: float) -> int:
    """Legend columns that fit a figure ``width`` inches wide (labels run to ~40 characters)."""
    return 3 if width >= 9 else 2


def plot_band(ax: Axes, x: Sequence[float], estimates: Sequence[Estimate], *, colour: Colour, label: str,
              style: str = "-", bounds: tuple[float, float] | None = None) -> None:
    """The mean as a line with markers and, where it exists (2+ seeds), its 95% interval as a band.

    ``bounds`` clips the band to a metric's possible range (a fraction's interval can reach below 0).
    """
    mean = np.array([e.mean for e in estimates], dtype=float)
    low = np.array([e.low for e in estimates], dtype=float)
    high = np.array([e.high for e in estimates], dtype=float)
    if bounds is not None:
        low, high = np.clip(low, *bounds), np.clip(high, *bounds)
    ax.plot(x, mean, style, color=colour, label=label, marker="o", markersize=3)
    if np.isfinite(low).any():
        ax.fill_between(x, low, high, color=colour, alpha=BAND_ALPHA, linewidth=0)


def shared_legend(figure: Figure, *, title: str = "activation") -> None:
    """One legend for the whole figure, below the panels, with each label once."""
    labels: dict[str, Any] = {}
    for ax in figure.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            labels.setdefault(label, handle)
    if labels:
        figure.legend(list(labels.values()), list(labels), loc="outside lower center", title=title,
                      ncols=legend_columns(figure.get_figwidth()), fontsize="small", title_fontsize="small")


def message_panel(ax: Axes, text: str) -> None:
    """Mark an empty panel (no runs with the data it needs) instead of leaving it blank."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
