"""Dying ReLU: units pushed past the kink for every input, by a too-large step or a negative bias shift."""

from __future__ import annotations

from functools import partial

from broken_models.builders import cnn, mlp
from broken_models.case import Case

LARGE_STEP = "Adam with a step 50-100x the default knocks units past the kink for good"
BIAS_SHIFT = "hidden biases start at {bias}: many pre-activations are negative on every input"
# The bias shifts were -1.5, -2.0 and -1.0 in the first run: they killed every unit (a constant output, which
# relulab rightly calls a collapsed signal); the planted problem here is a partly dead network. The CNN's -0.5
# (the first two runs) killed 12.5% of one layer, inside the healthy controls' range (up to 28%), at 86% accuracy;
# -0.75 kills 37.5% (70% accuracy); -1.0 kills every unit.

CASES = [
    Case("dying-digits-lr", "dying", "digits", partial(mlp, hidden=(64, 64)), 4, 0.1, how=LARGE_STEP),
    Case("dying-digits-bias", "dying", "digits", partial(mlp, hidden=(64, 64), bias=-0.75), 4, 1e-3,
         how=BIAS_SHIFT.format(bias=-0.75)),
    Case("dying-digits-deep-lr", "dying", "digits", partial(mlp, hidden=(64,) * 4), 4, 0.05, how=LARGE_STEP),
    Case("dying-fashion-lr", "dying", "fashion", partial(mlp, hidden=(128, 64)), 3, 0.1, how=LARGE_STEP),
    Case("dying-fashion-bias", "dying", "fashion", partial(mlp, hidden=(128, 64), bias=-1.0), 3, 1e-3,
         how=BIAS_SHIFT.format(bias=-1.0)),
    Case("dying-circles-bias", "dying", "circles", partial(mlp, hidden=(32, 32), bias=-1.5), 5, 1e-2,
         how=BIAS_SHIFT.format(bias=-1.5)),
    Case("dying-moons-lr", "dying", "moons", partial(mlp, hidden=(32, 32, 32)), 5, 0.2, how=LARGE_STEP),
    Case("dying-blobs-bias", "dying", "blobs", partial(mlp, hidden=(32, 32), bias=-1.5), 5, 1e-2,
         how=BIAS_SHIFT.format(bias=-1.5)),
    Case("dying-cnn-digits-bias", "dying", "digits", partial(cnn, filters=(16, 32), bias=-0.75), 3, 1e-3,
         how=BIAS_SHIFT.format(bias=-0.75)),
    Case("dying-cnn-fashion-lr", "dying", "fashion", partial(cnn, filters=(8, 16)), 2, 0.05, how=LARGE_STEP),
]
