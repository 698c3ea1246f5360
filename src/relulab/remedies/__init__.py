"""Remedies for dying units: revive them, swap the rectifier, or start asymmetric.

    >>> from relulab import remedies
    >>> remedies.revive(model, x_train[:2048])                        # {'dense_1': 7, ...}
    >>> leaky = remedies.swap_activation(model, "leaky_relu(negative_slope=0.1)")
    >>> remedies.born_dead_probability(2, 10), remedies.born_dead_probability(2, 10, initializer="rai")
    >>> result = remedies.repair(model, relulab.data.load("digits"))   # train the remedies, keep the best

The RAI initializer itself lives in :mod:`relulab.initializers`.
"""

from __future__ import annotations

from relulab.remedies.born_dead import born_dead_probability
from relulab.remedies.repair import RepairResult, repair
from relulab.remedies.revive import revive
from relulab.remedies.swap import swap_activation

__all__ = ["RepairResult", "born_dead_probability", "repair", "revive", "swap_activation"]
