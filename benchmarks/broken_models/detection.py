"""From relulab's findings to the benchmark's problem classes, one predicted class per trained case.

relulab's finding kinds (``relulab.diagnostics.advice``) map to classes as follows:

=====================  ==========  ====================================================================
finding kind           class       relulab's rule (``relulab.diagnostics.advice`` has the reasons)
=====================  ==========  ====================================================================
``collapsed``          collapsed   output spread < 1e-3 over the probe, and every kernel gradient < 1e-4
                                   or the first/last gradient ratio < 0.01 (not a sigmoid/tanh stack)
``dead``               dying       >= 1/3 of a zero-slope rectifier's units flat on every probe example
``vanishing``          vanishing   first/last kernel gradient-norm ratio < 0.01, or a sigmoid/tanh
                                   stack whose output is constant as above
``saturated``          vanishing   >= 10% of a hidden sigmoid/tanh layer's units saturated on every
                                   example, or >= 50% of its values saturated
``exploding``          exploding   a non-finite kernel gradient, or the ratio above > 100
``small_slope``        (none)      leaky units on their slope side: they still learn; not a class
=====================  ==========  ====================================================================

BENCHMARK RULE (not relulab's): a non-finite training loss in any epoch so far also flags
``exploding``. relulab's gradient-norm finding sees a non-finite gradient only while the weights are still
finite; once a step has overflowed into NaN weights the report measures NaNs, and the loss is the
plainer witness. :func:`detect` says which rule fired.

One class per case: when several fire, the first in :data:`PRIORITY` wins. A non-finite network makes
every other measurement meaningless, hence exploding first; a collapsed signal also shows as dead units
and tiny gradients, hence before dying and vanishing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

FINDING_CLASS = {"collapsed": "collapsed", "dead": "dying", "vanishing": "vanishing", "saturated": "vanishing",
                 "exploding": "exploding"}
PRIORITY = ("exploding", "collapsed", "dying", "vanishing")


def flagged(findings: Iterable[Any], losses: Sequence[float] = ()) -> dict[str, str]:
    """``{class: why}`` for every class some finding (or the benchmark's loss rule) points to."""
    classes: dict[str, str] = {}
    for finding in findings:
        problem = FINDING_CLASS.get(finding.kind)
        if problem is not None:
            classes.setdefault(problem, f"relulab {finding.kind}")
    if any(not math.isfinite(loss) for loss in losses) and "exploding" not in classes:
        classes["exploding"] = "benchmark rule: non-finite training loss"
    return classes


def primary(classes: Iterable[str]) -> str:
    """The class that names the case: the first of :data:`PRIORITY` present, else ``"healthy"``."""
    present = set(classes)
    return next((problem for problem in PRIORITY if problem in present), "healthy")


def detect(findings: Iterable[Any], losses: Sequence[float] = ()) -> tuple[str, str]:
    """``(class, why)``: the predicted class of a case and the rule that fired (``""`` for healthy)."""
    classes = flagged(findings, losses)
    problem = primary(classes)
    return problem, classes.get(problem, "")


def scores(planted: Sequence[str], predicted: Sequence[str], problem: str) -> tuple[float | None, float | None]:
    """``(recall, precision)`` of ``problem`` over paired planted/predicted labels; None where undefined."""
    hits = sum(p == problem and q == problem for p, q in zip(planted, predicted))
    actual, said = planted.count(problem), list(predicted).count(problem)
    return (hits / actual if actual else None), (hits / said if said else None)
