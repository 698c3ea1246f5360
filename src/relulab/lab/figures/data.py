"""What the lab's figures plot: runs grouped per activation and architecture, and per-epoch estimates.

Learning rates: where the grid has several, every figure shows each activation at ONE learning rate,
the one with its highest mean test accuracy averaged over the grid's architectures (each activation
at its own best rate, the usual fair comparison), and the legend names it. The summary table keeps
every configuration. As the lab has no separate validation split, this choice is made on the test
set and flatters every activation alike; the table's paired differences do not depend on it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from relulab.lab.engine import RunResult
from relulab.lab.stats import Estimate, mean_ci

Architecture = tuple[int, ...]
MAX_PANELS = 4  # architectures shown side by side in the per-epoch figures


def chosen_rates(results: Sequence[RunResult]) -> dict[str, float]:
    """Each activation's learning rate with the highest mean test accuracy over architectures."""
    by_config: dict[tuple[str, float, Architecture], list[float]] = {}
    for r in results:
        by_config.setdefault((r.spec.activation, r.spec.learning_rate, r.spec.hidden), []).append(r.test_accuracy)
    scores: dict[str, dict[float, list[float]]] = {}
    for (activation, rate, _), values in by_config.items():
        scores.setdefault(activation, {}).setdefault(rate, []).append(mean_ci(values).mean)
    chosen = {}
    for activation, rates in scores.items():
        means = {rate: _finite_mean(values) for rate, values in rates.items()}
        chosen[activation] = max(means, key=lambda rate: -math.inf if math.isnan(means[rate]) else means[rate])
    return chosen


def selected(results: Sequence[RunResult]) -> list[RunResult]:
    """The runs at their activation's chosen learning rate (all runs when there is one rate)."""
    rates = chosen_rates(results)
    return [r for r in results if r.spec.learning_rate == rates[r.spec.activation]]


def legend_labels(results: Sequence[RunResult]) -> dict[str, str]:
    """Activation -> legend label; the label names the chosen learning rate when there are several."""
    rates = chosen_rates(results)
    several = len({r.spec.learning_rate for r in results}) > 1
    return {a: f"{a} (lr {rate:g})" if several else a for a, rate in rates.items()}


def by_architecture(results: Iterable[RunResult]) -> dict[Architecture, dict[str, list[RunResult]]]:
    """Architecture -> activation -> runs (the seeds), architectures from shallow to deep."""
    groups: dict[Architecture, dict[str, list[RunResult]]] = {}
    for r in results:
        groups.setdefault(r.spec.hidden, {}).setdefault(r.spec.activation, []).append(r)
    return {arch: groups[arch] for arch in sorted(groups, key=lambda a: (len(a), a))}


def panel_architectures(architectures: Sequence[Architecture], limit: int = MAX_PANELS) -> list[Architecture]:
    """All architectures if at most ``limit``; else the shallowest, the deepest and evenly spaced ones."""
    if len(architectures) <= limit:
        return list(architectures)
    picks = np.linspace(0, len(architectures) - 1, limit).round().astype(int)
    return [architectures[i] for i in dict.fromkeys(picks.tolist())]


def architecture_name(hidden: Architecture) -> str:
    """``"64x64"``: the hidden widths, as in the summary table."""
    return "x".join(map(str, hidden))


def architecture_title(hidden: Architecture) -> str:
    """A short name for titles: ``"64x32"``, or ``"8 x 64"`` for a deep network of equal widths."""
    if len(hidden) > 2 and len(set(hidden)) == 1:
        return f"{len(hidden)} x {hidden[0]}"
    return architecture_name(hidden)


def hidden_layer_keys(history: dict[str, list[float]], prefix: str) -> list[str]:
    """History keys ``<prefix>/<layer>`` of the hidden layers (not ``output``), in depth order."""
    keys = [k for k in history if k.startswith(prefix + "/") and not k.endswith("/output")]
    return sorted(keys, key=_layer_number)


def layer_mean(result: RunResult, prefix: str) -> list[float]:
    """Per epoch, the mean of ``<prefix>/<layer>`` over hidden layers (NaN values ignored)."""
    columns = [result.history[k] for k in hidden_layer_keys(result.history, prefix)]
    epochs = max((len(c) for c in columns), default=0)
    return [_finite_mean([c[e] for c in columns if e < len(c)]) for e in range(epochs)]


def epoch_estimates(runs: Sequence[RunResult], values: Callable[[RunResult], Sequence[float]]) -> list[Estimate]:
    """Per epoch, the mean over runs (seeds) of ``values(run)`` with its 95% CI; [] without data.

    Runs whose ``values`` are empty (no such metric: run without diagnostics) are left out; shorter
    histories count as missing in the later epochs.
    """
    series = [list(values(r)) for r in runs]
    series = [s for s in series if any(math.isfinite(v) for v in s)]
    epochs = max((len(s) for s in series), default=0)
    return [mean_ci([s[e] for s in series if e < len(s)]) for e in range(epochs)]


def metric_values(key: str) -> Callable[[RunResult], list[float]]:
    """A ``values`` function for :func:`epoch_estimates` that reads one history key."""
    return lambda result: list(result.history.get(key, []))


def _finite_mean(values: Iterable[float]) -> float:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def _layer_number(key: str) -> tuple[int, str]:
    match = re.search(r"(\d+)$", key)
    return (int(match.group(1)) if match else 0, key)
