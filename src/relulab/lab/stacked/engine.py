"""The stacked engine: runs that share an architecture train as one computation, each its own model.

The article's MLP at batch 32 is too small for one ``fit`` to use the machine: per-step overhead
dominates. :class:`StackedEngine` stacks up to ``max_stack`` runs that share hidden widths, epochs, batch
size and learning rate into one :class:`~relulab.lab.stacked.stack.Stack` (weights ``(K, fan_in, fan_out)``,
one batched matmul per layer, one fused Adam, one ``tf.function`` call per epoch). Each run keeps what
it would have alone: the initial weights ``models.mlp`` gives it after
``keras.utils.set_random_seed(seed)``, its own Adam state, its own data order (:func:`epoch_order`,
gathered by index inside the step), metrics and diagnostics. It writes the history keys of
:mod:`relulab.lab.engine`; diagnostics are defined in :mod:`relulab.lab.stacked.diagnostics`.

Falls back to ``fallback`` (default :class:`SequentialEngine`) for:
- every run, when Keras' backend is not TensorFlow or the dtype policy is not float32 (the stack is
  written in TensorFlow, in float32);
- runs whose activation the stack cannot apply itself (:func:`~relulab.lab.stacked.activations.unstackable_reason`):
  a registered layer with its own ``call`` other than PReLU and RReLU (none in relulab's registry), or a
  custom layer class (``"package.module:Class"``) with variables; weightless custom layers are stacked;
- runs of a user's model (``--model``): the stack is built for the MLP family;
- runs with fewer than ``min_stack`` companions sharing their architecture, epochs, batch size and
  learning rate (default 2: a lone run has nothing to share).
RReLU runs are statistically the same model as alone, not bitwise: their random slopes are drawn
from ``(seed, layer, step)``, not from the Keras layer's generator.

Why this mechanism (the alternatives measured, and what bounds its speed): ``benchmarks/README.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from relulab.lab.engine import Engine, RunResult, SequentialEngine
from relulab.lab.grid import RunSpec
from relulab.lab.stacked.stack import EVAL_CHUNK, Stack
from relulab.lab.stacked.data import StackData, steps_per_epoch
from relulab.lab.stacked.activations import unstackable_reason

MAX_STACK = 32  # runs per stack; more runs per step use the machine better, until memory and cache run out
MIN_STACK = 2  # smaller groups go to the fallback engine


def stack_key(spec: RunSpec) -> tuple:
    """What runs must share to be stacked."""
    return spec.hidden, spec.epochs, spec.batch_size, spec.learning_rate


def balanced_chunks(items: Sequence[Any], limit: int) -> list[list[Any]]:
    """``items`` cut into the fewest chunks of at most ``limit``, of sizes differing by at most one."""
    count = -(-len(items) // limit)
    size, extra = divmod(len(items), count)
    chunks, start = [], 0
    for index in range(count):
        stop = start + size + (index < extra)
        chunks.append(list(items[start:stop]))
        start = stop
    return chunks


def memory_fits(spec: RunSpec, dataset: Any, probe_size: int) -> int:
    """How many runs like ``spec`` a stack can hold in this machine's memory (a lower bound per run: its
    parameters with Adam's state, and the activations of its largest batch: training, probe or evaluation)."""
    from relulab import _memory, models

    inputs = int(np.prod(dataset.input_shape))
    rows = max(spec.batch_size, probe_size, min(EVAL_CHUNK, len(dataset.x_test)))
    need = models.training_bytes(inputs, spec.hidden, dataset.num_classes, rows=rows)
    return _memory.available_bytes() // need


