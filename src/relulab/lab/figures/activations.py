"""The grid's activation functions and their derivatives, side by side on x in [-4, 4].

The derivative is the backend's automatic differentiation of the very function the lab trains with
(``relulab.activations.get``), not a finite difference, so the panel shows what backpropagation sees,
including the value each framework picks at a kink: at x = 0 it is marked with a dot (relulab's
convention is the left slope: 0 for ReLU, the negative slope for the leaky family). PReLU is drawn
with its initial slope (0.25 unless the spec says otherwise; training changes it), RReLU with its
inference slope (lower + upper) / 2.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from relulab import activations as registry
from relulab import layers
from relulab.activations.derivative import value_and_derivative
from relulab.lab.figures.style import Colour, colours_for, line_style, new_figure, shared_legend

X_RANGE = (-4.0, 4.0)  # input range drawn (pre-activation units)
POINTS = 801  # samples over X_RANGE: step 0.01, with x = 0 exactly


def describe(spec: str) -> str:
    """The legend label of ``spec``: the spec itself, plus the slope drawn for PReLU and RReLU."""
    if layers.is_custom(spec):
        return spec
    resolved = registry.resolve(spec)
    entry, params = resolved.entry, resolved.kwargs
    if entry.name == "prelu":
        return f"{spec} (initial slope {params['alpha']:g})"
    if entry.name == "rrelu":
        return f"{spec} (inference slope {(params['lower'] + params['upper']) / 2:.3g})"
    return spec


def _function(spec: str) -> Callable[[Any], Any] | None:
    """The pure function of a registry spec, or an instance of a custom ``"module:Class"`` layer whose
    module is already imported (None when it is not: a figure never imports what a stored grid names)."""
    if not layers.is_custom(spec):
        return registry.get(spec)
    try:
        return layers.custom_class(spec, imported_only=True)()
    except (ValueError, TypeError):
        return None


def activation_functions(specs: Sequence[str], *, colours: Mapping[str, Colour] | None = None) -> Figure | None:
    """Two panels: ``f(x)`` and ``f'(x)`` of each activation spec on x in [-4, 4].

    A custom layer (``"module:Class"``) is drawn only when its module is already imported (``relulab
    compare`` imports it, ``relulab report`` does not); None when nothing can be drawn.

    Args:
        specs: activation specs, e.g. the grid's ``activations`` (``"leaky_relu(negative_slope=0.1)"``).
        colours: spec -> colour, to match other figures.

    Raises:
        ValueError / TypeError: an invalid spec (as ``relulab.activations.resolve``).
    """
    functions = {spec: _function(spec) for spec in dict.fromkeys(specs)}
    functions = {spec: function for spec, function in functions.items() if function is not None}
    if not functions:
        return None
    x = np.linspace(*X_RANGE, POINTS).astype("float32")
    x[POINTS // 2] = 0.0
    palette = colours_for(specs, colours)
    figure, (left, right) = new_figure(2, title="Activation functions and their derivatives",
                                       entries=len(set(specs)))
    for index, (spec, function) in enumerate(functions.items()):
        y, dy = value_and_derivative(function, x)
        style = dict(color=palette[spec], linestyle=line_style(index, len(specs)))
        left.plot(x, y, label=describe(spec), **style)
        right.plot(x, dy, label=describe(spec), **style)
        right.plot([0.0], [dy[POINTS // 2]], marker="o", color=palette[spec], linestyle="none")
    left.set_title("f(x)")
    left.set_ylabel("activation output f(x) (same units as x)")
    right.set_title("f'(x) by autodiff (dot: the value at x = 0)")
    right.set_ylabel("derivative df/dx (dimensionless)")
    for ax in (left, right):
        ax.set_xlabel("pre-activation input x (unitless)")
        ax.axhline(0.0, color="0.5", linewidth=0.6)
        ax.axvline(0.0, color="0.5", linewidth=0.6)
    shared_legend(figure)
    return figure
