"""Gradient flow: the norm of the loss gradient with respect to each layer's kernel, and their ratio.

``grad_norm/<layer>`` is the Euclidean (Frobenius) norm of d(mean loss over the probe)/d(kernel),
computed in inference mode (``training=False``), for every layer with a trainable kernel in layer order.
``grad_ratio`` is the first layer's norm over the last's: far below 1 (we flag < 0.01) the early layers
barely learn, the vanishing gradients of deep sigmoid/tanh networks (Glorot & Bengio 2010); far above 1
(> 100) they explode.

Only :func:`loss_gradients` is backend-specific (TensorFlow's tape, JAX's ``grad`` over
``stateless_call``, PyTorch's autograd); everything else is ``keras.ops`` and NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from relulab.diagnostics.activity import DEFAULT_BATCH_SIZE
from relulab.diagnostics.sites import kernel_layers
from relulab.diagnostics.targets import choose_loss


def resolve_loss(model: keras.Model, loss: Any = None, *, owner: str = "diagnose") -> Callable[..., Any]:
    """The loss function to differentiate: ``loss`` if given, else the one ``model`` was compiled with,
    else one inferred from its output (:func:`relulab.diagnostics.targets.infer_loss`).

    Raises:
        ValueError: one loss per output (pass one explicitly), or an unknown loss name.
    """
    chosen, _ = choose_loss(model, loss)
    if isinstance(chosen, (dict, list, tuple)):
        raise ValueError(
            f"loss of {owner} must be one loss for a single-output model; pass one explicitly. "
            f"Received: loss={chosen!r}"
        )
    try:
        return keras.losses.get(chosen)
    except (ValueError, TypeError) as error:
        raise ValueError(f"loss of {owner} must be a Keras loss name or function. Received: loss={chosen!r}") from error


def _mean_loss(loss_fn: Callable[..., Any], y: Any, y_pred: Any) -> Any:
    return ops.mean(loss_fn(y, y_pred))


def loss_gradients(
    model: keras.Model, variables: Sequence[keras.Variable], x: Any, y: Any, loss_fn: Callable[..., Any]
) -> list[np.ndarray]:
    """d(mean loss of ``model`` on ``(x, y)``)/d(each variable) as NumPy arrays (zeros where unused)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = _mean_loss(loss_fn, y, model(x, training=False))
        grads = tape.gradient(loss, [v.value for v in variables])
    elif backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]

        def loss_of(values: list[Any]) -> Any:
            y_pred, _ = model.stateless_call(values, non_trainable, x, training=False)
            return _mean_loss(loss_fn, y, y_pred)

        all_grads = jax.grad(loss_of)(trainable)
        index = {id(v): i for i, v in enumerate(model.trainable_variables)}
        grads = [all_grads[index[id(v)]] for v in variables]
    elif backend == "torch":
        import torch

        loss = _mean_loss(loss_fn, y, model(x, training=False))
        grads = torch.autograd.grad(loss, [v.value for v in variables], allow_unused=True)
    else:
        raise NotImplementedError(f"gradients on the {backend!r} backend")
    return [np.zeros(v.shape, "float64") if g is None else ops.convert_to_numpy(g).astype("float64")
            for v, g in zip(variables, grads)]


def gradient_norms(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    loss_fn: Callable[..., Any],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, float]:
    """``{layer name: norm of the mean-loss gradient w.r.t. its kernel}`` over all of ``(x, y)``.

    The probe is processed in batches; the mean-loss gradient is their size-weighted average.
    """
    named = kernel_layers(model)
    variables = [layer.kernel for _, layer in named]
    total = [np.zeros(v.shape, "float64") for v in variables]
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        weight = len(xb) / len(x)
        grads = loss_gradients(model, variables, ops.convert_to_tensor(xb), ops.convert_to_tensor(yb), loss_fn)
        for acc, grad in zip(total, grads):
            acc += weight * grad
    return {name: float(np.linalg.norm(g)) for (name, _), g in zip(named, total)}


def gradient_ratio(norms: dict[str, float]) -> float | None:
    """First layer's gradient norm over the last layer's; None with fewer than two kernel layers.

    ``inf`` when only the last layer's norm is 0, ``nan`` when both are.
    """
    if len(norms) < 2:
        return None
    values = list(norms.values())
    first, last = values[0], values[-1]
    if last == 0:
        return math.nan if first == 0 else math.inf
    return first / last
