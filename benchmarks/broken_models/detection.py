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
``exploding``          exploding   a non-finite kernel gradient or training loss, or the ratio above > 100
``diverging``          exploding   an epoch's training loss >= 3x that of uniform predictions (ln k); or,
                                   with a collapsed signal, a hidden kernel grown to >= 10x He's scale
``small_slope``        (none)      leaky units on their slope side: they still learn; not a class
=====================  ==========  ====================================================================

One class per case: when several findings fire, the first kind in :data:`PRIORITY` names it. A non-finite
network makes every other measurement meaningless, hence exploding first; a collapsed signal also shows
as dead units and tiny gradients, hence before dying and vanishing. A run that overshot (``diverging``)
and was left with dead units is dying (a step that overshoots is how the large-step dying cases die); one
left a constant function is exploding: relulab attributes that collapse to the overshoot (``Finding.cause``;
its remedies are the step's), seen in the loss or in kernels grown far past any initialisation's scale, as a
collapse with a flat loss and kernels at or below He's scale is the initialisation's. Overshooting alone is
exploding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

FINDING_CLASS = {"collapsed": "collapsed", "dead": "dying", "vanishing": "vanishing", "saturated": "vanishing",
                 "exploding": "exploding", "diverging": "exploding"}
PRIORITY = ("exploding", "collapsed", "dead", "vanishing", "saturated", "diverging")  # finding kinds


def detect(findings: Iterable[Any]) -> tuple[str, str]:
    """``(class, why)``: the predicted class of a case and the finding kind that names it (``""`` for healthy)."""
    by_kind = {}
    for finding in findings:
        by_kind.setdefault(finding.kind, finding)
    kind = next((kind for kind in PRIORITY if kind in by_kind), None)
    if kind is None:
        return "healthy", ""
    cause = getattr(by_kind[kind], "cause", "")
    if cause:
        return FINDING_CLASS[cause], f"relulab {kind} after {cause}"
    return FINDING_CLASS[kind], f"relulab {kind}"


def scores(planted: Sequence[str], predicted: Sequence[str], problem: str) -> tuple[float | None, float | None]:
    """``(recall, precision)`` of ``problem`` over paired planted/predicted labels; None where undefined."""
    hits = sum(p == problem and q == problem for p, q in zip(planted, predicted))
    actual, said = planted.count(problem), list(predicted).count(problem)
    return (hits / actual if actual else None), (hits / said if said else None)
