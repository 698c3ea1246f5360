"""Summaries over seeds: means with 95% confidence intervals, and paired differences to a baseline.

The interval is Student's t: ``mean +- t(0.975, n-1) * s / sqrt(n)`` over the n seeds of a
configuration; with one seed there is no interval (NaN bounds). Gradient ratios, which span orders of
magnitude, are summarised by their geometric mean (the same interval on their logarithms). A paired difference subtracts the
baseline activation's value for the same seed, architecture and learning rate before averaging, which
removes the variation that seeds share (initial weights and data order).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as scipy_stats

from relulab.lab.engine import RunResult

CONFIDENCE = 0.95


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A mean over n values with its confidence interval [low, high]."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def format(self, digits: int = 4) -> str:
        if math.isnan(self.mean):
            return "-"
        if math.isnan(self.low):
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.half_width:.{digits}f}"


def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
    """Mean and Student-t confidence interval of the finite ``values`` (NaN where undefined)."""
    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype="float64")
    n = int(data.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(data.mean())
    if n == 1:
        return Estimate(mean, math.nan, math.nan, 1)
    half = float(scipy_stats.t.ppf((1 + confidence) / 2, n - 1) * data.std(ddof=1) / math.sqrt(n))
    return Estimate(mean, mean - half, mean + half, n)


def geometric_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
    """Geometric mean and interval (the t-interval of the logarithms, mapped back) of the finite
    positive ``values``: for ratios that span orders of magnitude, such as gradient ratios."""
    logs = [math.log(v) for v in values if v is not None and math.isfinite(v) and v > 0]
    estimate = mean_ci(logs, confidence)
    return Estimate(*(math.exp(v) if math.isfinite(v) else math.nan for v in
                      (estimate.mean, estimate.low, estimate.high)), estimate.n)


def final(result: RunResult, prefix: str) -> float:
    """The last epoch's mean over the hidden layers of metrics named ``<prefix>/<layer>``."""
    values = [v[-1] for k, v in result.history.items() if k.startswith(prefix + "/") and not k.endswith("/output") and v]
    values = [v for v in values if math.isfinite(v)]
    return float(np.mean(values)) if values else math.nan


def last(result: RunResult, key: str) -> float:
    values = result.history.get(key) or [math.nan]
    return float(values[-1])


# name -> (the value of one run, how values over seeds are summarised)
METRICS = {
    "test_accuracy": (lambda r: r.test_accuracy, mean_ci),
    "test_loss": (lambda r: r.test_loss, mean_ci),
    "dead_fraction": (lambda r: final(r, "dead_fraction"), mean_ci),
    "grad_ratio": (lambda r: last(r, "grad_ratio"), geometric_ci),  # ratios: geometric, as in the plot
    "seconds": (lambda r: r.seconds, mean_ci),
}


@dataclasses.dataclass(frozen=True)
class SummaryRow:
    """One configuration (all its seeds): estimates of each metric and the paired difference."""

    activation: str
    hidden: tuple[int, ...]
    learning_rate: float
    initializer: str
    estimates: dict[str, Estimate]
    accuracy_vs_baseline: Estimate | None  # paired difference of test accuracy; None: no pairs
    is_baseline: bool = False  # this configuration is the baseline activation's

    def to_dict(self) -> dict[str, object]:
        row: dict[str, object] = {"activation": self.activation, "hidden": "x".join(map(str, self.hidden)),
                                  "depth": len(self.hidden), "learning_rate": self.learning_rate,
                                  "initializer": self.initializer, "seeds": self.estimates["test_accuracy"].n}
        for name, estimate in self.estimates.items():
            row[f"{name}_mean"], row[f"{name}_ci_low"], row[f"{name}_ci_high"] = estimate.mean, estimate.low, estimate.high
        diff = self.accuracy_vs_baseline
        row["accuracy_vs_baseline_mean"] = diff.mean if diff else math.nan
        row["accuracy_vs_baseline_ci_low"] = diff.low if diff else math.nan
        row["accuracy_vs_baseline_ci_high"] = diff.high if diff else math.nan
        return row


def summarise(results: Sequence[RunResult], baseline: str) -> list[SummaryRow]:
    """One :class:`SummaryRow` per configuration, in the order configurations first appear."""
    groups: dict[str, list[RunResult]] = {}
    for result in results:
        groups.setdefault(result.spec.label, []).append(result)
    baseline_accuracy = {
        (r.spec.hidden, r.spec.learning_rate, r.spec.seed): r.test_accuracy
        for r in results if r.spec.activation == baseline
    }
    rows = []
    for members in groups.values():
        spec = members[0].spec
        estimates = {name: summary([metric(r) for r in members]) for name, (metric, summary) in METRICS.items()}
        diff = None
        if spec.activation != baseline:
            pairs = [r.test_accuracy - baseline_accuracy[(r.spec.hidden, r.spec.learning_rate, r.spec.seed)]
                     for r in members if (r.spec.hidden, r.spec.learning_rate, r.spec.seed) in baseline_accuracy]
            diff = mean_ci(pairs) if pairs else None
        rows.append(SummaryRow(spec.activation, spec.hidden, spec.learning_rate, spec.kernel_initializer,
                               estimates, diff, spec.activation == baseline))
    return rows


def table(rows: Sequence[SummaryRow], baseline: str) -> str:
    """The summary as an aligned text table (for the terminal)."""
    header = ["activation", "hidden", "lr", "seeds", "test accuracy", "test loss", "dead frac", "grad ratio",
              f"Δacc vs {baseline}", "time s"]
    body = [
        [r.activation, "x".join(map(str, r.hidden)), f"{r.learning_rate:g}", str(r.estimates["test_accuracy"].n),
         r.estimates["test_accuracy"].format(), r.estimates["test_loss"].format(), r.estimates["dead_fraction"].format(3),
         _ratio(r.estimates["grad_ratio"]), _paired(r),
         r.estimates["seconds"].format(1)]
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _paired(row: SummaryRow) -> str:
    if row.is_baseline:
        return "(baseline)"
    return row.accuracy_vs_baseline.format() if row.accuracy_vs_baseline else "-"


def _ratio(estimate: Estimate) -> str:
    return "-" if math.isnan(estimate.mean) else f"{estimate.mean:.3g}"
