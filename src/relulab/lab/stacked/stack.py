"""K runs of the article's MLP with one architecture, trained as one TensorFlow computation.

Layout: layer ``l``'s kernels are one variable of shape ``(K, fan_in, fan_out)`` and its biases
``(K, fan_out)``; run ``k`` is slice ``k``, started from the weights ``models.mlp`` gives it alone after
``keras.utils.set_random_seed(spec.seed)``. A training step takes ``(K, b)`` indices, one row per run in
that run's own data order, gathers each run's batch, runs one batched matmul per layer, applies each
activation group once (:mod:`relulab.lab.stacked.activations`), and updates every variable with the fused
Adam kernel (:mod:`relulab.lab.stacked.fused`). The loss differentiated is the sum over runs of each run's
batch-mean cross-entropy, so each run's gradient is its own. One epoch is one call of a ``tf.function``
whose ``tf.range`` loop runs every step.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from relulab import models
from relulab.lab.stacked import diagnostics as diag
from relulab.lab.stacked.fused import FusedAdam
from relulab.lab.stacked.steps import StackedSteps
from relulab.lab.grid import RunSpec
from relulab.lab.stacked.data import StackData
from relulab.lab.stacked.activations import LayerActivations, groups_of
from relulab.layers import PReLU

EVAL_CHUNK = 4096  # test examples per forward pass of the evaluation


def initial_weights(spec: RunSpec, input_shape: Sequence[int], num_classes: int) -> dict[str, np.ndarray]:
    """The weights ``models.mlp`` starts ``spec`` from when it trains alone: ``{"dense_1/kernel": ...}``,
    with ``"<layer>/alpha"`` for PReLU slopes."""
    keras.utils.set_random_seed(spec.seed)
    model = models.mlp(input_shape, num_classes, hidden=spec.hidden, activation=spec.activation,
                       kernel_initializer=spec.kernel_initializer, learning_rate=spec.learning_rate, compile=False,
                       seed=spec.seed)
    weights = {}
    for name in models.kernel_layer_names(len(spec.hidden)):
        layer = model.get_layer(name)
        weights[f"{name}/kernel"] = np.asarray(layer.kernel)
        weights[f"{name}/bias"] = np.asarray(layer.bias)
        if isinstance(layer.activation, PReLU):
            if not layer.activation.built:  # built lazily on the first call of the model
                layer.activation.build((None, layer.units))
            weights[f"{name}/alpha"] = np.asarray(layer.activation.alpha).reshape(-1)
    return weights


class Stack(StackedSteps):
    """The variables, the compiled epoch, the evaluation and the diagnostics of stacked runs.

    ``specs`` must share hidden widths, epochs, batch size and learning rate, with equal activations next to
    each other (:class:`relulab.lab.stacked.engine.StackedEngine` sorts them so).
    """

    def __init__(self, specs: Sequence[RunSpec], input_shape: Sequence[int], num_classes: int) -> None:
        self.specs = list(specs)
        first = self.specs[0]
        shared = {(s.hidden, s.epochs, s.batch_size, s.learning_rate) for s in self.specs}
        if len(shared) > 1:
            raise ValueError(f"specs of Stack must share hidden widths, epochs, batch size and learning rate. "
                             f"Received: {sorted(shared)}")
        self.batch_size = first.batch_size
        self.names = models.kernel_layer_names(len(first.hidden))
        self.groups = groups_of([s.activation for s in self.specs])
        solo = [initial_weights(s, input_shape, num_classes) for s in self.specs]
        stacked = lambda key: np.stack([w[key] for w in solo])  # noqa: E731
        self.kernels = [tf.Variable(stacked(f"{n}/kernel"), name=f"{n}_kernel") for n in self.names]
        self.biases = [tf.Variable(stacked(f"{n}/bias"), name=f"{n}_bias") for n in self.names]
        seeds = [s.seed for s in self.specs]
        self.activations = [
            LayerActivations(self.groups, layer=i, seeds=seeds, alphas={
                index: np.stack([w[f"{name}/alpha"] for w in solo[g.start:g.stop]])
                for index, g in enumerate(self.groups) if f"{name}/alpha" in solo[g.start]})
            for i, name in enumerate(self.names[:-1])
        ]
        self.variables = [*self.kernels, *self.biases, *(v for a in self.activations for v in a.variables)]
        self.optimizer = FusedAdam(self.variables, first.learning_rate)
        self._train_epoch = tf.function(self._train_epoch_fn)
        self._evaluate = tf.function(self._evaluate_fn)
        self._probe = tf.function(self._probe_fn)

    @property
    def size(self) -> int:
        return len(self.specs)

    def forward(self, x: tf.Tensor, *, training: bool, shared: bool = False, record: list | None = None) -> tf.Tensor:
        """Logits ``(K, b, classes)`` for per-run inputs ``x`` ``(K, b, features)``, or for one input
        ``(b, features)`` shared by every run; ``record`` collects each hidden layer's (pre, out)."""
        h = x
        for index, activation in enumerate(self.activations):
            z = self._dense(index, h, shared=shared and index == 0)
            h = activation(z, training=training, step=self.optimizer.iterations)
            if record is not None:
                record.append((z, h))
        return self._dense(len(self.activations), h, shared=False)

    def _dense(self, index: int, h: tf.Tensor, *, shared: bool) -> tf.Tensor:
        kernel, bias = self.kernels[index], self.biases[index]
        z = tf.einsum("bi,kio->kbo", h, kernel) if shared else tf.matmul(h, kernel)
        return z + bias[:, None, :]

    def train_epoch(self, data: StackData, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """One epoch, each run in its own ``epoch_order``: per-run training (loss, accuracy)."""
        from relulab.lab.grid import epoch_order

        orders = {seed: epoch_order(seed, epoch, data.n_train) for seed in {spec.seed for spec in self.specs}}
        order = tf.constant(np.stack([orders[spec.seed] for spec in self.specs]).astype(np.int32))
        loss, accuracy = self._train_epoch(data.x_train, data.y_train, order)
        return loss.numpy(), accuracy.numpy()

    def _evaluate_fn(self, x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        logits = self.forward(x, training=False, shared=True)
        labels = tf.broadcast_to(y[None], tf.shape(logits)[:2])
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        hits = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=labels.dtype), labels), tf.float32)
        return tf.reduce_sum(loss, axis=1), tf.reduce_sum(hits, axis=1)

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-run mean loss and accuracy on ``(x, y)``, in inference mode."""
        loss, hits = np.zeros(self.size), np.zeros(self.size)
        for start in range(0, len(x), EVAL_CHUNK):
            chunk_loss, chunk_hits = self._evaluate(tf.constant(x[start:start + EVAL_CHUNK]),
                                                    tf.constant(y[start:start + EVAL_CHUNK]))
            loss, hits = loss + chunk_loss.numpy(), hits + chunk_hits.numpy()
        return loss / len(x), hits / len(x)

    def _probe_fn(self, x: tf.Tensor, y: tf.Tensor, bounds: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        record: list = []
        with tf.GradientTape() as tape:
            logits = self.forward(x, training=False, shared=True, record=record)
            labels = tf.broadcast_to(y[None], tf.shape(logits)[:2])
            total = tf.reduce_sum(tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits), 1))
        grads = tape.gradient(total, self.kernels)
        norms = tf.stack([tf.sqrt(tf.reduce_sum(tf.square(g), axis=(1, 2))) for g in grads], axis=1)
        slopes = [None] * len(record)
        if any(activation.custom for activation in self.activations):  # custom layers: dead through f'
            for index, (pre, _) in enumerate(record):
                with tf.GradientTape() as inner:
                    inner.watch(pre)
                    again = self.activations[index](pre, training=False, step=self.optimizer.iterations)
                slopes[index] = inner.gradient(again, pre)
        fractions = tf.stack([tf.stack(diag.unit_fractions(pre, out, *tf.unstack(bounds), slope), axis=1)
                              for (pre, out), slope in zip(record, slopes)], axis=1)
        return fractions, norms  # (K, hidden layers, 3), (K, kernel layers)

    def diagnose(self, data: StackData) -> list[dict[str, float]]:
        """Per run, its diagnostics keys for this moment (see :mod:`relulab.lab.stacked.diagnostics`)."""
        per_run = [diag.regimes(g) for g in self.groups for _ in range(g.start, g.stop)]
        fractions, norms = self._probe(data.x_probe, data.y_probe, tf.constant(np.array(per_run, np.float32).T))
        fractions, norms = fractions.numpy(), norms.numpy()
        entries = []
        for group in self.groups:
            for run in range(group.start, group.stop):
                logs = {}
                for layer, name in enumerate(self.names[:-1]):
                    logs.update(diag.history_entries(group, name, *map(float, fractions[run, layer])))
                logs.update(diag.gradient_entries(norms[run], self.names))
                entries.append(logs)
        return entries

    def weights(self, run: int) -> dict[str, np.ndarray]:
        """Run ``run``'s current weights, keyed as :func:`initial_weights` keys them."""
        weights = {}
        for layer, name in enumerate(self.names):
            weights[f"{name}/kernel"] = self.kernels[layer][run].numpy()
            weights[f"{name}/bias"] = self.biases[layer][run].numpy()
            alpha = self.activations[layer].alpha(run) if layer < len(self.activations) else None
            if alpha is not None:
                weights[f"{name}/alpha"] = alpha
        return weights

