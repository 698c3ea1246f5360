"""The result of :func:`relulab.diagnose`: one row per measured layer, gradient flow and advice.

``Report.to_dict()`` is JSON-serialisable (non-finite numbers become ``null``); ``Report.to_text()``
(also ``str(report)``) renders the table the command line prints.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from relulab.diagnostics.advice import Advice, Finding

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
    saturated_share: float | None = None  # fraction of all the layer's values saturated (saturating, custom)


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
    loss: str | None = None  # the loss differentiated for the gradient norms
    loss_inferred: bool = False  # True: the model had no loss and none was given; inferred from its output
    output_spread: float | None = None  # relulab.diagnostics.probe_pass.spread_of the outputs: ~0 for a constant model
    findings: tuple[Finding, ...] = ()  # what the advice answers, most severe first

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
        """A fixed-width table (consecutive layers with the same finding share a row), then gradient flow,
        the loss, the findings and the advice, each finding and remedy on one line."""
        status = {name: finding.kind for finding in self.findings for name in finding.layers}
        lines = _table([_group_cells(group) for group in _groups(self.rows, status)])
        if self.grad_norms:
            names = list(self.grad_norms)
            lines.append(f"gradient ratio first/last kernel layer ({names[0]} / {names[-1]}): "
                         f"{_number(self.grad_ratio)}")
        if self.loss is not None:
            how = " (inferred from the output layer; pass a loss to override)" if self.loss_inferred else ""
            lines.append(f"loss: {self.loss}{how}")
        if self.unmeasured:
            lines.append(f"not measured: {', '.join(self.unmeasured)}")
        lines.append(f"probe: {self.examples} examples")
        if not self.advice:
            lines.append("advice: none; no measurement crossed a threshold (relulab.diagnostics.advice)")
            return "\n".join(lines)
        lines.append("findings:")
        lines.extend(f"  {number}. {finding.text}" for number, finding in enumerate(self.findings, start=1))
        for number, advice in enumerate(self.advice, start=1):
            which = [str(i) for i, finding in enumerate(self.findings, start=1) if finding.text in advice.reasons]
            lines.append(f"advice {number}: {advice.remedy} (finding {', '.join(which)})")
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


def _groups(rows: tuple[LayerRow, ...], status: dict[str, str]) -> list[list[LayerRow]]:
    """Consecutive rows with the same activation, kind, width and finding (or none), as lists."""
    groups: list[list[LayerRow]] = []
    for row in rows:
        key = (row.activation, row.kind, row.units, status.get(row.name))
        last = groups[-1][-1] if groups else None
        if last is not None and (last.activation, last.kind, last.units, status.get(last.name)) == key:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _spanned(values: list[Any], render: Any) -> str:
    texts = [render(value) for value in values]
    if len(set(texts)) == 1:
        return texts[0]
    known = [value for value in values if value is not None and not (isinstance(value, float) and math.isnan(value))]
    if not known:
        return "-"
    return f"{render(min(known))}\u2013{render(max(known))}"


def _group_cells(group: list[LayerRow]) -> tuple[str, ...]:
    first = group[0]
    name = first.name if len(group) == 1 else f"{first.name} \u2026 {group[-1].name} ({len(group)})"
    return (name, first.activation, first.kind, str(first.units),
            _spanned([r.dead_fraction for r in group], _percent), _spanned([r.sparsity for r in group], _percent),
            _spanned([r.saturation for r in group], _percent), _spanned([r.grad_norm for r in group], _number))


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(cells[i]) for cells in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    left = 3  # layer, activation and kind are text; the rest are numbers, right-aligned

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return [line(COLUMNS), "  ".join("-" * w for w in widths), *(line(cells) for cells in rows)]