class StackedEngine:
    """Trains runs in stacks of up to ``max_stack``; see the module docstring for what falls back.

    Example:
        >>> StackedEngine().train(grid.runs(), dataset, on_result=store.add)

    Args:
        max_stack: most runs per stack, default 32. min_stack: fewer runs that could share a stack go
            to ``fallback``, default 2. fallback: the engine for what cannot be stacked, default
            :class:`SequentialEngine`. probe_size: training examples in the diagnostics probe, 1024.
    """

    name = "stacked"

    def __init__(self, *, max_stack: int = MAX_STACK, min_stack: int = MIN_STACK, fallback: Engine | None = None,
                 probe_size: int = 1024) -> None:
        from relulab import _validate

        self.max_stack = _validate.positive_int(max_stack, name="max_stack", owner="StackedEngine")
        self.min_stack = _validate.positive_int(min_stack, name="min_stack", owner="StackedEngine")
        self.probe_size = _validate.positive_int(probe_size, name="probe_size", owner="StackedEngine")
        self.fallback = SequentialEngine() if fallback is None else fallback

    def plan(self, runs: Sequence[RunSpec], *, fits: Callable[[RunSpec], int] | None = None,
             ) -> tuple[list[list[RunSpec]], list[RunSpec]]:
        """The stacks (runs sorted so equal activations are contiguous) and the runs left to the fallback.

        ``fits(spec)``: how many runs like ``spec`` fit in memory at once; a stack holds at most that many
        (default: ``max_stack``)."""
        if keras.backend.backend() != "tensorflow" or keras.config.dtype_policy().name != "float32":
            return [], list(runs)
        groups: dict[tuple, list[RunSpec]] = {}
        rest = []
        for spec in runs:
            if spec.model is None and unstackable_reason(spec.activation) is None:
                groups.setdefault(stack_key(spec), []).append(spec)
            else:
                rest.append(spec)
        stacks = []
        for group in groups.values():
            if len(group) < self.min_stack:
                rest.extend(group)
                continue
            first_seen = {a: i for i, a in reversed(list(enumerate(s.activation for s in group)))}
            ordered = sorted(group, key=lambda s: first_seen[s.activation])
            limit = self.max_stack if fits is None else max(1, min(self.max_stack, fits(group[0])))
            stacks.extend(balanced_chunks(ordered, limit))
        return stacks, rest

    def train(self, runs: Sequence[RunSpec], dataset: Any, *, on_result: Callable[[RunResult], None],
              on_progress: Callable[[int], None] = lambda steps: None, diagnostics: bool = True) -> None:
        stacks, rest = self.plan(runs, fits=lambda spec: memory_fits(spec, dataset, self.probe_size))
        data = StackData.from_dataset(dataset, self.probe_size) if stacks else None
        for specs in stacks:
            results, _ = self.train_stack(specs, data, on_progress=on_progress, diagnostics=diagnostics)
            for result in results:
                on_result(result)
        if rest:
            self.fallback.train(rest, dataset, on_result=on_result, on_progress=on_progress, diagnostics=diagnostics)

    def train_stack(self, specs: Sequence[RunSpec], data: StackData, *,
                    on_progress: Callable[[int], None] = lambda steps: None,
                    diagnostics: bool = True) -> tuple[list[RunResult], Stack]:
        """Train ``specs`` (one stack, as :meth:`plan` makes them) and return their results and the stack."""
        start = time.perf_counter()
        stack = Stack(specs, data.input_shape, data.num_classes)
        histories: list[dict[str, list[float]]] = [{} for _ in specs]
        steps = steps_per_epoch(data.n_train, stack.batch_size)
        for epoch in range(specs[0].epochs):
            loss, accuracy = stack.train_epoch(data, epoch)
            val_loss, val_accuracy = stack.evaluate(data.x_test, data.y_test)
            extra = stack.diagnose(data) if diagnostics else [{} for _ in specs]
            for run, history in enumerate(histories):
                values = {"loss": loss[run], "accuracy": accuracy[run], "val_loss": val_loss[run],
                          "val_accuracy": val_accuracy[run], **extra[run]}
                for key, value in values.items():
                    history.setdefault(key, []).append(float(value))
            on_progress(steps * len(specs))
        seconds = (time.perf_counter() - start) / len(specs)
        results = [RunResult(spec, history, history["val_loss"][-1], history["val_accuracy"][-1], seconds)
                   for spec, history in zip(specs, histories)]
        return results, stack
