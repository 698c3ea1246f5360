"""The training step and epoch loop that every stack shares (the MLP's and the convolutional one).

A stack provides ``forward(x, training=...)`` returning per-run logits ``(K, b, classes)``, ``size`` (runs),
``batch_size`` and ``optimizer`` (a fused optimizer over its variables, :mod:`relulab.lab.stacked.fused`); the
mixin trains it on each run's own batches (``order``: ``(K, examples)``, each run's :func:`epoch_order`).
"""

from __future__ import annotations

import tensorflow as tf


class StackedSteps:
    """``_step`` (one optimisation step of every run) and ``_train_epoch_fn`` (one epoch, for ``tf.function``)."""

    def _step(self, x: tf.Tensor, y: tf.Tensor, index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """One step on the batches ``index`` ``(K, b)``, each run's own rows of the training set."""
        xb, yb = tf.gather(x, index), tf.gather(y, index)
        with tf.GradientTape() as tape:
            logits = self.forward(xb, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(yb, logits), axis=1)
            total = tf.reduce_sum(loss)
        self.optimizer.apply(tape.gradient(total, self.optimizer.variables))
        hits = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=yb.dtype), yb), tf.float32)
        return loss * tf.cast(tf.shape(index)[1], tf.float32), tf.reduce_sum(hits, axis=1)

    def _train_epoch_fn(self, x: tf.Tensor, y: tf.Tensor, order: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        size, b = int(order.shape[1]), self.batch_size
        full = size // b
        batches = tf.reshape(order[:, :full * b], (self.size, full, b))
        loss_sum, hits = tf.zeros([self.size]), tf.zeros([self.size])
        for i in tf.range(full):
            loss, hit = self._step(x, y, batches[:, i])
            loss_sum, hits = loss_sum + loss, hits + hit
        if size % b:  # the last, smaller batch (Keras weights each batch's mean loss by its size)
            loss, hit = self._step(x, y, order[:, full * b:])
            loss_sum, hits = loss_sum + loss, hits + hit
        return loss_sum / size, hits / size
