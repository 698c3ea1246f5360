"""``repair``: diagnose a model, train it under the remedies the diagnosis points to, keep the best.

    >>> result = repair(model, relulab.data.load("digits"), epochs=5)
    >>> print(result.to_text()); result.best; result.model.save("repaired.keras")
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from relulab import _validate
from relulab.diagnostics import diagnose
from relulab.diagnostics.advice import loss_findings
from relulab.diagnostics.gradients import resolve_loss
from relulab.diagnostics.probe import check_probe, subset
from relulab.diagnostics.report import Report
from relulab.diagnostics.targets import choose_loss, fit_labels
from relulab.remedies import candidates as catalogue
from relulab.remedies.repair_result import CandidateRow, RepairResult, summarise

VALIDATION_FRACTION = 0.2  # the last 20% of the training set choose the best candidate
PROBE_SIZE = 512  # training examples the diagnosis probes
DEFAULT_LEARNING_RATE = 1e-3  # when neither learning_rate nor a compiled optimizer gives one


@dataclasses.dataclass(frozen=True)
class _Split:
    """What :func:`relulab.training.fit` reads: training part, and the part it evaluates every epoch."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _learning_rate(model: keras.Model, given: float | None) -> float:
    if given is not None:
        return _validate.number(given, name="learning_rate", owner="repair", strictly_above=0.0)
    optimizer = getattr(model, "optimizer", None)
    rate = getattr(optimizer, "learning_rate", None)
    try:
        return float(keras.ops.convert_to_numpy(rate))
    except (TypeError, ValueError):  # None, or a schedule
        return DEFAULT_LEARNING_RATE


def _optimizer(model: keras.Model, learning_rate: float, clipnorm: float | None) -> keras.optimizers.Optimizer:
    """A new optimizer of the model's compiled class (Adam if none), its settings kept but the step and clip."""
    original = getattr(model, "optimizer", None)
    if not isinstance(original, keras.optimizers.Optimizer):
        return keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm)
    config = {**original.get_config(), "learning_rate": learning_rate}
    if clipnorm is not None:
        config.update(clipnorm=clipnorm, global_clipnorm=None, clipvalue=None)
    return original.__class__.from_config(config)


class _Steps(keras.callbacks.Callback):
    def __init__(self, progress: Any, total: int) -> None:
        super().__init__()
        self.progress, self.total = progress, total

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.progress.update(self.total, self.params.get("steps") or 0)


def _compiled(name: str, model: keras.Model, seed: int, *, loss: Any, learning_rate: float) -> keras.Model:
    """Candidate ``name``'s fresh model for ``seed``, compiled with the original's optimizer class and its change."""
    candidate = catalogue.CANDIDATES[name]
    new = candidate.build(model, seed)
    new.compile(optimizer=_optimizer(model, learning_rate * candidate.learning_rate_factor, candidate.clipnorm),
                loss=loss, metrics=["accuracy"])
    return new


def _result(new: keras.Model, history: dict[str, list[float]], test: tuple) -> dict[str, Any]:
    """One run's record: its trained model, last validation, test loss and accuracy, and training losses."""
    test_loss, test_accuracy = new.evaluate(*test, batch_size=1024, verbose=0)[:2]
    return {"model": new, "val_loss": history["val_loss"][-1], "val_accuracy": history["val_accuracy"][-1],
            "test_loss": float(test_loss), "test_accuracy": float(test_accuracy), "train_losses": history["loss"]}


def _train_alone(new: keras.Model, seed: int, split: _Split, test: tuple, *, epochs: int, batch_size: int,
                 callbacks: list) -> dict[str, Any]:
    from relulab.training import fit

    return _result(new, fit(new, split, seed=seed, epochs=epochs, batch_size=batch_size, callbacks=callbacks).history,
                   test)


