"""Exploding gradients: plain SGD with a huge step or a huge initialisation, and no clipping."""

from __future__ import annotations

from functools import partial

from broken_models.builders import cnn, mlp
from broken_models.case import Case

HUGE_STEP = "plain SGD with step {lr} and no clipping: each update overshoots more than the last"
HUGE_INIT = "N(0, {std}) weights in {depth} ReLU layers: logits and gradients grow ~{std}x per layer"

CASES = [
    # at step 5.0 (the first run) the first update killed every unit instead: a collapsed network, no overflow
    Case("exploding-digits-sgd-lr", "exploding", "digits", partial(mlp, hidden=(64,) * 3, optimizer="sgd"), 3, 20.0,
         how=HUGE_STEP.format(lr=20.0)),
    Case("exploding-fashion-sgd-lr", "exploding", "fashion", partial(mlp, hidden=(128,) * 3, optimizer="sgd"), 2, 5.0,
         how=HUGE_STEP.format(lr=5.0)),
    Case("exploding-circles-sgd-lr", "exploding", "circles", partial(mlp, hidden=(32,) * 4, optimizer="sgd"), 4, 20.0,
         how=HUGE_STEP.format(lr=20.0)),
    Case("exploding-moons-sgd-lr", "exploding", "moons", partial(mlp, hidden=(32,) * 4, optimizer="sgd"), 4, 20.0,
         how=HUGE_STEP.format(lr=20.0)),
    Case("exploding-digits-huge-init", "exploding", "digits",
         partial(mlp, hidden=(64,) * 6, init=2.0, optimizer="sgd"), 3, 0.01, how=HUGE_INIT.format(std=2.0, depth=6)),
    Case("exploding-fashion-huge-init", "exploding", "fashion",
         partial(mlp, hidden=(128,) * 5, init=2.0, optimizer="sgd"), 2, 0.01, how=HUGE_INIT.format(std=2.0, depth=5)),
    Case("exploding-blobs-huge-init", "exploding", "blobs",
         partial(mlp, hidden=(32,) * 8, init=3.0, optimizer="sgd"), 4, 0.01, how=HUGE_INIT.format(std=3.0, depth=8)),
    # no step overflows this CNN (5, 10, 20, 100 tried): the first epoch's loss is 2-1000x chance, then every unit
    # is dead. At 5.0 it is 2.28x, under the diverging rule's 3x: relulab reads the collapse it left (a miss)
    Case("exploding-cnn-digits-sgd-lr", "exploding", "digits", partial(cnn, filters=(16, 32), optimizer="sgd"), 3, 5.0,
         how=HUGE_STEP.format(lr=5.0)),
    Case("exploding-cnn-fashion-huge-init", "exploding", "fashion",
         partial(cnn, filters=(8, 16, 16), init=1.0, optimizer="sgd", pool_every=1), 2, 0.01,
         how=HUGE_INIT.format(std=1.0, depth=3)),
]
