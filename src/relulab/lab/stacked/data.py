"""A dataset as the stacked engine uses it: tensors, flattened examples, and the diagnostics probe."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import tensorflow as tf

from relulab.lab.stacked import diagnostics as diag


@dataclasses.dataclass(frozen=True)
class StackData:
    """A dataset as tensors, flattened to ``(examples, features)``, with the diagnostics probe."""

    x_train: tf.Tensor
    y_train: tf.Tensor
    x_test: np.ndarray
    y_test: np.ndarray
    x_probe: tf.Tensor
    y_probe: tf.Tensor
    input_shape: tuple[int, ...]
    num_classes: int

    @classmethod
    def from_dataset(cls, dataset: Any, probe_size: int = diag.PROBE_SIZE) -> StackData:
        x_train = np.asarray(dataset.x_train, dtype=np.float32).reshape(len(dataset.x_train), -1)
        y_train = np.asarray(dataset.y_train).astype(np.int32)
        probe = diag.probe_indices(len(x_train), probe_size)
        return cls(
            tf.constant(x_train), tf.constant(y_train),
            np.asarray(dataset.x_test, dtype=np.float32).reshape(len(dataset.x_test), -1),
            np.asarray(dataset.y_test).astype(np.int32),
            tf.constant(x_train[probe]), tf.constant(y_train[probe]),
            tuple(dataset.input_shape), int(dataset.num_classes),
        )

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Optimisation steps in one epoch (the last batch may be smaller)."""
    return math.ceil(n_train / batch_size)
