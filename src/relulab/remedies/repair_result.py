"""What :func:`relulab.remedies.repair` returns: one row per candidate, over seeds, and the chosen model.

Intervals are Student's t over the seeds (:func:`relulab.lab.stats.mean_ci`); the paired difference
subtracts the original's test accuracy of the same seed before averaging.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import keras

from relulab.diagnostics.report import Report, _json_safe
from relulab.lab.stats import Estimate, mean_ci

COLUMNS = ("candidate", "test accuracy", "test loss", "vs original (paired)", "val accuracy", "change")


@dataclasses.dataclass(frozen=True)
class CandidateRow:
    """One candidate over the seeds; ``skipped`` holds why it was not trained (then the numbers are NaN)."""

    name: str
    change: str
    test_accuracy: Estimate
    test_loss: Estimate
    paired_difference: Estimate  # test accuracy minus the original's, same seed
    val_accuracy: float  # mean over seeds on the held-out part of the training set: what chooses
    skipped: str | None = None
    test_accuracies: tuple[float, ...] = ()  # per seed, in seed order

    def to_dict(self) -> dict[str, Any]:
        def estimate(value: Estimate) -> dict[str, float]:
            return {"mean": value.mean, "low": value.low, "high": value.high, "n": value.n}

        return {"name": self.name, "change": self.change, "test_accuracy": estimate(self.test_accuracy),
                "test_loss": estimate(self.test_loss), "paired_difference": estimate(self.paired_difference),
                "val_accuracy": self.val_accuracy, "skipped": self.skipped,
                "test_accuracies": list(self.test_accuracies)}


@dataclasses.dataclass(frozen=True)
class RepairResult:
    """The diagnosis, the candidates' rows (``original`` first), the chosen one's name and its seed-0 model."""

    diagnosis: Report  # of the model as given
    rows: tuple[CandidateRow, ...]
    best: str
    model: keras.Model  # ``best`` trained on the first seed
    trained_diagnosis: Report | None = None  # of the original after training on the first seed
    seeds: tuple[int, ...] = ()

    def row(self, name: str) -> CandidateRow:
        """The row of candidate ``name``. Raises KeyError listing the candidates."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no candidate {name!r}; candidates: {', '.join(r.name for r in self.rows)}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for programs (non-finite numbers become ``null``)."""
        return _json_safe({
            "best": self.best, "seeds": list(self.seeds), "rows": [row.to_dict() for row in self.rows],
            "diagnosis": self.diagnosis.to_dict(),
            "trained_diagnosis": None if self.trained_diagnosis is None else self.trained_diagnosis.to_dict(),
        })

    def table_rows(self) -> list[dict[str, Any]]:
        """Flat rows for a CSV: one per candidate, means and interval bounds as columns."""
        flat = []
        for row in self.rows:
            record: dict[str, Any] = {"candidate": row.name, "change": row.change, "chosen": row.name == self.best}
            for key in ("test_accuracy", "test_loss", "paired_difference"):
                value = getattr(row, key)
                record.update({key: value.mean, f"{key}_low": value.low, f"{key}_high": value.high})
            record.update(val_accuracy=row.val_accuracy, seeds=row.test_accuracy.n, skipped=row.skipped or "")
            flat.append(record)
        return flat

    def to_text(self) -> str:
        """The table (mean ± 95% half-width over seeds), then the chosen candidate."""
        cells = [COLUMNS]
        for row in self.rows:
            mark = " *" if row.name == self.best else ""
            if row.skipped:
                cells.append((row.name, "-", "-", "-", "-", f"skipped: {row.skipped}"))
                continue
            paired = "-" if row.name == "original" else _signed(row.paired_difference)
            cells.append((row.name + mark, row.test_accuracy.format(3), row.test_loss.format(3), paired,
                          f"{row.val_accuracy:.3f}", row.change))
        widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        before, after = self.row("original").test_accuracy, self.row(self.best).test_accuracy
        lines.append(f"chosen: {self.best} (*: best mean accuracy on the held-out 20% of the training set); test "
                     f"accuracy {before.mean:.3f} -> {after.mean:.3f}, mean over {after.n} seed(s)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _signed(value: Estimate) -> str:
    if math.isnan(value.mean):
        return "-"
    if math.isnan(value.low):
        return f"{value.mean:+.3f}"
    return f"{value.mean:+.3f} ± {value.half_width:.3f}"


def summarise(names: Sequence[str], runs: Mapping[str, list[dict[str, Any]]], catalogue: Mapping[str, Any],
              skipped: Mapping[str, str]) -> list[CandidateRow]:
    """One :class:`CandidateRow` per name (trained ones from ``runs``, in seed order), skipped ones last."""
    base = [run["test_accuracy"] for run in runs["original"]]
    rows = []
    for name in names:
        done = runs[name]
        accuracy = [run["test_accuracy"] for run in done]
        rows.append(CandidateRow(
            name, catalogue[name].change, mean_ci(accuracy), mean_ci([run["test_loss"] for run in done]),
            mean_ci([a - b for a, b in zip(accuracy, base)]),
            float(sum(run["val_accuracy"] for run in done) / len(done)), test_accuracies=tuple(accuracy),
        ))
    nan = Estimate(math.nan, math.nan, math.nan, 0)
    rows.extend(CandidateRow(name, catalogue[name].change, nan, nan, nan, math.nan, why)
                for name, why in skipped.items())
    return rows
