"""Gradient flow: the norm of the loss gradient with respect to each layer's kernel, and their ratio.

``grad_norm/<layer>`` is the Euclidean (Frobenius) norm of d(mean loss over the probe)/d(kernel),
computed in inference mode (``training=False``), for every layer with a trainable kernel in layer order.
``grad_ratio`` is the first layer's norm over the last's: far below 1 (we flag < 0.01) the early layers
barely learn, the vanishing gradients of deep sigmoid/tanh networks (Glorot & Bengio 2010); far above 1
(> 100) they explode.

Only :func:`loss_gradients` is backend-specific (TensorFlow's tape, JAX's ``grad`` over
``stateless_call``, PyTorch's autograd); everything else is ``keras.ops`` and NumPy. The norms over a probe
come from :func:`relulab.diagnostics.probe_pass.gradient_norms`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from relulab.diagnostics.recording import Tap
from relulab.diagnostics.sites import Site
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


def _losses(loss_fn: Callable[..., Any], y: Any, y_pred: Any) -> Any:
    """``loss_fn``'s unreduced values (one per example, or per element), whatever reduction a ``keras.losses.Loss``
    was made with (its ``"sum"`` would make the gradient grow with the batch)."""
    if isinstance(loss_fn, keras.losses.Loss):  # converted as Loss.__call__ converts them
        return loss_fn.call(ops.convert_to_tensor(y, dtype=loss_fn.dtype),
                            ops.convert_to_tensor(y_pred, dtype=loss_fn.dtype))
    return loss_fn(y, y_pred)


def loss_targets(loss_fn: Callable[..., Any], y: np.ndarray) -> np.ndarray:
    """``y`` in the dtype a ``keras.losses.Loss`` converts its targets to (:func:`_losses`), converted once in NumPy
    for a whole probe instead of by one more op in every pass; other losses take ``y`` as it is."""
    if isinstance(loss_fn, keras.losses.Loss):
        return np.asarray(y).astype(keras.backend.standardize_dtype(loss_fn.dtype), copy=False)
    return y


def _mean_loss(loss_fn: Callable[..., Any], y: Any, y_pred: Any) -> Any:
    """The mean of :func:`_losses`."""
    return ops.mean(_losses(loss_fn, y, y_pred))


def _mean_weights(losses: Any) -> Any:
    """The gradient of the mean with respect to each of ``losses``' values: ``1 / size`` everywhere. Handed to the
    backward pass as the upstream gradient, it gives the mean loss's gradient without the mean's own ops."""
    if None in losses.shape:  # traced with an unknown batch size
        return ops.ones_like(losses) / ops.cast(ops.size(losses), losses.dtype)
    dtype = keras.backend.standardize_dtype(losses.dtype)
    return ops.convert_to_tensor(np.full(tuple(losses.shape), 1.0 / math.prod(losses.shape), dtype))


Seen = list[tuple[Site, Any, Any]]  # (site, pre-activation, output) for each activation call of a pass


def loss_gradients(
    model: keras.Model, variables: Sequence[keras.Variable], x: Any, y: Any, loss_fn: Callable[..., Any],
    sites: Sequence[Site] = (),
) -> tuple[list[np.ndarray], Any, Seen]:
    """One forward and backward pass of ``model`` on ``(x, y)``, in inference mode.

    Returns d(mean loss)/d(each of ``variables``) as NumPy arrays (zeros where unused), the model's output,
    and what each of ``sites`` saw on the way (their pre-activations and outputs, concrete tensors that
    carry no gradient), so that one pass serves the activity and the gradient measurements.
    """
    grads, y_pred, seen = backend_gradients(model, variables, x, y, loss_fn, sites)
    return as_numpy(variables, grads), y_pred, seen


def as_numpy(variables: Sequence[keras.Variable], grads: Sequence[Any]) -> list[np.ndarray]:
    """The backend's gradients of ``variables`` as float64 NumPy arrays, zeros where a gradient is None (unused)."""
    return [np.zeros(v.shape, "float64") if g is None else ops.convert_to_numpy(g).astype("float64")
            for v, g in zip(variables, grads)]


