"""Collapsed signal: deep ReLU stacks whose initialisation is far too small (or zero), so the output is constant."""

from __future__ import annotations

from functools import partial

from broken_models.builders import cnn, mlp
from broken_models.case import Case

TINY_INIT = "{depth} ReLU layers with N(0, {std}) weights: the signal shrinks ~{shrink}x per layer to nothing"
ZERO_INIT = "{depth} ReLU layers with all-zero weights: every hidden output is 0, no kernel gets a gradient"

CASES = [
    Case("collapsed-digits-deep-tiny", "collapsed", "digits", partial(mlp, hidden=(64,) * 10, init=0.01, optimizer="sgd"),
         3, 0.01, how=TINY_INIT.format(depth=10, std=0.01, shrink=18)),
    Case("collapsed-fashion-deep-tiny", "collapsed", "fashion",
         partial(mlp, hidden=(128,) * 8, init=0.01, optimizer="sgd"), 2, 0.01, how=TINY_INIT.format(depth=8, std=0.01, shrink=12)),
    Case("collapsed-circles-deep-tiny", "collapsed", "circles", partial(mlp, hidden=(32,) * 10, init=0.01),
         4, 1e-3, how=TINY_INIT.format(depth=10, std=0.01, shrink=25) + " (Adam)"),
    Case("collapsed-moons-deep-tiny", "collapsed", "moons", partial(mlp, hidden=(32,) * 10, init=0.01, optimizer="sgd"),
         4, 0.01, how=TINY_INIT.format(depth=10, std=0.01, shrink=25)),
    Case("collapsed-blobs-deep-tiny", "collapsed", "blobs", partial(mlp, hidden=(32,) * 10, init=0.02),
         4, 1e-3, how=TINY_INIT.format(depth=10, std=0.02, shrink=12) + " (Adam)"),
    Case("collapsed-digits-zeros", "collapsed", "digits", partial(mlp, hidden=(64,) * 4, init="zeros", optimizer="sgd"),
         3, 0.01, how=ZERO_INIT.format(depth=4)),
    Case("collapsed-fashion-zeros", "collapsed", "fashion", partial(mlp, hidden=(64,) * 3, init="zeros"),
         2, 1e-3, how=ZERO_INIT.format(depth=3) + " (Adam)"),
    Case("collapsed-digits-deep-tiny-adam", "collapsed", "digits", partial(mlp, hidden=(64,) * 12, init=0.01),
         3, 1e-3, how=TINY_INIT.format(depth=12, std=0.01, shrink=18) + " (Adam)"),
    Case("collapsed-cnn-fashion-tiny", "collapsed", "fashion",
         partial(cnn, filters=(8,) * 6, init=0.01, optimizer="sgd", pool_every=2), 2, 0.01,
         how=TINY_INIT.format(depth=6, std=0.01, shrink=40).replace("layers", "convolutions")),
]
