"""Train K Keras models of one convolutional architecture as one stack, or one after another.

The integration point of the convolutional stack (:mod:`relulab.lab.stacked.conv`):

- :func:`unstackable_reason` (``model -> str | None``) says whether a model can be stacked;
- :func:`train_models` trains models that can, together, each in its own data order, and returns
  each run's history (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` and, with diagnostics,
  ``dead_fraction/<activation layer>``, ``sparsity/...``, ``saturation/...``, ``grad_norm/<kernel layer>``,
  ``grad_ratio``), in the order given;
- :func:`stack_groups` says which models train together (groups of one architecture, optimizer and learning
  rate) and why the others train alone; ``relulab.remedies.repair`` uses it with ``write_back``;
- :func:`fit_all` stacks what it can (:func:`stack_groups`) and trains the rest
  with :func:`relulab.training.fit`, returning the histories and one note per model that fell back;
- :func:`train_runs` does the same for the lab's runs of a user's model (``relulab compare --model``), for
  :class:`~relulab.lab.stacked.engine.StackedEngine`.

Each model must be built as the sequential engine builds it, after ``keras.utils.set_random_seed(seed)``,
so that a stacked run starts from the weights it would have alone. Diagnostics are measured on a probe of
at most :data:`PROBE_SIZE` training examples spread over the set (fewer than the MLP's 1,024: a
convolution holds K feature maps per probe example).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from relulab.diagnostics.probe import CONV_PROBE_SIZE
from relulab.lab.stacked import conv_plan as plan
from relulab.lab.stacked import diagnostics as diag
from relulab.lab.stacked.conv import ConvStack
from relulab.lab.stacked.engine import balanced_chunks

PROBE_SIZE = CONV_PROBE_SIZE  # training examples in the diagnostics probe (the monitors' default for a CNN)
# Runs per stack: on the 2-core development machine (batch 32, models.cnn, 28x28 images) a step costs
# ~4.5-5 ms per run at 5 runs, ~9-17 ms per run at 8 or 15 (the stacked feature maps leave the cache).
MAX_STACK = 5
unstackable_reason = plan.unstackable_reason


def train_models(models: Sequence[keras.Model], seeds: Sequence[int], dataset: Any, *, epochs: int,
                 batch_size: int, diagnostics: bool = True, probe_size: int = PROBE_SIZE,
                 convolution: str | None = None, write_back: bool = False) -> list[dict[str, list[float]]]:
    """Train ``models`` (one architecture and learning rate; see the module docstring) as one stack;
    ``convolution``: how its Conv2D layers are computed (:class:`~relulab.lab.stacked.conv.ConvStack`; None:
    :func:`~relulab.lab.stacked.conv.default_convolution`);
    ``write_back``: copy each run's trained kernels and biases into its model afterwards
    (:meth:`~relulab.lab.stacked.conv.ConvStack.assign_to`; not PReLU slopes)."""
    specs = [tuple(op.spec for op in plan.describe(m) if op.kind == "activation") for m in models]
    order = sorted(range(len(models)), key=lambda i: specs[i])  # equal activations next to each other
    stack = ConvStack([models[i] for i in order], [seeds[i] for i in order], batch_size, convolution=convolution)
    x, y = tf.constant(np.asarray(dataset.x_train, np.float32)), tf.constant(np.asarray(dataset.y_train, np.int32))
    x_test, y_test = np.asarray(dataset.x_test, np.float32), np.asarray(dataset.y_test, np.int32)
    probe = diag.probe_indices(len(dataset.x_train), probe_size)
    histories: list[dict[str, list[float]]] = [{} for _ in order]
    for epoch in range(epochs):
        loss, accuracy = stack.train_epoch(x, y, epoch)
        val_loss, val_accuracy = stack.evaluate(x_test, y_test)
        extra = diagnose(stack, tf.gather(x, probe), tf.gather(y, probe)) if diagnostics else [{}] * len(order)
        for run, history in enumerate(histories):
            values = {"loss": loss[run], "accuracy": accuracy[run], "val_loss": val_loss[run],
                      "val_accuracy": val_accuracy[run], **extra[run]}
            for key, value in values.items():
                history.setdefault(key, []).append(float(value))
    result: list[dict[str, list[float]]] = [{} for _ in order]
    for position, index in enumerate(order):
        result[index] = histories[position]
        if write_back:
            stack.assign_to(models[index], position)
    return result


def stack_groups(models: Sequence[keras.Model], *, min_stack: int = 2, max_stack: int = MAX_STACK,
                 write_back: bool = False) -> tuple[list[list[int]], list[tuple[int, str]]]:
    """Which of ``models`` train together: stacks (index lists) of one architecture, optimizer and learning rate,
    each group of at least ``min_stack`` cut into stacks of at most ``max_stack`` with balanced sizes; and ``(index, why)``
    for each model that trains alone. With ``write_back`` a model with PReLU trains alone too:
    :meth:`~relulab.lab.stacked.conv.ConvStack.assign_to` hands back kernels and biases, not its slopes."""
    alone, groups = [], {}
    for index, model in enumerate(models):
        reason = unstackable_reason(model)
        if reason is None and write_back and any(
                op.kind == "activation" and op.spec.split("(")[0] == "prelu" for op in plan.describe(model)):
            reason = "its PReLU slopes would not be handed back to the model"
        if reason is None:
            groups.setdefault((plan.architecture(model), plan.step_of(model)), []).append(index)
        else:
            alone.append((index, reason))
    stacks = []
    for group in groups.values():
        if len(group) < min_stack:
            alone.extend((i, "no other run shares its architecture, optimizer settings and learning rate")
                         for i in group)
        else:
            stacks.extend(balanced_chunks(group, max_stack))
    return stacks, alone


def fit_all(models: Sequence[keras.Model], seeds: Sequence[int], dataset: Any, *, epochs: int, batch_size: int,
            diagnostics: bool = True, min_stack: int = 2,
            max_stack: int = MAX_STACK) -> tuple[list[dict[str, list[float]]], list[str]]:
    """Each model's history: stacked by architecture, optimizer and learning rate where possible (stacks of at
    most ``max_stack`` runs, sizes balanced), else ``training.fit``.

    Returns the histories in the order given and one line per model that was trained alone, saying why.
    """
    from relulab import training

    histories: list[dict[str, list[float]] | None] = [None] * len(models)
    stacks, alone = stack_groups(models, min_stack=min_stack, max_stack=max_stack)
    notes = [f"{models[i].name} (seed {seeds[i]}) trains alone: {reason}" for i, reason in alone]
    for members in stacks:
        trained = train_models([models[i] for i in members], [seeds[i] for i in members], dataset,
                               epochs=epochs, batch_size=batch_size, diagnostics=diagnostics)
        for index, history in zip(members, trained):
            histories[index] = history
    for index, model in enumerate(models):
        if histories[index] is None:
            callbacks = training.monitors(dataset) if diagnostics else []
            histories[index] = training.fit(model, dataset, seed=seeds[index], epochs=epochs, batch_size=batch_size,
                                            callbacks=callbacks).history
    return histories, notes


def train_runs(specs: Sequence[Any], dataset: Any, *, fallback: Any, on_result: Callable[[Any], None],
               on_progress: Callable[[int], None], diagnostics: bool, min_stack: int = 2,
               max_stack: int = MAX_STACK) -> list[str]:
    """Train the lab's runs of a user's model (:class:`~relulab.lab.grid.RunSpec` with ``model``): runs of one
    model, learning rate, epochs and batch size whose model the stack takes are trained in stacks of at most
    ``max_stack``; the others by ``fallback`` (one after another). Returns one line per reason that runs fell
    back, to be said once."""
    from relulab.lab import user_model
    from relulab.lab.engine import RunResult

    groups: dict[tuple, list[Any]] = {}
    for spec in specs:
        groups.setdefault((spec.model, spec.learning_rate, spec.epochs, spec.batch_size), []).append(spec)
    reasons: dict[str, int] = {}
    rest = []
    for group in groups.values():
        source = user_model.resolve(group[0].model)
        stackable = []
        for spec in group:
            model = source.build(spec.activation, seed=spec.seed, learning_rate=spec.learning_rate,
                                 input_shape=dataset.input_shape, num_classes=dataset.num_classes)
            reason = unstackable_reason(model)
            if reason is None:
                stackable.append((spec, model))
            else:
                reasons[reason] = reasons.get(reason, 0) + 1
                rest.append(spec)
        if len(stackable) < min_stack:
            if stackable:
                reasons["no other run shares its model and settings"] = len(stackable)
            rest.extend(spec for spec, _ in stackable)
            continue
        for chunk in balanced_chunks(stackable, max_stack):
            start = time.perf_counter()
            histories = train_models([model for _, model in chunk], [spec.seed for spec, _ in chunk], dataset,
                                     epochs=chunk[0][0].epochs, batch_size=chunk[0][0].batch_size,
                                     diagnostics=diagnostics)
            seconds = (time.perf_counter() - start) / len(chunk)
            for (spec, _), history in zip(chunk, histories):
                on_result(RunResult(spec, history, history["val_loss"][-1], history["val_accuracy"][-1], seconds))
            on_progress(sum(spec.steps(len(dataset.x_train)) for spec, _ in chunk))
    if rest:
        fallback.train(rest, dataset, on_result=on_result, on_progress=on_progress, diagnostics=diagnostics)
    return [f"{count} run(s) of the model trained one after another, not stacked: {reason}"
            for reason, count in reasons.items()]


def diagnose(stack: ConvStack, x: tf.Tensor, y: tf.Tensor) -> list[dict[str, float]]:
    """Per run: dead fraction, sparsity, saturation of each activation layer, kernel gradient norms."""
    fractions, norms = _probe(stack, x, y)
    entries = []
    for run in range(stack.size):
        logs = {}
        for layer, activation in enumerate(stack.activations.values()):
            name = stack.activation_names[run][layer]
            group = next(g for g in activation.groups if g.start <= run < g.stop)
            logs.update(diag.history_entries(group, name, *map(float, fractions[run, layer])))
        logs.update(diag.gradient_entries(norms[run], stack.kernel_names[run]))
        entries.append(logs)
    return entries


def _probe(stack: ConvStack, x: tf.Tensor, y: tf.Tensor) -> tuple[np.ndarray, np.ndarray]:
    bounds = np.array([diag.regimes(g) for a in stack.activations.values() for g in a.groups
                       for _ in range(g.start, g.stop)], np.float32).reshape(len(stack.activations), stack.size, 4)
    record: list = []
    with tf.GradientTape() as tape:
        logits = stack.forward(x, training=False, shared=True, record=record)
        labels = tf.broadcast_to(y[None], tf.shape(logits)[:2])
        total = tf.reduce_sum(tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits), 1))
    kernels = list(stack.kernels.values())
    norms = []
    for op_name, gradient in zip(stack.kernels, tape.gradient(total, kernels)):
        if gradient.shape.rank == 4:  # a grouped conv kernel (kh, kw, C, K*F)
            gradient = tf.transpose(tf.reshape(gradient, [-1, stack.size, gradient.shape[-1] // stack.size]), (1, 0, 2))
        norms.append(tf.sqrt(tf.reduce_sum(tf.square(tf.reshape(gradient, [stack.size, -1])), axis=1)))
    fractions = []
    for layer, (_, pre, out) in enumerate(record):
        flat = [tf.reshape(t, [stack.size, -1, t.shape[-1]]) for t in (pre, out)]
        fractions.append(tf.stack(diag.unit_fractions(*flat, *bounds[layer].T), axis=1))
    return tf.stack(fractions, axis=1).numpy(), tf.stack(norms, axis=1).numpy()
