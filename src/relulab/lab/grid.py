"""What a comparison trains: an experiment's grid, expanded into runs.

A :class:`Grid` is activations x architectures x learning rates x seeds on one dataset (with a user's
``model``, see :mod:`relulab.lab.user_model`: activations x learning rates x seeds); each
combination is one :class:`RunSpec`. Runs with the same seed see the same initial weights in their
shared layers' shapes and the same data order (see :func:`epoch_order`), so differences between
activations are paired.
"""

from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import json
import math
from typing import Any

from relulab import _validate, activations, layers
from relulab.models import (DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, DEFAULT_HIDDEN, DEFAULT_INITIALIZER,
                            DEFAULT_LEARNING_RATE, check_activation, hidden_sizes, initializer)
from relulab.training import epoch_order  # noqa: F401  (the lab's data order is the training loop's)

# kernel_initializer="auto": the initialisation each activation is usually paired with.
AUTO_INITIALIZERS = {"rectifier": "he_normal", "smooth": "he_normal", "saturating": "glorot_uniform",
                     "linear": "glorot_uniform"}
AUTO_OVERRIDES = {"selu": "lecun_normal"}
MODEL_INITIALIZER = "model"  # a user's model keeps the initialisers its layers declare
# True while a grid read from a store is rebuilt (Grid.from_dict(stored=True)): its activations are taken as
# written (canonical, checked when the grid was made); nothing is imported, resolved or built again.
_STORED: contextvars.ContextVar[bool] = contextvars.ContextVar("relulab_stored_grid", default=False)


