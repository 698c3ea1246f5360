"""Per-epoch figures: learning curves and the dead fraction, one panel per architecture.

Each line is one activation's mean over seeds, its band the 95% Student-t interval over seeds (no
band with one seed). At most four architectures are drawn: the shallowest, the deepest and evenly
spaced ones between (see :func:`relulab.lab.figures.data.panel_architectures`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from relulab.lab.figures import data
from relulab.lab.engine import RunResult
from relulab.lab.figures.style import (Colour, colours_for, line_style, message_panel, new_figure, plot_band,
                                     shared_legend)

METRIC_LABELS = {  # history key -> y axis label (with its unit)
    "val_accuracy": "test accuracy after the epoch (fraction)",
    "val_loss": "test loss after the epoch (cross-entropy, nats)",
    "accuracy": "training accuracy, mean over the epoch (fraction)",
    "loss": "training loss, mean over the epoch (cross-entropy, nats)",
}
METRIC_NAMES = {"val_accuracy": "test accuracy", "val_loss": "test loss", "accuracy": "training accuracy",
                "loss": "training loss"}
FRACTION = (0.0, 1.0)  # range of accuracies and dead fractions: their bands are clipped to it
NON_NEGATIVE = (0.0, float("inf"))  # range of a loss


def learning_curves(results: Sequence[RunResult], *, metric: str = "val_accuracy",
                    colours: Mapping[str, Colour] | None = None) -> Figure | None:
    """Mean ``metric`` per epoch with its 95% band over seeds, per activation and architecture.

    Args:
        results: finished runs (any mix of activations, architectures, rates and seeds).
        metric: a history key of :data:`METRIC_LABELS`; default ``val_accuracy`` (the test set).
        colours: activation -> colour, to match other figures; default: assigned in order of appearance.

    Returns:
        The figure, or None when no run recorded ``metric``.

    Raises:
        ValueError: ``metric`` is not one of :data:`METRIC_LABELS`.
    """
    if metric not in METRIC_LABELS:
        raise ValueError(
            f"metric of learning_curves must be one of {sorted(METRIC_LABELS)}. Received: metric={metric!r}")
    return _epoch_figure(results, values=data.metric_values(metric), ylabel=METRIC_LABELS[metric],
                         bounds=FRACTION if metric.endswith("accuracy") else NON_NEGATIVE,
                         title=f"Learning curves: {METRIC_NAMES[metric]} per epoch (mean and 95% CI over seeds)",
                         colours=colours)


def dead_fraction(results: Sequence[RunResult], *, colours: Mapping[str, Colour] | None = None) -> Figure | None:
    """Dead fraction per epoch (mean over the hidden layers) with its 95% band over seeds.

    A unit is dead when its pre-activation stays on the flat (or small-slope) side of the kink for every
    probed example (``relulab.diagnostics.regimes``); the history keys ``dead_fraction/<layer>`` hold
    each layer's fraction of dead units. Runs trained without
    diagnostics have no such keys and are left out.

    Returns:
        The figure, or None when no run has dead-fraction values.
    """
    return _epoch_figure(results, values=lambda r: data.layer_mean(r, "dead_fraction"),
                         ylabel="dead hidden units (fraction, mean over layers)", bounds=FRACTION,
                         title="Dead units per epoch (mean and 95% CI over seeds)", colours=colours)


def _epoch_figure(results: Sequence[RunResult], *, values: Callable[[RunResult], Sequence[float]], ylabel: str,
                  bounds: tuple[float, float], title: str, colours: Mapping[str, Colour] | None) -> Figure | None:
    """One panel per shown architecture, one line (and band) per activation that has data."""
    groups = data.by_architecture(data.selected(results))
    panels = data.panel_architectures(list(groups))
    curves = {arch: {a: data.epoch_estimates(runs, values) for a, runs in groups[arch].items()} for arch in panels}
    if not any(est for per_arch in curves.values() for est in per_arch.values()):
        return None
    names = list(dict.fromkeys(r.spec.activation for r in results))
    palette, labels = colours_for(names, colours), data.legend_labels(results)
    figure, axes = new_figure(len(panels), title=title, entries=len(names))
    for ax, arch in zip(axes, panels):
        for activation in names:
            estimates = curves[arch].get(activation)
            if estimates:
                plot_band(ax, range(1, len(estimates) + 1), estimates, colour=palette[activation],
                          label=labels[activation], style=line_style(names.index(activation), len(names)),
                          bounds=bounds)
        if not any(curves[arch].values()):
            message_panel(ax, "no run of this architecture\nrecorded this metric")
        ax.set_title(f"{data.architecture_title(arch)} ({len(arch)} hidden layer{'s' * (len(arch) > 1)})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    shared_legend(figure)
    return figure
