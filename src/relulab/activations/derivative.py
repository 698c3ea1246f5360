"""The value and derivative of an elementwise activation through the Keras backend's own autodiff.

What backpropagation sees, including each backend's choice at a kink, rather than a finite
difference: used by the lab's activation plot and by the numerical tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np


def value_and_derivative(function: Callable[[Any], Any], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(f(x), f'(x))`` for an elementwise ``function`` (a pure function or a layer) at the points ``x``.

    Raises:
        NotImplementedError: a Keras backend other than TensorFlow, JAX or PyTorch.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            y = function(tensor)
        return np.asarray(y), np.asarray(tape.gradient(y, tensor))
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        y, pullback = jax.vjp(function, jnp.asarray(x))
        return np.asarray(y), np.asarray(pullback(jnp.ones_like(y))[0])
    if backend == "torch":
        import torch

        tensor = torch.tensor(x, requires_grad=True)
        y = function(tensor)
        y.backward(torch.ones_like(y))
        return y.detach().cpu().numpy(), tensor.grad.cpu().numpy()
    raise NotImplementedError(f"value_and_derivative cannot differentiate on the {backend!r} backend.")
