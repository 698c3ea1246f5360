"""Vanishing gradients: deep sigmoid/tanh stacks, saturating or tiny initialisations."""

from __future__ import annotations

from functools import partial

from broken_models.builders import cnn, mlp
from broken_models.case import Case

DEEP_SIGMOID = "{depth} sigmoid layers: each multiplies the gradient by at most 1/4 on the way back"
SATURATED_TANH = "tanh with N(0, 1) weights: pre-activations far out on the flat tails"
TINY_SIGMOID = "sigmoid with N(0, 0.01) weights: the early layers' gradients are scaled by the tiny weights"

CASES = [
    Case("vanishing-digits-sigmoid-deep", "vanishing", "digits",
         partial(mlp, hidden=(32,) * 8, activation="sigmoid", init="glorot_uniform", optimizer="sgd"), 4, 0.05,
         how=DEEP_SIGMOID.format(depth=8)),
    Case("vanishing-fashion-sigmoid-deep", "vanishing", "fashion",
         partial(mlp, hidden=(64,) * 8, activation="sigmoid", init="glorot_uniform", optimizer="sgd"), 3, 0.05,
         how=DEEP_SIGMOID.format(depth=8)),
    Case("vanishing-circles-sigmoid-deep", "vanishing", "circles",
         partial(mlp, hidden=(16,) * 9, activation="sigmoid", init="glorot_uniform", output="sigmoid"), 5, 1e-3,
         how=DEEP_SIGMOID.format(depth=9) + " (one sigmoid output, binary cross-entropy)"),
    Case("vanishing-moons-sigmoid-deep", "vanishing", "moons",
         partial(mlp, hidden=(16,) * 10, activation="sigmoid", init="glorot_uniform", optimizer="sgd"), 5, 0.05,
         how=DEEP_SIGMOID.format(depth=10)),
    Case("vanishing-blobs-sigmoid-deep", "vanishing", "blobs",
         partial(mlp, hidden=(32,) * 8, activation="sigmoid", init="glorot_uniform", optimizer="sgd"), 5, 0.05,
         how=DEEP_SIGMOID.format(depth=8)),
    Case("vanishing-digits-sigmoid-tiny", "vanishing", "digits",
         partial(mlp, hidden=(64,) * 4, activation="sigmoid", init=0.01, optimizer="sgd"), 4, 0.05, how=TINY_SIGMOID),
    Case("vanishing-fashion-sigmoid-tiny", "vanishing", "fashion",
         partial(mlp, hidden=(64,) * 4, activation="sigmoid", init=0.01), 3, 1e-3, how=TINY_SIGMOID),
    Case("vanishing-digits-tanh-saturated", "vanishing", "digits",
         partial(mlp, hidden=(64,) * 5, activation="tanh", init=1.0, optimizer="sgd"), 4, 0.01, how=SATURATED_TANH),
    Case("vanishing-fashion-tanh-saturated", "vanishing", "fashion",
         partial(mlp, hidden=(128,) * 4, activation="tanh", init=1.0, optimizer="sgd"), 3, 0.01, how=SATURATED_TANH),
    Case("vanishing-cnn-digits-sigmoid", "vanishing", "digits",
         partial(cnn, filters=(8,) * 6, activation="sigmoid", init="glorot_uniform", optimizer="sgd", pool_every=3),
         3, 0.05, how=DEEP_SIGMOID.format(depth=6).replace("layers", "convolutions")),
]
