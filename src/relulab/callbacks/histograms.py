"""``ActivationHistograms``: each activation layer's pre-activation histogram per epoch, in TensorBoard.

Keras 3's ``TensorBoard(histogram_freq=...)`` histograms weights only; users have asked for activations
since keras#15972 (tf-keras#118). This callback runs a fixed probe through the model after every
``freq``-th epoch (eagerly, ``training=False``) and writes, for every activation site that
:func:`relulab.diagnostics.find_sites` finds (activation layers and ``Dense/Conv(activation=...)``), the
histogram of its pre-activation as ``pre_activation/<layer>`` and of its output as ``activation/<layer>``,
at step = epoch, into ``<log_dir>/train``: the run that Keras' own TensorBoard callback writes its
training scalars to, so both appear together. Non-finite values (a diverged run) are left out of the
histogram and counted in the scalar ``nonfinite/<layer>``.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np
from keras import ops

from relulab import _validate
from relulab.diagnostics.activity import DEFAULT_BATCH_SIZE, batches
from relulab.diagnostics.probe import DEFAULT_PROBE_SIZE, subset
from relulab.diagnostics.recording import Tap
from relulab.diagnostics.sites import Site, find_sites

MAX_VALUES = 100_000  # values per layer and epoch kept for a histogram: every k-th one beyond that


class ActivationHistograms(keras.callbacks.Callback):
    """Pre-activation and activation histograms of every activation layer, per epoch, for TensorBoard.

    Example:
        >>> model.fit(x, y, epochs=5, callbacks=[
        ...     keras.callbacks.TensorBoard("logs"), ActivationHistograms(x_val, "logs")])
        >>> # tensorboard --logdir logs: HISTOGRAMS shows pre_activation/dense_1, activation/dense_1, ...

    Args:
        x: probe inputs; ``probe_size`` examples spread evenly over them are used (default 1,024).
        log_dir: TensorBoard log folder; histograms go to ``<log_dir>/train``.
        freq: write after every ``freq``-th epoch (default 1).
        max_values: values per layer and epoch kept, evenly strided (default 100,000).

    Raises:
        ValueError: ``freq``, ``probe_size`` or ``max_values`` < 1, or an empty ``x``.
    """

    def __init__(self, x: Any, log_dir: str | os.PathLike[str], *, freq: int = 1,
                 probe_size: int = DEFAULT_PROBE_SIZE, max_values: int = MAX_VALUES) -> None:
        super().__init__()
        owner = "ActivationHistograms"
        self.freq = _validate.positive_int(freq, name="freq", owner=owner)
        _validate.positive_int(probe_size, name="probe_size", owner=owner)
        self.max_values = _validate.positive_int(max_values, name="max_values", owner=owner)
        x = np.asarray(x)
        if x.ndim < 1 or len(x) == 0:
            raise ValueError(f"x of {owner} must hold at least one example. Received: x of shape {x.shape}")
        self.x, _ = subset(x, None, probe_size)
        self.log_dir = os.fspath(log_dir)
        self._writer: Any = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        import tensorflow as tf

        self._close()
        self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "train"))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch + 1) % self.freq:
            return
        import tensorflow as tf

        values = self.collect()
        with self._writer.as_default(step=epoch):
            for name, (pre, out) in values.items():
                for tag, array in (("pre_activation", pre), ("activation", out)):
                    finite = array[np.isfinite(array)]
                    if finite.size:
                        tf.summary.histogram(f"{tag}/{name}", finite, step=epoch)
                    if tag == "pre_activation" and finite.size < array.size:
                        tf.summary.scalar(f"nonfinite/{name}", array.size - finite.size, step=epoch)
        self._writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        self._close()

    def collect(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{layer: (pre-activations, outputs)}`` of every site on the probe, flattened and strided."""
        sites = find_sites(self.model)
        seen: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {site.name: ([], []) for site in sites}

        def keep(site: Site, pre: Any, out: Any) -> None:
            seen[site.name][0].append(ops.convert_to_numpy(ops.stop_gradient(pre)).ravel())
            seen[site.name][1].append(ops.convert_to_numpy(ops.stop_gradient(out)).ravel())

        with Tap(sites, keep, exclusive=True):
            for chunk in batches(self.x, DEFAULT_BATCH_SIZE):
                self.model(ops.convert_to_tensor(chunk), training=False)
        return {name: (self._strided(pre), self._strided(out)) for name, (pre, out) in seen.items() if pre}

    def _strided(self, parts: list[np.ndarray]) -> np.ndarray:
        values = np.concatenate(parts).astype(np.float64)
        step = -(-values.size // self.max_values)
        return values[::step]

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
