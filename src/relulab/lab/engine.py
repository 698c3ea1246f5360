"""How the lab trains its runs: the engine interface, its result type, and the sequential engine.

An engine takes runs that share a dataset and hands back one :class:`RunResult` per run, as each
finishes, through ``on_result``; the caller (the lab) stores it. Engines differ only in how they
schedule the work: :class:`SequentialEngine` trains one Keras model after another with
:func:`relulab.training.train`, the loop ``relulab train`` runs (the reference),
the stacked engine trains many runs as one computation, and the Ray engine spreads work units
over a cluster.

Per-epoch history keys (every engine writes the same): ``loss``, ``accuracy`` (training, mean over
the epoch's batches), ``val_loss``, ``val_accuracy`` (test set, after the epoch), and with
diagnostics ``dead_fraction/<layer>``, ``sparsity/<layer>``, ``saturation/<layer>``,
``grad_norm/<layer>`` and ``grad_ratio``, where ``<layer>`` is ``dense_1``, ``dense_2``, ... for the
hidden layers and ``output`` for the softmax layer (gradient norms only).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import keras

from relulab.lab.grid import RunSpec


@dataclasses.dataclass
class RunResult:
    """One finished run: its per-epoch history and final test metrics."""

    spec: RunSpec
    history: dict[str, list[float]]
    test_loss: float
    test_accuracy: float
    seconds: float  # wall time of this run; for runs trained together, their time shared equally


class Engine(Protocol):
    """Anything that trains runs on a dataset and reports each result as it finishes."""

    name: str

    def train(
        self,
        runs: Sequence[RunSpec],
        dataset: Any,
        *,
        on_result: Callable[[RunResult], None],
        on_progress: Callable[[int], None] = lambda steps: None,
        diagnostics: bool = True,
    ) -> None:
        """Train every run of ``runs`` on ``dataset``; call ``on_result`` once per finished run and
        ``on_progress(n)`` after every ``n`` optimisation steps (of one run each) done."""


class SequentialEngine:
    """One :func:`relulab.training.train` per run (for a user's model, its model through
    :func:`relulab.training.fit`), in the runs' paired data order: the reference engine."""

    name = "sequential"

    def train(self, runs, dataset, *, on_result, on_progress=lambda steps: None, diagnostics=True) -> None:
        for spec in runs:
            on_result(self.train_one(spec, dataset, on_progress=on_progress, diagnostics=diagnostics))

    @staticmethod
    def train_one(spec: RunSpec, dataset: Any, *, on_progress=lambda steps: None, diagnostics=True) -> RunResult:
        from relulab import training

        counter = [_StepCounter(on_progress)]
        if spec.model is None:
            result = training.train(spec.train_config(monitor=diagnostics), dataset, callbacks=counter)
        else:
            from relulab.lab import user_model

            model = user_model.resolve(spec.model).build(
                spec.activation, seed=spec.seed, learning_rate=spec.learning_rate,
                input_shape=dataset.input_shape, num_classes=dataset.num_classes)
            result = training.fit(model, dataset, seed=spec.seed, epochs=spec.epochs, batch_size=spec.batch_size,
                                  monitor=diagnostics, callbacks=counter)
        return RunResult(spec, result.history, result.test_loss, result.test_accuracy, result.seconds)


class _StepCounter(keras.callbacks.Callback):
    """Reports finished steps once per epoch (no per-step Python work)."""

    def __init__(self, on_progress: Callable[[int], None]) -> None:
        super().__init__()
        self.on_progress = on_progress

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.on_progress(self.params.get("steps") or 0)