def stack_groups(models: Sequence[keras.Model]) -> list[list[int]]:
    """Indices of ``models`` that the stacked engine trains side by side: groups of at least two that share an
    architecture, optimizer and learning rate, in stacks of at most 5
    (:func:`relulab.lab.stacked.conv_engine.stack_groups` with ``write_back``). A model qualifies when
    :func:`~relulab.lab.stacked.conv_engine.unstackable_reason` finds nothing (TensorFlow, float32, Adam or SGD
    without clipping, sparse categorical cross-entropy, a chain of
    Dense/Conv2D/pooling/dropout layers with activations relulab knows, a softmax output) and it has no PReLU
    (the stack hands back kernels and biases, not PReLU slopes). The others train one after another."""
    if keras.backend.backend() != "tensorflow":
        return []  # the stack is TensorFlow code: not even imported on the other backends
    from relulab.lab.stacked import conv_engine

    return conv_engine.stack_groups(models, write_back=True)[0]


def _train_all(jobs: Sequence[tuple[str, int]], model: keras.Model, split: _Split, test: tuple, settings: dict,
               progress: Any) -> list[dict[str, Any]]:
    """Every ``(candidate, seed)`` run: on the stacked engine where :func:`stack_groups` allows, side by side
    (each run with its own initial weights, data order and optimizer state, as alone), else one after another."""
    epochs, batch_size = settings["epochs"], settings["batch_size"]
    built = [_compiled(name, model, seed, loss=settings["loss"], learning_rate=settings["learning_rate"])
             for name, seed in jobs]
    steps = math.ceil(len(split.x_train) / batch_size)
    total = steps * epochs * len(jobs)
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    stacks = stack_groups(built)
    if stacks:
        from relulab.lab.stacked import conv_engine
    for members in stacks:
        histories = conv_engine.train_models([built[i] for i in members], [jobs[i][1] for i in members], split,
                                             epochs=epochs, batch_size=batch_size, diagnostics=False, write_back=True)
        for index, history in zip(members, histories):
            results[index] = _result(built[index], history, test)
        if progress is not None:
            progress.update(total, steps * epochs * len(members))
    for index, (name, seed) in enumerate(jobs):
        if results[index] is None:
            callbacks = [] if progress is None else [_Steps(progress, total)]
            results[index] = _train_alone(built[index], seed, split, test, epochs=epochs, batch_size=batch_size,
                                          callbacks=callbacks)
    return results


def _trained_findings(run: dict[str, Any], x: np.ndarray, y: np.ndarray, loss: Any) -> tuple:
    """The trained original's diagnosis with its loss history (None if it cannot be measured) and the advice
    codes it adds: a run that diverged or overshot also gets ``relulab.diagnostics.advice.DIVERGING_REMEDIES``."""
    try:
        report = diagnose(run["model"], x, y, loss=loss, history=run["train_losses"])
    except Exception:  # weights gone non-finite: the loss history alone says what to try
        return None, [code for finding in loss_findings(run["train_losses"]) for code in finding.remedies]
    return report, [advice.code for advice in report.advice]


