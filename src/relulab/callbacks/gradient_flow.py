"""``GradientFlowMonitor``: the norm of the loss gradient for each layer's kernel, and their ratio."""

from __future__ import annotations

from typing import Any

from relulab.callbacks._monitor import Key, Monitor, Request
from relulab.callbacks._seen import SeenGradients
from relulab.diagnostics.activity import DEFAULT_BATCH_SIZE
from relulab.diagnostics.gradients import gradient_ratio, resolve_loss
from relulab.diagnostics.sites import kernel_layers
from relulab.diagnostics.targets import chance_loss, fit_labels


def gradient_logs(norms: dict[str, float]) -> dict[str, float]:
    """``grad_norm/<layer>`` for each kernel layer and ``grad_ratio`` (first / last) when there are two."""
    logs = {f"grad_norm/{name}": value for name, value in norms.items()}
    ratio = gradient_ratio(norms)
    if ratio is not None:
        logs["grad_ratio"] = ratio
    return logs


class GradientFlowMonitor(Monitor):
    """Adds ``grad_norm/<layer>`` and ``grad_ratio`` to each epoch's logs.

    ``grad_norm/<layer>`` is the norm of the loss gradient with respect to the layer's kernel, for every
    layer with a trainable kernel; ``grad_ratio`` is the first layer's over the last layer's. A ratio
    far below 1 means the first layers hardly learn: vanishing gradients (Glorot & Bengio 2010).

    With a ``probe`` ``(x, y)`` (recommended) it is the gradient of the mean loss over at most
    ``probe_size`` examples, in inference mode, at each epoch's end (nothing per step). Without one,
    it is the mean over the epoch's steps of each step's gradient norm, taken from the gradients the
    optimizer applies (see :mod:`relulab.callbacks._seen`; TensorFlow and PyTorch).

    Put it before ``CSVLogger``, ``TensorBoard`` and ``EarlyStopping`` in ``callbacks``. State is reset
    in ``on_train_begin``.

    Example:
        >>> model.fit(x, y, epochs=5, callbacks=[GradientFlowMonitor((x[:1024], y[:1024]))])

    Args:
        probe: ``(x, y)``, or None for the batches seen.
        probe_size: at most this many probe examples are used; default 1024, or 256 for a model whose
            activations have positions (a convolution; :func:`relulab.diagnostics.probe.default_probe_size`).
        loss: the loss to differentiate in probe mode; default the model's compiled loss, else one inferred
            from the output layer (:func:`relulab.diagnostics.targets.infer_loss`). Labels are fitted to
            the loss (:func:`~relulab.diagnostics.targets.fit_labels`: integer labels one-hot for a
            categorical loss, ``(N,)`` as ``(N, 1)`` for a one-unit output).
        batch_frequency: also measure on the probe every N training batches, into the batch logs.
        batch_size: examples per forward/backward pass of the probe, default 1024.
    """

    owner = "GradientFlowMonitor"
    needs_targets = True

    def __init__(
        self,
        probe: tuple[Any, Any] | None = None,
        *,
        probe_size: int | None = None,
        loss: Any = None,
        batch_frequency: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        super().__init__(probe, probe_size=probe_size, batch_size=batch_size, batch_frequency=batch_frequency)
        self.loss = loss
        self.last: dict[str, float] = {}
        self.chance: float | None = None  # targets.chance_loss at the initial weights, set when training starts
        self._loss_fn: Any = None

    def _prepare(self) -> None:
        self.last = {}
        kernels = kernel_layers(self.model)
        if not kernels:
            raise ValueError(f"model of {self.owner} must have a layer with a trainable kernel. "
                             f"Received: model {self.model.name!r} without one")
        if self.x is not None:
            self._loss_fn = resolve_loss(self.model, self.loss, owner=self.owner)
            self.y = fit_labels(self.y, self.model, self._loss_fn, owner=self.owner)
            self.chance = chance_loss(self.model, self._loss_fn)
        else:
            self._start_seen(SeenGradients(self.model, kernels))

    def _request(self) -> Request:
        return Request(y=self.y, loss_fn=self._loss_fn)

    def _probe_values(self, key: Key) -> dict[str, float]:
        self.last = dict(self._measure(key).norms)
        return gradient_logs(self.last)

    def _seen_values(self) -> dict[str, float]:
        self.last = self._seen.read()
        return gradient_logs(self.last) if self.last else {}

