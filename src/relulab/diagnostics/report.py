"""The result of :func:`relulab.diagnose`: one row per measured layer, gradient flow and advice.

``Report.to_dict()`` is JSON-serialisable (non-finite numbers become ``null``); ``Report.to_text()``
(also ``str(report)``) renders the table the command line prints.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from relulab.diagnostics.advice import Advice

COLUMNS = ("layer", "activation", "kind", "units", "dead", "sparsity", "saturation", "grad norm")


@dataclasses.dataclass(frozen=True)
class LayerRow:
    """One activation-bearing layer. Fractions are in [0, 1]; None where a measure does not apply."""

    name: str
    activation: str  # the activation's spec, e.g. "leaky_relu(negative_slope=0.1)"
    kind: str  # "rectifier", "smooth" or "saturating"
    units: int
    dead_fraction: float | None  # rectifiers
    sparsity: float
    saturation: float | None  # saturating activations
    grad_norm: float | None  # of the kernel that computes the pre-activation, when y was given
    kernel_layer: str | None  # that kernel's layer
    dead_units: tuple[int, ...] | None


@dataclasses.dataclass(frozen=True)
class Report:
    """Diagnostics of one model on one probe set."""

    model: str
    examples: int
    rows: tuple[LayerRow, ...]
    grad_norms: dict[str, float] | None  # every kernel layer, in layer order; None without y
    grad_ratio: float | None  # first over last kernel layer's norm
    advice: tuple[Advice, ...]
    unmeasured: tuple[str, ...] = ()  # layers whose activation relulab cannot measure (softmax, ...)

    def row(self, name: str) -> LayerRow:
        """The row of layer ``name``. Raises KeyError listing the measured layers."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no measured layer {name!r}; measured: {', '.join(r.name for r in self.rows)}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for programs: ``json.dumps(report.to_dict())`` works."""
        return _json_safe(dataclasses.asdict(self))

    def to_text(self) -> str:
        """A fixed-width table, then gradient flow, unmeasured layers and advice."""
        lines = _table([_cells(row) for row in self.rows])
        if self.grad_norms:
            names = list(self.grad_norms)
            lines.append(f"gradient ratio first/last kernel layer ({names[0]} / {names[-1]}): "
                         f"{_number(self.grad_ratio)}")
        if self.unmeasured:
            lines.append(f"not measured: {', '.join(self.unmeasured)}")
        lines.append(f"probe: {self.examples} examples")
        if not self.advice:
            lines.append("advice: none; no measurement crossed a threshold (relulab.diagnostics.advice)")
        for number, advice in enumerate(self.advice, start=1):
            lines.append(f"advice {number}: {advice.remedy}")
            lines.extend(f"    because {reason}" for reason in advice.reasons)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def _percent(value: float | None) -> str:
    """``"-"`` where a value does not apply (None) or was not measured (NaN: a diverged model)."""
    return "-" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _cells(row: LayerRow) -> tuple[str, ...]:
    return (row.name, row.activation, row.kind, str(row.units), _percent(row.dead_fraction),
            _percent(row.sparsity), _percent(row.saturation), _number(row.grad_norm))


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(cells[i]) for cells in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    left = 3  # layer, activation and kind are text; the rest are numbers, right-aligned

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return [line(COLUMNS), "  ".join("-" * w for w in widths), *(line(cells) for cells in rows)]