def repair(
    model: keras.Model,
    dataset: Any,
    *,
    epochs: int = 5,
    learning_rate: float | None = None,
    batch_size: int = 32,
    seeds: Sequence[int] = (0, 1, 2),
    loss: Any = None,
    candidates: Sequence[str] | None = None,
    progress: Any = None,
) -> RepairResult:
    """Diagnose ``model``, train it and the remedies the diagnosis calls for on ``dataset``, keep the best.

    The model is diagnosed (:func:`relulab.diagnose`) on up to 512 training examples, then trained as
    given for seed 0 and diagnosed again after training; the advice of both diagnoses names the
    candidates (:mod:`relulab.remedies.candidates`; ``original`` always). Every candidate is trained for
    every seed from fresh weights (``clone_model`` under ``keras.utils.set_random_seed(seed)``; the
    original too, so that a seed pairs the same initial draw and data order across candidates), one run
    after another with :func:`relulab.training.fit`, or side by side on the lab's stacked engine where the
    architecture and training allow it (:func:`stack_groups`: on TensorFlow, Adam or SGD without clipping, sparse
    categorical cross-entropy, a chain of Dense/Conv2D layers; each run keeps its own initial weights, data order
    and optimizer state: the run alone up to rounding, dropout drawing its own masks). Runs train on the first 80% of the
    training set; the last 20% choose the best candidate by mean accuracy over seeds (a candidate must beat ``original`` to be
    chosen); the test set is only evaluated, never used to choose. No scaling is added: the repaired
    model takes the inputs the original takes.

    Args:
        model: a built Keras model with one input (Sequential or functional; a compiled loss and optimizer
            are reused). dataset: a :class:`relulab.data.Dataset` (or anything with ``x_train, y_train,
            x_test, y_test``) whose inputs fit the model.
        epochs, batch_size: of each run. learning_rate: default the compiled optimizer's, else 1e-3.
        seeds: one run per seed and candidate (>= 2 for intervals). loss: default the compiled loss, else
            one inferred from the output (:func:`relulab.diagnostics.targets.infer_loss`).
        candidates: train these (names of :data:`relulab.remedies.candidates.CANDIDATES`) instead of those the
            diagnosis points to. progress: an object with ``update(total_steps, done_steps)``, such as
            :class:`relulab.progress.StepProgress` (over the runs after the first, which the diagnosis needs).

    Returns:
        A :class:`RepairResult`: the diagnosis, one row per candidate, the best's name and its seed-0 model.

    Raises:
        TypeError / ValueError: data that does not fit the model (shape, labels out of range, NaN), a bad
            number, an unknown candidate, a model Keras cannot clone (a subclassed model).
    """
    epochs = _validate.positive_int(epochs, name="epochs", owner="repair")
    batch_size = _validate.positive_int(batch_size, name="batch_size", owner="repair")
    seeds = [_validate.seed(seed, name="seeds", owner="repair") for seed in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds of repair must hold at least one seed, each once. Received: seeds={tuple(seeds)}")
    names = None if candidates is None else catalogue.check_names(candidates)
    x, y = check_probe(model, dataset.x_train, dataset.y_train, owner="repair")
    x_test, y_test = check_probe(model, dataset.x_test, dataset.y_test, owner="repair")
    chosen, _ = choose_loss(model, loss)
    labels = (fit_labels(y, model, resolve_loss(model, chosen), owner="repair"),
              fit_labels(y_test, model, resolve_loss(model, chosen), owner="repair"))
    cut = len(x) - max(1, int(round(len(x) * VALIDATION_FRACTION)))
    if cut < 1:
        raise ValueError(f"dataset of repair must hold at least 2 training examples. Received: {len(x)}")
    split = _Split(x[:cut], labels[0][:cut], x[cut:], labels[0][cut:])
    x_probe, y_probe = subset(x, y, PROBE_SIZE)
    diagnosis = diagnose(model, x_probe, y_probe, loss=loss)
    rate = _learning_rate(model, learning_rate)
    settings = dict(loss=chosen, learning_rate=rate, epochs=epochs, batch_size=batch_size)
    test = (x_test, labels[1])
    first = _train_alone(_compiled("original", model, seeds[0], loss=chosen, learning_rate=rate), seeds[0], split,
                         test, epochs=epochs, batch_size=batch_size, callbacks=[])
    runs: dict[str, list[dict[str, Any]]] = {"original": [first]}
    trained, codes = _trained_findings(first, x_probe, y_probe, loss)
    if names is None:
        names = catalogue.from_advice([*(a.code for a in diagnosis.advice), *codes])
    skipped = {n: why for n in names if (why := catalogue.applicable(model, n))}
    names = [n for n in names if n not in skipped]
    # the bar covers the runs still to do (the original's first seed, trained above, is not in it)
    jobs = [(name, seed) for name in names for seed in seeds if (name, seed) != ("original", seeds[0])]
    for (name, _), run in zip(jobs, _train_all(jobs, model, split, test, settings, progress)):
        runs.setdefault(name, []).append(run)
    rows = summarise(names, runs, catalogue.CANDIDATES, skipped)
    score = [(-1.0 if math.isnan(row.val_accuracy) else row.val_accuracy, row) for row in rows if not row.skipped]
    best = max(score, key=lambda pair: pair[0])[1]
    if best.val_accuracy <= rows[0].val_accuracy:  # a remedy must beat the original to be chosen
        best = rows[0]
    chosen = runs[best.name][0]["model"]
    if chosen.optimizer is not None and not chosen.optimizer.built:  # trained in a stack: its optimizer never ran
        chosen.optimizer.build(chosen.trainable_variables)  # saved whole (Keras warns when it loads one saved unbuilt)
    return RepairResult(diagnosis, tuple(rows), best.name, chosen, trained, seeds=tuple(seeds))


__all__ = ["CandidateRow", "RepairResult", "Report", "repair"]
