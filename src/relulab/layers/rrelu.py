"""RReLU: the leaky rectifier with a random slope while training (Xu et al. 2015)."""

from __future__ import annotations

import numbers
from typing import Any

import keras

from relulab.activations import defaults
from relulab.activations.functions import rrelu
from relulab.activations.registry import register_layer
from relulab.layers.base import ActivationLayer


@register_layer("rrelu")
class RReLU(ActivationLayer):
    """Randomized leaky ReLU: in training ``x`` for ``x > 0`` and ``a * x`` otherwise, with a fresh
    ``a ~ U(lower, upper)`` per element (the centres of 65,536 equal steps of ``[lower, upper]``, two
    per 32-bit random draw); at inference the slope is ``(lower + upper) / 2``, exact in float64.

    Gradient: 1 for ``x > 0``, the drawn slope for ``x <= 0`` (at the kink too); the mean slope at
    inference. Deterministic at inference; the draws in training follow ``seed``.

    The defaults, PyTorch's 1/8 and 1/3, span the same slopes as the paper, which draws ``a' ~ U(3, 8)``
    and uses ``1 / a'``; the inference slopes differ slightly (0.229 here, 0.182 there). Inside
    ``Dense(..., activation=RReLU())`` the training flag reaches the layer through Keras' call context.

    Example:
        >>> keras.layers.Dense(64, activation=RReLU(seed=0))

    Args:
        lower: smallest slope, >= 0; default 1/8.
        upper: largest slope, >= lower; default 1/3.
        seed: int >= 0 for reproducible draws, or None (default).

    Reference: Xu, Wang, Chen & Li 2015, "Empirical Evaluation of Rectified Activations in
    Convolutional Network".
    """

    def __init__(
        self,
        lower: float = defaults.RRELU_LOWER,
        upper: float = defaults.RRELU_UPPER,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(dict(lower=lower, upper=upper), **kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise ValueError(f"seed of RReLU must be an integer >= 0 or None. Received: seed={seed!r}")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return rrelu(inputs, self.lower, self.upper, training=bool(training), seed=self.seed_generator)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}