def backend_gradients(
    model: keras.Model, variables: Sequence[keras.Variable], x: Any, y: Any, loss_fn: Callable[..., Any],
    sites: Sequence[Site] = (), state: tuple[list[Any], list[Any]] | None = None,
) -> tuple[list[Any], Any, Seen]:
    """:func:`loss_gradients` with the gradients as the backend's tensors (None where unused). It also runs
    inside a ``tf.function`` or, given the model's ``state`` (its trainable and non-trainable values) as
    arguments, inside ``jax.jit`` (:class:`relulab.diagnostics.probe_pass.ProbePass` compiles it)."""
    backend = keras.backend.backend()
    seen: Seen = []

    def record(site: Site, pre: Any, out: Any) -> None:
        seen.append((site, pre, out))

    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape, Tap(sites, record, exclusive=True):
            y_pred = model(x, training=False)
            losses = _losses(loss_fn, y, y_pred)
        grads = tape.gradient(losses, [v.value for v in variables], output_gradients=_mean_weights(losses))
    elif backend == "jax":
        import jax

        trainable, non_trainable = state if state is not None else model_state(model)

        def loss_of(values: list[Any]) -> tuple[Any, tuple[Any, list[tuple[Any, Any]]]]:
            seen.clear()  # traced afresh on every call: the sites seen are those of this trace
            with Tap(sites, record, exclusive=True):
                y_pred, _ = model.stateless_call(values, non_trainable, x, training=False)
            return _mean_loss(loss_fn, y, y_pred), (y_pred, [(pre, out) for _, pre, out in seen])

        all_grads, (y_pred, values) = jax.grad(loss_of, has_aux=True)(trainable)
        seen[:] = [(site, pre, out) for (site, _, _), (pre, out) in zip(seen, values)]
        index = {id(v): i for i, v in enumerate(model.trainable_variables)}
        grads = [all_grads[index[id(v)]] for v in variables]
    elif backend == "torch":
        import torch

        with Tap(sites, record, exclusive=True):
            y_pred = model(x, training=False)
        loss = _mean_loss(loss_fn, y, y_pred)
        grads = torch.autograd.grad(loss, [v.value for v in variables], allow_unused=True)
        y_pred = y_pred.detach()
        seen[:] = [(site, pre.detach(), out.detach()) for site, pre, out in seen]
    else:
        raise NotImplementedError(f"gradients on the {backend!r} backend")
    return list(grads), y_pred, seen


def model_state(model: keras.Model) -> tuple[list[Any], list[Any]]:
    """The values of ``model``'s trainable and non-trainable variables (what ``stateless_call`` takes)."""
    return [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables]


def frobenius(array: np.ndarray) -> float:
    """The Euclidean norm of all of ``array``'s values, without BLAS: ``np.linalg.norm`` calls BLAS's dot, whose
    threads contend with TensorFlow's during a ``fit`` (measured at an epoch's end: 0.14-8 ms for three kernels of
    an MLP, against 0.1 ms here)."""
    values = np.ravel(array)
    return math.sqrt(float(np.einsum("i,i", values, values)))


class GradientSum:
    """The mean-loss gradient of each kernel over a probe processed in batches (their size-weighted sum);
    ``named``: the model's ``(name, layer)`` kernel layers (:func:`~relulab.diagnostics.sites.kernel_layers`)."""

    def __init__(self, named: Sequence[tuple[str, keras.layers.Layer]], size: int) -> None:
        self.named = list(named)
        self.size = size
        self._total: list[np.ndarray] | None = None

    def add(self, grads: Sequence[np.ndarray], examples: int) -> None:
        """Add one batch's mean-loss gradients (float64 arrays, which a one-batch probe's sum keeps as given)."""
        weight = examples / self.size
        if self._total is None:
            self._total = [grad if weight == 1 else weight * grad for grad in grads]
            return
        for total, grad in zip(self._total, grads):
            total += weight * grad

    def norms(self) -> dict[str, float]:
        if self._total is None:
            return {name: 0.0 for name, _ in self.named}
        return {name: frobenius(g) for (name, _), g in zip(self.named, self._total)}


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
