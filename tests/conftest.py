"""Shared test helpers: backend-neutral gradients and a quiet TensorFlow."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def elementwise_grad(function, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(f(x), f'(x))`` for an elementwise ``function``, through the backend's own autodiff."""
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
    raise NotImplementedError(backend)


@pytest.fixture
def grad():
    return elementwise_grad


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts with the float32 policy and a clean Keras session."""
    yield
    keras.config.set_dtype_policy("float32")
    keras.backend.clear_session()
