"""Every case of the benchmark, family by family, and selection by name."""

from __future__ import annotations

from collections.abc import Sequence

from broken_models import collapsed, dying, exploding, healthy, vanishing
from broken_models.case import Case

CASES: list[Case] = [*dying.CASES, *vanishing.CASES, *exploding.CASES, *collapsed.CASES, *healthy.CASES]
QUICK = ("dying-digits-bias", "vanishing-moons-sigmoid-deep", "exploding-circles-sgd-lr",
         "collapsed-moons-deep-tiny", "healthy-circles-relu")  # --quick: a smoke test


def select(names: Sequence[str] | None = None) -> list[Case]:
    """The cases named (all of them for None), in the benchmark's order.

    Raises:
        ValueError: a name that is not a case (the message lists them).
    """
    if names is None:
        return list(CASES)
    known = {case.name: case for case in CASES}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise ValueError(f"cases must name benchmark cases: {', '.join(known)}. Received: cases={list(names)!r}")
    return [known[name] for name in names]
