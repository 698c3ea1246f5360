"""The comparison lab's figures: one pure function per figure, and :func:`make_figures` for all.

Each figure function takes data and returns a ``matplotlib.figure.Figure`` drawn on the Agg canvas
(pyplot is never used, so no global state leaks between calls), or None when the results lack what it
plots (for instance a lab run without diagnostics has no dead fractions or gradient norms).

    >>> paths = make_figures(snapshot.results, snapshot.grid, folder / "plots")
    >>> sorted(paths)
    ['accuracy_vs_depth', 'activation_functions', 'dead_fraction', 'gradient_flow', 'learning_curves', 'loss_curves']

One activation has one colour in every figure (assigned in the grid's order). Decisions that shape
the figures are documented in their modules: learning-rate selection in
:mod:`relulab.lab.figures.data`, panels in :mod:`relulab.lab.figures.curves`, the log-scale averaging in
:mod:`relulab.lab.figures.gradients`, the single-architecture case in :mod:`relulab.lab.figures.depth`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from relulab.lab.engine import RunResult
from relulab.lab.grid import Grid
from relulab.lab.figures.activations import activation_functions
from relulab.lab.figures.captions import CAPTIONS, FIGURE_NAMES
from relulab.lab.figures.curves import dead_fraction, learning_curves
from relulab.lab.figures.depth import accuracy_vs_depth
from relulab.lab.figures.gradients import gradient_flow
from relulab.lab.figures.style import DPI, activation_colours

__all__ = ["CAPTIONS", "accuracy_vs_depth", "activation_functions", "dead_fraction", "figures", "gradient_flow",
           "learning_curves", "make_figures"]


def figures(results: Sequence[RunResult], grid: Grid) -> dict[str, Figure]:
    """Every figure the results support, by name, in reading order; figures without data are left out."""
    names = list(dict.fromkeys([*grid.activations, *(r.spec.activation for r in results)]))
    colours = activation_colours(names)
    makers: dict[str, Callable[[], Figure | None]] = {
        "activation_functions": lambda: activation_functions(grid.activations, colours=colours),
        "learning_curves": lambda: learning_curves(results, colours=colours),
        "loss_curves": lambda: learning_curves(results, metric="val_loss", colours=colours),
        "dead_fraction": lambda: dead_fraction(results, colours=colours),
        "gradient_flow": lambda: gradient_flow(results, colours=colours),
        "accuracy_vs_depth": lambda: accuracy_vs_depth(results, colours=colours),
    }
    assert tuple(makers) == FIGURE_NAMES, "plots_captions names every figure, in this order"
    built = {name: make() for name, make in makers.items()}
    return {name: figure for name, figure in built.items() if figure is not None}


def make_figures(results: Sequence[RunResult], grid: Grid, folder: Path) -> dict[str, Path]:
    """Write every supported figure of ``results`` as ``<folder>/<name>.png``; return name -> path.

    Args:
        results: finished runs of the experiment (possibly only some of the grid's runs).
        grid: the experiment's grid (its activations fix the colours and the first figure).
        folder: where the PNGs go; created if missing. Existing files of the same names are replaced.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, figure in figures(results, grid).items():
        paths[name] = folder / f"{name}.png"
        figure.savefig(paths[name], dpi=DPI)
    return paths
