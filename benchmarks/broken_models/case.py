"""One benchmark case: a planted problem, the data, and the code that builds the compiled model."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import keras

PROBLEMS = ("dying", "vanishing", "exploding", "collapsed", "healthy")  # the labels a case can carry


@dataclasses.dataclass(frozen=True)
class Case:
    """A small training setup with its planted problem (or ``"healthy"``).

    ``build(dataset, learning_rate=..., seed=...)`` returns a compiled Keras model for ``dataset``;
    the case trains it ``epochs`` passes over the training set in batches of ``batch_size``.
    """

    name: str
    problem: str  # one of PROBLEMS
    dataset: str  # a name of broken_models.datasets.NAMES
    build: Callable[..., keras.Model]
    epochs: int  # passes over the training set
    learning_rate: float  # the optimizer's step size
    batch_size: int = 32  # examples per step
    how: str = ""  # the planted cause, in words

    def __post_init__(self) -> None:
        if self.problem not in PROBLEMS:
            raise ValueError(f"problem of Case must be one of {', '.join(PROBLEMS)}. Received: problem={self.problem!r}")

    def model(self, dataset: Any, *, seed: int = 0) -> keras.Model:
        """The compiled model for ``dataset``, its initial weights drawn from ``seed``."""
        keras.utils.set_random_seed(seed)
        return self.build(dataset, learning_rate=self.learning_rate, seed=seed)

    def config(self) -> dict[str, Any]:
        """The case as plain data (the builder by its arguments)."""
        build = self.build
        arguments = getattr(build, "keywords", {})
        name = getattr(getattr(build, "func", build), "__name__", repr(build))
        return {"name": self.name, "problem": self.problem, "dataset": self.dataset, "epochs": self.epochs,
                "learning_rate": self.learning_rate, "batch_size": self.batch_size, "how": self.how,
                "builder": name, "arguments": {k: repr(v) for k, v in arguments.items()}}
