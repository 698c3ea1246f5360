"""Keras' Adam and SGD for a stack's variables through TensorFlow's fused kernels: one pass over each variable per step.

Adam is Keras' ``Adam`` (no AMSGrad, no weight decay), its betas and epsilon given or Keras' defaults:
``m += (g - m)(1 - beta_1)``, ``v += (g^2 - v)(1 - beta_2)``, ``w -= lr_t m / (sqrt(v) + epsilon)`` with
``lr_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)``: ``ResourceApplyAdam`` computes exactly this in one kernel,
where Keras' optimizer runs about ten elementwise ops per variable (what that saves on the stacked MLP:
``benchmarks/README.md``). SGD is Keras' ``SGD``: ``w -= lr g`` without momentum (``ResourceApplyGradientDescent``);
with momentum ``mu``, ``u = mu u - lr g`` then ``w += u``, or ``w += mu u - lr g`` with Nesterov
(``ResourceApplyKerasMomentum``, the kernel written for Keras' formula). Both are elementwise, so one optimizer
over stacked variables is one optimizer per run, given one step. TensorFlow only.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf


class FusedAdam:
    """Adam slots and step count for ``variables``, updated by ``apply(gradients)`` inside a tf.function;
    ``beta_1``, ``beta_2`` and ``epsilon`` default to ``keras.optimizers.Adam``'s."""

    def __init__(self, variables: Sequence[tf.Variable], learning_rate: float, *, beta_1: float | None = None,
                 beta_2: float | None = None, epsilon: float | None = None) -> None:
        reference = keras.optimizers.Adam(learning_rate)
        self.variables = list(variables)
        self.learning_rate = float(learning_rate)
        self.beta_1 = float(reference.beta_1 if beta_1 is None else beta_1)
        self.beta_2 = float(reference.beta_2 if beta_2 is None else beta_2)
        self.epsilon = float(reference.epsilon if epsilon is None else epsilon)
        self.m = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]
        self.v = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False)

    def apply(self, gradients: Sequence[tf.Tensor]) -> None:
        step = tf.cast(self.iterations.assign_add(1), tf.float32)
        beta_1_power, beta_2_power = tf.pow(self.beta_1, step), tf.pow(self.beta_2, step)
        for variable, m, v, gradient in zip(self.variables, self.m, self.v, gradients):
            tf.raw_ops.ResourceApplyAdam(
                var=variable.handle, m=m.handle, v=v.handle, beta1_power=beta_1_power, beta2_power=beta_2_power,
                lr=self.learning_rate, beta1=self.beta_1, beta2=self.beta_2, epsilon=self.epsilon, grad=gradient,
            )


class FusedSGD:
    """SGD (with Keras' momentum and Nesterov) for ``variables``, updated by ``apply(gradients)`` in a tf.function."""

    def __init__(self, variables: Sequence[tf.Variable], learning_rate: float, *, momentum: float = 0.0,
                 nesterov: bool = False) -> None:
        self.variables = list(variables)
        self.learning_rate, self.momentum, self.nesterov = float(learning_rate), float(momentum), bool(nesterov)
        self.velocity = ([tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]
                         if self.momentum else [])
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False)

    def apply(self, gradients: Sequence[tf.Tensor]) -> None:
        self.iterations.assign_add(1)
        if not self.momentum:
            for variable, gradient in zip(self.variables, gradients):
                tf.raw_ops.ResourceApplyGradientDescent(var=variable.handle, alpha=self.learning_rate, delta=gradient)
            return
        for variable, velocity, gradient in zip(self.variables, self.velocity, gradients):
            tf.raw_ops.ResourceApplyKerasMomentum(var=variable.handle, accum=velocity.handle, lr=self.learning_rate,
                                                  grad=gradient, momentum=self.momentum, use_nesterov=self.nesterov)
