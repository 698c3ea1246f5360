"""A labelled set of small broken (and healthy) training setups, in the spirit of AUTOTRAINER's benchmark.

Each case is code: a builder of a compiled Keras model and its configuration (dataset, epochs, learning
rate, batch size) with the problem planted in it: ``dying`` ReLU, ``vanishing`` gradients, ``exploding``
gradients, a ``collapsed`` signal, or ``healthy`` (the controls). ``benchmarks/bench_repair.py`` trains
every case and measures what relulab's diagnosis detects and what its repair fixes.

    >>> from broken_models import CASES, datasets
    >>> case = CASES[0]
    >>> model = case.model(datasets.get(case.dataset))
"""

from broken_models.case import PROBLEMS, Case
from broken_models.cases import CASES, QUICK, select

__all__ = ["CASES", "PROBLEMS", "QUICK", "Case", "select"]
