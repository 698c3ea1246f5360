"""Final test accuracy against depth, per activation, with 95% confidence intervals over seeds.

With several architectures the x axis lists them from shallow to deep (categorical, so two
architectures of the same depth but different widths stay apart), and each activation is a line
with error bars, nudged sideways so that bars do not hide each other. With one architecture there is
no depth to compare: the figure becomes a dot-and-whisker chart of the activations (dots rather than
bars, because bars would have to start at 0 and hide differences of a few tenths of a percent).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from relulab.lab.figures import data
from relulab.lab.engine import RunResult
from relulab.lab.figures.style import Colour, colours_for, line_style, new_figure, shared_legend
from relulab.lab.stats import Estimate, mean_ci

DODGE = 0.25  # total sideways spread of one architecture's error bars, in x units


def accuracy_vs_depth(results: Sequence[RunResult], *, colours: Mapping[str, Colour] | None = None) -> Figure | None:
    """Mean final test accuracy per activation and architecture, with 95% CI error bars.

    Args:
        results: finished runs.
        colours: activation -> colour, to match other figures.

    Returns:
        The figure (a dot-and-whisker chart of the activations when there is one architecture), or
        None when no run has a finite test accuracy.
    """
    groups = data.by_architecture(data.selected(results))
    if not any(math.isfinite(r.test_accuracy) for r in results):
        return None
    names = list(dict.fromkeys(r.spec.activation for r in results))
    palette, labels = colours_for(names, colours), data.legend_labels(results)
    several = len(groups) > 1
    title = ("Final test accuracy against depth" if several else
             f"Final test accuracy per activation (hidden {data.architecture_title(next(iter(groups)))})")
    figure, (ax,) = new_figure(1, title=f"{title}: mean and 95% CI over seeds", entries=len(names))
    archs = list(groups)
    offsets = np.linspace(-DODGE / 2, DODGE / 2, len(names)) if several and len(names) > 1 else np.zeros(len(names))
    for index, activation in enumerate(names):
        points = [(i, e) for i, arch in enumerate(archs)
                  if (e := mean_ci([r.test_accuracy for r in groups[arch].get(activation, [])])).n]
        x = [(i if several else index) + offsets[index] for i, _ in points]
        ax.errorbar(x, [e.mean for _, e in points], yerr=_error_bars([e for _, e in points]),
                    color=palette[activation], label=labels[activation], marker="o", capsize=3,
                    linestyle=line_style(index, len(names)) if several else "none")
    if several:
        ax.set_xticks(range(len(archs)), [f"{data.architecture_title(a)}\n(depth {len(a)})" for a in archs])
        ax.set_xlabel("architecture: hidden widths (number of hidden layers), shallow to deep")
    else:
        ax.set_xticks(range(len(names)), [labels[n] for n in names], rotation=30, ha="right")
        ax.set_xlabel("activation")
    ax.set_ylabel("final test accuracy (fraction)")
    shared_legend(figure)
    return figure


def _error_bars(estimates: Sequence[Estimate]) -> np.ndarray:
    """Distances from each mean down and up to its interval, clipped to [0, 1] (an accuracy's range);
    0 where there is no interval (one seed)."""
    mean = np.array([e.mean for e in estimates], dtype=float)
    low = np.clip(np.array([e.low for e in estimates], dtype=float), 0.0, 1.0)
    high = np.clip(np.array([e.high for e in estimates], dtype=float), 0.0, 1.0)
    return np.nan_to_num(np.vstack([mean - low, high - mean]), nan=0.0).reshape(2, len(estimates))
