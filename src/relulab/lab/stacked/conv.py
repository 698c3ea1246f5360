"""K runs of one convolutional architecture, trained as one TensorFlow computation.

Layout: activations are ``(K, batch, height, width, channels)`` (``(K, batch, units)`` after Flatten).
A Conv2D's kernels are one variable ``(kh, kw, C, K*F)`` whose slice ``k*F:(k+1)*F`` is run ``k``'s
kernel. ``convolution="grouped"`` is one grouped convolution over the K runs' inputs side by
side on the channel axis, ``(batch, h, w, K*C)``, with transposes around it; ``"per_run"`` splits the
kernel and runs K convolutions in one graph: steps measured ~15% faster at 15 runs, but tracing ~4x
slower, so grouped wins on short grids (noisy, loaded 2-core machine) and is the default where TensorFlow
can differentiate it (:func:`grouped_gradients`; elsewhere the default is ``"per_run"``). Batched matmuls on
image patches (``tf.image.extract_patches``) were slower than both (``benchmarks/bench_cnn.py`` times the two kept).
The test set, one input for all runs, goes through the first convolution as one ordinary convolution
with ``K*F`` filters. Dense kernels are ``(K, in, out)`` with one batched
matmul; pooling runs on ``(K*batch, h, w, C)``; activations are applied per group of runs sharing a spec
(:class:`~relulab.lab.stacked.activations.LayerActivations`, PReLU slopes ``(runs, 1, 1, C)``); Dropout
draws a stateless mask per run from ``(run seed, layer, step)`` (like RReLU: the same model as alone,
not the same draws). Each run starts from its Keras model's weights, has its own optimizer state (Adam's
moments or SGD's velocity, :mod:`relulab.lab.stacked.fused`) and its own data order (index rows gathered
inside the step).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from relulab.lab.stacked import conv_plan as plan
from relulab.lab.stacked.steps import StackedSteps
from relulab.lab.stacked.activations import Group, LayerActivations, groups_of
from relulab.layers import PReLU

CONVOLUTIONS = ("grouped", "per_run")  # how a Conv2D of K runs is computed (default: default_convolution())
EVAL_CHUNK = 512  # test examples per forward pass (a conv layer holds K * chunk feature maps)


@functools.cache
def grouped_gradients() -> bool:
    """Whether TensorFlow differentiates a grouped convolution with respect to its input on the device it places
    one on. Its own CPU kernels do not ("Gradients for grouped convolutions are not supported on CPU", TensorFlow 2.20
    and 2.21 alike); its oneDNN kernels do, and TensorFlow uses those only where it turns oneDNN on: by default on
    CPUs with AVX-512, or with ``TF_ENABLE_ONEDNN_OPTS=1``. Checked once per process on a 1x3x3x4 input."""
    x, kernel = tf.zeros((1, 3, 3, 4)), tf.zeros((1, 1, 2, 4))
    try:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.conv2d(x, kernel, 1, "VALID")
        tape.gradient(y, x).numpy()
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
        return False
    return True


def default_convolution() -> str:
    """``"grouped"`` where TensorFlow can train it (:func:`grouped_gradients`), else ``"per_run"``."""
    return "grouped" if grouped_gradients() else "per_run"


def contiguous_groups(specs: Sequence[str]) -> list[Group]:
    """The maximal runs of equal specs in ``specs``; a spec may come back in two separate groups."""
    groups, start = [], 0
    for index in range(1, len(specs) + 1):
        if index == len(specs) or specs[index] != specs[start]:
            group = groups_of([specs[start]])[0]
            groups.append(Group(group.spec, start, index, group.entry, group.params, group.layer_class))
            start = index
    return groups


class ConvStack(StackedSteps):
    """The variables, forward pass and compiled epoch of K Keras models of one architecture.

    ``models``: compiled Keras models holding their initial weights, with equal operations
    (:func:`relulab.lab.stacked.conv_plan.describe`) except activation specs, and one optimizer and learning rate
    (:func:`relulab.lab.stacked.conv_plan.step_of`).
    Runs with equal activations should be next to each other (fewer activation calls).
    """

    def __init__(self, models: Sequence[keras.Model], seeds: Sequence[int], batch_size: int, *,
                 convolution: str | None = None) -> None:
        from relulab import _validate

        if convolution is None:
            convolution = default_convolution()
        self.convolution = _validate.one_of(convolution, CONVOLUTIONS, name="convolution", owner="ConvStack")
        if self.convolution == "grouped" and not grouped_gradients():
            raise ValueError(f"convolution of ConvStack cannot be 'grouped' here: TensorFlow {tf.__version__} cannot "
                             f"differentiate a grouped convolution on this device (on a CPU, only its oneDNN kernels "
                             f"can: TF_ENABLE_ONEDNN_OPTS=1); use 'per_run' or None (the default picks). Received: "
                             f"convolution='grouped'")
        described = [plan.describe(m) for m in models]
        # Layer names may differ between runs (Keras numbers unnamed layers globally): runs stack by position,
        # and each run keeps its own names for its weights and history (layer_names, activation_names).
        if any(plan.architecture(m) != plan.architecture(models[0]) for m in models):
            raise ValueError("models of ConvStack must share one architecture (their layers and sizes).")
        self.layer_names = [[op.name for op in ops] for ops in described]
        self.activation_names = [[op.name for op in ops if op.kind == "activation"] for ops in described]
        self.kernel_names = [[op.name for op in ops if op.kind in ("conv", "dense")] for ops in described]
        steps = {plan.step_of(m) for m in models}
        if len(steps) > 1:
            raise ValueError(f"models of ConvStack must share one optimizer and learning rate. Received: "
                             f"{sorted(str(step) for step in steps)}")
        self.ops, self.size, self.batch_size = described[0], len(models), int(batch_size)
        self.seeds = [int(s) for s in seeds]
        self.kernels: dict[str, tf.Variable] = {}
        self.biases: dict[str, tf.Variable] = {}
        self.activations: dict[str, LayerActivations] = {}
        for index, op in enumerate(self.ops):
            layers = [m.get_layer(d[index].name) for m, d in zip(models, described)]
            if op.kind in ("conv", "dense"):
                kernels = np.stack([np.asarray(layer.kernel) for layer in layers])
                if op.kind == "conv":  # (K, kh, kw, C, F) -> (kh, kw, C, K*F)
                    kernels = kernels.transpose(1, 2, 3, 0, 4).reshape(*kernels.shape[1:4], -1)
                self.kernels[op.name] = tf.Variable(kernels, name=f"{op.name}_kernel")
                bias = [np.asarray(layer.bias) if op.get("bias") else np.zeros(kernels.shape[-1] // (
                    self.size if op.kind == "conv" else 1), np.float32) for layer in layers]
                self.biases[op.name] = tf.Variable(np.stack(bias), name=f"{op.name}_bias",
                                                   trainable=bool(op.get("bias")))
            elif op.kind == "activation":
                specs = [d[index].spec for d in described]
                groups = contiguous_groups(specs)
                objects = [getattr(layer, "activation", layer) if not isinstance(layer, PReLU) else layer
                           for layer in layers]
                alphas = {g_index: np.stack([np.asarray(o.alpha) for o in objects[g.start:g.stop]])
                          for g_index, g in enumerate(groups) if isinstance(objects[g.start], PReLU)}
                self.activations[op.name] = LayerActivations(groups, layer=index, seeds=self.seeds, alphas=alphas)
        self.trainable = [*self.kernels.values(), *(b for b in self.biases.values() if b.trainable),
                          *(v for a in self.activations.values() for v in a.variables)]
        self.optimizer = steps.pop().fused(self.trainable)
        self._train_epoch = tf.function(self._train_epoch_fn)
        self._evaluate = tf.function(self._evaluate_fn, reduce_retracing=True)  # the last chunk is shorter

    def forward(self, h: tf.Tensor, *, training: bool, shared: bool = False, record: list | None = None) -> tf.Tensor:
        """Logits ``(K, b, classes)`` for per-run inputs ``(K, b, ...)``, or one input ``(b, ...)`` shared by
        every run; ``record`` collects ``(name, pre, out)`` of every activation."""
        for index, op in enumerate(self.ops):
            if shared and op.kind not in ("reshape", "conv", "dense"):
                h, shared = tf.broadcast_to(h[None], tf.concat([[self.size], tf.shape(h)], 0)), False
            if op.kind == "reshape":
                h = tf.reshape(h, [-1, *op.get("shape")] if shared else [self.size, -1, *op.get("shape")])
            elif op.kind == "flatten":
                h = tf.reshape(h, [self.size, -1, int(np.prod(h.shape[2:]))])
            elif op.kind == "conv":
                h, shared = self._conv(op, h, shared), False
            elif op.kind == "dense":
                kernel = self.kernels[op.name]
                h = tf.einsum("bi,kio->kbo", h, kernel) if shared else tf.matmul(h, kernel)
                h, shared = h + self.biases[op.name][:, None, :], False
            elif op.kind == "pool":
                h = self._pool(op, h)
            elif op.kind == "dropout" and training:
                h = self._dropout(op, index, h)
            elif op.kind == "activation":
                out = self.activations[op.name](h, training=training, step=self.optimizer.iterations)
                if record is not None:
                    record.append((op.name, h, out))
                h = out
        return h

    def _conv(self, op: plan.Op, h: tf.Tensor, shared: bool) -> tf.Tensor:
        kernel, strides, padding = self.kernels[op.name], op.get("strides"), op.get("padding")
        if self.convolution == "per_run" and not shared:
            kernels = tf.split(kernel, self.size, axis=-1)
            y = tf.stack([tf.nn.conv2d(x, k, strides, padding) for x, k in zip(tf.unstack(h), kernels)])
            return y + self.biases[op.name][:, None, None, None, :]
        if shared:  # one input for all runs: an ordinary convolution with K*F filters
            x = h
        else:  # (K, b, h, w, C) -> (b, h, w, K*C): a grouped convolution, K groups
            shape = tf.shape(h)
            x = tf.reshape(tf.transpose(h, (1, 2, 3, 0, 4)), [shape[1], shape[2], shape[3], self.size * h.shape[-1]])
        y = tf.nn.conv2d(x, kernel, strides, padding)
        filters = op.get("filters")
        y = tf.transpose(tf.reshape(y, [tf.shape(y)[0], y.shape[1], y.shape[2], self.size, filters]), (3, 0, 1, 2, 4))
        return y + self.biases[op.name][:, None, None, None, :]

    def _pool(self, op: plan.Op, h: tf.Tensor) -> tf.Tensor:
        pool = tf.nn.max_pool2d if op.get("mode") == "max" else tf.nn.avg_pool2d
        y = pool(tf.reshape(h, [-1, *h.shape[2:]]), op.get("size"), op.get("strides"), op.get("padding"))
        return tf.reshape(y, [self.size, -1, *y.shape[1:]])

    def _dropout(self, op: plan.Op, index: int, h: tf.Tensor) -> tf.Tensor:
        rate, step = op.get("rate"), tf.cast(self.optimizer.iterations, tf.int64)
        masks = [tf.random.stateless_uniform(tf.shape(h)[1:], seed=tf.stack([tf.constant(s * 1024 + index, tf.int64),
                                                                              step])) >= rate for s in self.seeds]
        return tf.where(tf.stack(masks), h / (1.0 - rate), tf.zeros_like(h))

    def train_epoch(self, x: tf.Tensor, y: tf.Tensor, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """One epoch, each run in its own ``epoch_order``: per-run training (loss, accuracy)."""
        from relulab.training import epoch_order

        n = int(x.shape[0])
        order = tf.constant(np.stack([epoch_order(seed, epoch, n) for seed in self.seeds]).astype(np.int32))
        loss, accuracy = self._train_epoch(x, y, order)
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

    def assign_to(self, model: keras.Model, run: int) -> None:
        """Copy run ``run``'s current kernels and biases into ``model``, the Keras model it was stacked from.

        PReLU slopes are not copied: :meth:`weights` holds kernels and biases only.
        """
        for key, value in self.weights(run).items():
            layer, weight = key.rsplit("/", 1)
            getattr(model.get_layer(layer), weight).assign(value)

    def weights(self, run: int) -> dict[str, np.ndarray]:
        """Run ``run``'s current kernels and biases under its own layer names, ``{"conv_1/kernel": ...}``, shaped as
        in Keras."""
        weights = {}
        for op, name in zip(self.ops, self.layer_names[run]):
            if op.kind in ("conv", "dense"):  # an inline activation's op has its layer's name too
                kernel = self.kernels[op.name].numpy()
                if op.kind == "conv":
                    f = op.get("filters")
                    kernel = kernel[..., run * f:(run + 1) * f]
                else:
                    kernel = kernel[run]
                weights[f"{name}/kernel"] = kernel
                if op.get("bias"):
                    weights[f"{name}/bias"] = self.biases[op.name][run].numpy()
        return weights
