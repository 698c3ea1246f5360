"""The vanishing-gradient picture: gradient norm against layer depth in the deepest network.

Two panels, after the first epoch and after the last, so both how training starts and where it ends
are visible. The y axis is logarithmic, so the line is the geometric mean over seeds and its band the
95% interval of log10(norm), mapped back; a norm of 0 (a dead network) cannot appear on a log axis and
counts as missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from relulab.lab.figures import data
from relulab.lab.engine import RunResult
from relulab.lab.figures.style import Colour, colours_for, line_style, new_figure, plot_band, shared_legend
from relulab.lab.stats import Estimate, mean_ci

PREFIX = "grad_norm"
OUTPUT_KEY = f"{PREFIX}/output"


def log_mean_ci(values: Sequence[float]) -> Estimate:
    """Geometric mean and 95% CI of the positive finite ``values`` (the CI of their log10)."""
    logs = [math.log10(v) for v in values if v is not None and math.isfinite(v) and v > 0]
    estimate = mean_ci(logs)
    return Estimate(10 ** estimate.mean, 10 ** estimate.low, 10 ** estimate.high, estimate.n)


def layer_keys(runs: Sequence[RunResult]) -> list[str]:
    """The gradient-norm keys of the runs' layers: hidden layers by depth, then the output layer."""
    keys = {k for r in runs for k in data.hidden_layer_keys(r.history, PREFIX)}
    ordered = data.hidden_layer_keys(dict.fromkeys(keys), PREFIX)
    return ordered + [OUTPUT_KEY] if any(OUTPUT_KEY in r.history for r in runs) else ordered


def gradient_flow(results: Sequence[RunResult], *, colours: Mapping[str, Colour] | None = None) -> Figure | None:
    """Gradient norm per layer (1..L, then the output) of the deepest architecture, per activation.

    Args:
        results: finished runs; only those of the deepest architecture with ``grad_norm/*`` keys count.
        colours: activation -> colour, to match other figures.

    Returns:
        The figure, or None when no run recorded a positive gradient norm (none is trained with
        diagnostics, or every network is dead).
    """
    runs = [r for r in data.selected(results) if _has_norms(r)]
    if not runs:
        return None
    deepest = list(data.by_architecture(runs))[-1]
    groups = data.by_architecture(runs)[deepest]
    keys = layer_keys([r for members in groups.values() for r in members])
    epochs = max(len(r.history[k]) for members in groups.values() for r in members for k in keys if k in r.history)
    moments = [(0, "after epoch 1")] + ([(-1, f"after epoch {epochs} (the last)")] if epochs > 1 else [])
    names = list(dict.fromkeys(r.spec.activation for r in results))
    palette, labels = colours_for(names, colours), data.legend_labels(results)
    figure, axes = new_figure(len(moments), title=f"Gradient flow in the deepest network (hidden "
                              f"{data.architecture_title(deepest)}): geometric mean and 95% CI over seeds",
                              entries=len(groups))
    positions = np.arange(1, len(keys) + 1)
    for ax, (epoch, when) in zip(axes, moments):
        for activation in (name for name in names if name in groups):
            estimates = [log_mean_ci([_at(r, key, epoch) for r in groups[activation]]) for key in keys]
            plot_band(ax, positions, estimates, colour=palette[activation], label=labels[activation],
                      style=line_style(names.index(activation), len(names)))
        ax.set_yscale("log")
        ax.set_xticks(positions, [str(i) if k != OUTPUT_KEY else "out" for i, k in enumerate(keys, start=1)])
        ax.set_title(when)
        ax.set_xlabel("layer (1 = first hidden layer, out = softmax output)")
        ax.set_ylabel("norm of d loss / d kernel (L2, log scale)")
    shared_legend(figure)
    return figure


def _at(result: RunResult, key: str, epoch: int) -> float:
    values = result.history.get(key) or []
    return values[epoch] if -len(values) <= epoch < len(values) else math.nan


def _has_norms(result: RunResult) -> bool:
    """Whether a run has a gradient norm that a log axis can show (positive and finite)."""
    keys = data.hidden_layer_keys(result.history, PREFIX)
    return any(math.isfinite(v) and v > 0 for key in keys for v in result.history[key])