def auto_initializer(activation: str) -> str:
    """He et al. 2015 for rectifiers (and custom layers), LeCun for SELU (Klambauer et al. 2017),
    Glorot for sigmoid/tanh."""
    if layers.is_custom(activation):
        return AUTO_INITIALIZERS["rectifier"]
    entry = activations.resolve(activation).entry
    return AUTO_OVERRIDES.get(entry.name, AUTO_INITIALIZERS[entry.kind])


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One training run of the grid: everything that differs between runs of one experiment."""

    activation: str  # canonical activation spec
    hidden: tuple[int, ...]  # hidden widths
    learning_rate: float  # Adam step size
    seed: int  # initial weights and data order
    kernel_initializer: str  # resolved initializer name
    epochs: int  # passes over the training set
    batch_size: int  # examples per step
    model: str | None = None  # the user's model source (module:function or a saved model); None: the MLP

    @property
    def key(self) -> str:
        """A stable, readable identifier, unique within an experiment."""
        architecture = "x".join(map(str, self.hidden)) if self.model is None else self.model
        return f"{self.activation}|{architecture}|lr={self.learning_rate:g}|{self.kernel_initializer}|seed={self.seed}"

    @property
    def depth(self) -> int:
        return len(self.hidden)

    def steps(self, train_examples: int) -> int:
        """Optimisation steps of the whole run on ``train_examples`` (the last batch may be short)."""
        return self.epochs * math.ceil(train_examples / self.batch_size)

    @property
    def label(self) -> str:
        """The configuration this run is one seed of (what the summary averages over)."""
        return self.key.rsplit("|seed=", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        payload = {**dataclasses.asdict(self), "hidden": list(self.hidden)}
        if self.model is None:
            del payload["model"]  # as stores written before user models hold it
        return payload

    def train_config(self, *, monitor: bool) -> Any:
        """This run as the :class:`relulab.training.TrainConfig` that ``relulab train`` would run (its data
        settings are the grid's; the lab passes the loaded dataset)."""
        from relulab.training import TrainConfig

        return TrainConfig(activation=self.activation, hidden=self.hidden, kernel_initializer=self.kernel_initializer,
                           learning_rate=self.learning_rate, epochs=self.epochs, batch_size=self.batch_size,
                           seed=self.seed, monitor=monitor)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> RunSpec:
        return cls(**{**payload, "hidden": tuple(payload["hidden"])})


@dataclasses.dataclass(frozen=True)
class Grid:
    """An experiment: the grid, the data and the training settings shared by every run."""

    dataset: str = "digits"
    data_path: str | None = None
    activations: tuple[str, ...] = ("relu",)
    architectures: tuple[tuple[int, ...], ...] = (DEFAULT_HIDDEN,)
    learning_rates: tuple[float, ...] = (DEFAULT_LEARNING_RATE,)
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = DEFAULT_EPOCHS
    batch_size: int = DEFAULT_BATCH_SIZE
    kernel_initializer: str = DEFAULT_INITIALIZER  # or "auto" (per activation, see auto_initializer)
    scaling: str = "unit"
    train_size: int | None = None
    test_size: int | None = None
    baseline: str | None = None  # paired differences are taken against it; None: relu if in the grid, else the first
    diagnostics: bool = True  # record dead units and gradient flow every epoch
    model: str | None = None  # the user's model (module:function or a saved model) instead of the MLP family

    def __post_init__(self) -> None:
        owner = "the grid"
        if self.model is not None:
            self._check_model_settings()
        for name in ("activations", "architectures", "learning_rates", "seeds"):
            if not getattr(self, name):
                raise ValueError(f"{name} of {owner} is empty; give at least one value.")
        specs = tuple(self._canonical(spec) for spec in self.activations)
        if len(set(specs)) != len(specs):
            raise ValueError(f"activations of {owner} repeat a value. Received: activations={list(self.activations)}")
        object.__setattr__(self, "activations", specs)
        if self.baseline is None:
            object.__setattr__(self, "baseline", "relu" if "relu" in specs else specs[0])
        else:
            object.__setattr__(self, "baseline", self._canonical(self.baseline))
            if self.baseline not in specs:
                raise ValueError(f"baseline of {owner} must be one of the activations ({', '.join(specs)}). "
                                 f"Received: baseline={self.baseline!r}")
        if self.model is None:
            object.__setattr__(self, "architectures", tuple(hidden_sizes(list(a)) for a in self.architectures))
            if not _STORED.get():  # a stored grid was checked when it was made
                for spec in specs:  # e.g. PReLU's shared_axes must suit the (batch, width) input of every architecture
                    check_activation(spec, sorted({width for a in self.architectures for width in a}))
        for rate in self.learning_rates:
            _validate.number(rate, name="learning_rate", owner=owner, strictly_above=0.0)
        for seed in self.seeds:
            _validate.seed(seed, name="seeds", owner=owner)
        for name in ("architectures", "learning_rates", "seeds"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"{name} of {owner} repeat a value. Received: {name}={list(values)}")
        _validate.positive_int(self.epochs, name="epochs", owner=owner)
        _validate.positive_int(self.batch_size, name="batch_size", owner=owner)
        if self.model is None and self.kernel_initializer != "auto":
            initializer(self.kernel_initializer)

    def _check_model_settings(self) -> None:
        """With a user's model, the MLP's architecture and initializer settings do not apply."""
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"model of the grid must be 'package.module:function' or a saved model file. "
                             f"Received: model={self.model!r}")
        if tuple(map(tuple, self.architectures)) not in ((DEFAULT_HIDDEN,), ((),)):
            raise ValueError("architectures of the grid are the built-in MLP's; a model brings its own architecture. "
                             f"Received: architectures={[list(a) for a in self.architectures]} with model={self.model!r}")
        if self.kernel_initializer not in (DEFAULT_INITIALIZER, MODEL_INITIALIZER):
            raise ValueError(f"kernel_initializer of the grid is the built-in MLP's; a model keeps its own initialisers. "
                             f"Received: kernel_initializer={self.kernel_initializer!r} with model={self.model!r}")
        object.__setattr__(self, "architectures", ((),))
        object.__setattr__(self, "kernel_initializer", MODEL_INITIALIZER)

    @staticmethod
    def _canonical(spec: str) -> str:
        """The one spelling of ``spec`` (:func:`relulab.layers.canonical`), checked."""
        if _STORED.get():
            return spec  # a stored grid: canonical and checked when it was made; nothing is imported or rebuilt
        layers.get(spec)  # first, as train does: the layer's own checks (a float dtype) give train's message
        return layers.canonical(spec)

    def initializer_for(self, activation: str) -> str:
        if self.kernel_initializer == MODEL_INITIALIZER:
            return MODEL_INITIALIZER
        return auto_initializer(activation) if self.kernel_initializer == "auto" else self.kernel_initializer

    def runs(self) -> list[RunSpec]:
        """Every run, in a stable order: architecture, learning rate, seed, activation."""
        return [
            RunSpec(activation, hidden, float(rate), seed, self.initializer_for(activation), self.epochs,
                    self.batch_size, self.model)
            for hidden in self.architectures
            for rate in self.learning_rates
            for seed in self.seeds
            for activation in self.activations
        ]

    def to_dict(self) -> dict[str, Any]:
        payload = dataclasses.asdict(self)
        payload["architectures"] = [list(a) for a in self.architectures]
        for name in ("activations", "learning_rates", "seeds"):
            payload[name] = list(payload[name])
        if self.model is None:
            del payload["model"]  # so grids without a model keep the fingerprints stored before models existed
        return payload

    @classmethod
    def from_dict(cls, payload: dict[str, Any], *, stored: bool = False) -> Grid:
        """The grid ``payload`` (:meth:`to_dict`) describes, checked as the constructor checks it.
        ``stored=True`` (a grid read from ``results.db``) trusts its activation specs as written: canonical
        and checked when the grid was made, they are neither imported (a custom ``"module:Class"`` layer),
        nor resolved, nor built again; the rest of the payload is still checked."""
        token = _STORED.set(stored)
        try:
            return cls._from_dict(payload)
        finally:
            _STORED.reset(token)

    @classmethod
    def _from_dict(cls, payload: dict[str, Any]) -> Grid:
        payload = dict(payload)
        payload["architectures"] = tuple(tuple(a) for a in payload["architectures"])
        for name in ("activations", "learning_rates", "seeds"):
            payload[name] = tuple(payload[name])
        return cls(**payload)

    def fingerprint(self) -> str:
        """A short hash of what decides the runs: two grids with the same fingerprint train the same runs
        (the baseline only changes the analysis, so it is left out)."""
        payload = {k: v for k, v in self.to_dict().items() if k != "baseline"}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
