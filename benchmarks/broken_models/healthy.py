"""Healthy controls: the usual settings (He or Glorot initialisation, Adam at its default step, shallow nets)."""

from __future__ import annotations

from functools import partial

from broken_models.builders import cnn, mlp
from broken_models.case import Case

USUAL = "usual settings: {what}"

CASES = [
    Case("healthy-digits-relu", "healthy", "digits", partial(mlp, hidden=(64, 64)), 4, 1e-3,
         how=USUAL.format(what="ReLU, He init, Adam 1e-3")),
    Case("healthy-digits-leaky", "healthy", "digits", partial(mlp, hidden=(64, 64), activation="leaky_relu"), 4, 1e-3,
         how=USUAL.format(what="leaky ReLU, He init, Adam 1e-3")),
    Case("healthy-digits-tanh", "healthy", "digits",
         partial(mlp, hidden=(64, 64), activation="tanh", init="glorot_uniform"), 4, 1e-3,
         how=USUAL.format(what="two tanh layers, Glorot init, Adam 1e-3")),
    Case("healthy-digits-sigmoid", "healthy", "digits",
         partial(mlp, hidden=(64,), activation="sigmoid", init="glorot_uniform"), 4, 1e-2,
         how=USUAL.format(what="one sigmoid layer, Glorot init, Adam 1e-2")),
    Case("healthy-fashion-relu", "healthy", "fashion", partial(mlp, hidden=(128, 64)), 3, 1e-3,
         how=USUAL.format(what="ReLU, He init, Adam 1e-3")),
    Case("healthy-fashion-elu", "healthy", "fashion", partial(mlp, hidden=(128, 64), activation="elu"), 3, 1e-3,
         how=USUAL.format(what="ELU, He init, Adam 1e-3")),
    Case("healthy-fashion-relu-bn", "healthy", "fashion", partial(mlp, hidden=(128, 64), batch_norm=True), 3, 1e-3,
         how=USUAL.format(what="ReLU with batch normalisation, Adam 1e-3")),
    Case("healthy-circles-relu", "healthy", "circles", partial(mlp, hidden=(32, 32)), 5, 1e-2,
         how=USUAL.format(what="ReLU, He init, Adam 1e-2")),
    Case("healthy-circles-binary", "healthy", "circles", partial(mlp, hidden=(32, 32), output="sigmoid"), 5, 1e-2,
         how=USUAL.format(what="ReLU, one sigmoid output, binary cross-entropy, Adam 1e-2")),
    Case("healthy-moons-tanh", "healthy", "moons", partial(mlp, hidden=(32, 32), activation="tanh", init="glorot_uniform"),
         5, 1e-2, how=USUAL.format(what="tanh, Glorot init, Adam 1e-2")),
    Case("healthy-blobs-relu", "healthy", "blobs", partial(mlp, hidden=(32, 32)), 5, 1e-2,
         how=USUAL.format(what="ReLU, He init, Adam 1e-2")),
    Case("healthy-cnn-digits", "healthy", "digits", partial(cnn, filters=(16, 32)), 3, 1e-3,
         how=USUAL.format(what="two ReLU convolutions, He init, Adam 1e-3")),
    Case("healthy-cnn-fashion", "healthy", "fashion", partial(cnn, filters=(8, 16)), 2, 1e-3,
         how=USUAL.format(what="two ReLU convolutions, He init, Adam 1e-3")),
]
