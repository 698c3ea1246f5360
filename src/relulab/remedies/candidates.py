"""The candidate remedies that :func:`relulab.remedies.repair` trains: each a fresh model plus optimizer changes.

A :class:`Candidate` builds, for one seed, a new model of the user's architecture with fresh weights
(``keras.models.clone_model`` under ``keras.utils.set_random_seed(seed)``, so every candidate of a seed
starts from the same draw where the architecture allows) and the one change it stands for:

===============  ===========================================================  ==========================
name             change                                                       advice code it answers
===============  ===========================================================  ==========================
original         none: the architecture as given, fresh weights                (always trained)
relu_he          saturating hidden activations -> relu, kernels He normal      ``rectifier``
leaky_relu       rectifiers -> ``leaky_relu(negative_slope=0.1)``              ``leaky_rectifier``
prelu            rectifiers -> ``prelu``                                       ``leaky_rectifier``
he_init          every kernel He normal, biases zero                           ``he_init``
rai              every kernel and bias drawn by RAI (Lu et al. 2019)           ``rai``
batch_norm       BatchNormalization between each hidden kernel and activation  ``batch_norm``
lower_lr         the learning rate times 0.1                                   ``lower_learning_rate``
lower_lr_100     the learning rate times 0.01 (training that diverged)          ``much_lower_learning_rate``
clipnorm         the optimizer's ``clipnorm=1.0``                              ``gradient_clipping``
===============  ===========================================================  ==========================

The output layer's activation (softmax, a sigmoid unit) is never changed. ``batch_norm`` rebuilds the model
layer by layer and so needs a Sequential or functional model without nested models; for others it is skipped
with a reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from relulab.diagnostics.sites import find_sites, walk
from relulab.initializers import apply_rai
from relulab.remedies.swap import swap_activation, swappable_sites

LEAKY = "leaky_relu(negative_slope=0.1)"
LEARNING_RATE_FACTOR = 0.1  # the lower_lr candidate's step size, relative to the original
CLIPNORM = 1.0  # the clipnorm candidate's bound on each gradient's norm


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One remedy: ``build(model, seed)`` returns the fresh, uncompiled model to train."""

    name: str
    change: str
    build: Callable[[keras.Model, int], keras.Model]
    learning_rate_factor: float = 1.0
    clipnorm: float | None = None


def fresh(model: keras.Model, seed: int) -> keras.Model:
    """``model``'s architecture with weights drawn anew by its own initializers, seeded by ``seed``."""
    keras.utils.set_random_seed(seed)
    try:
        return keras.models.clone_model(model)
    except (ValueError, TypeError, NotImplementedError) as error:
        raise ValueError(f"model of repair must be a Sequential or functional model that Keras can clone (each "
                         f"seed starts from fresh weights). Received: model {model.name!r} ({error})") from error


def he_reinitialise(model: keras.Model, seed: int) -> keras.Model:
    """Every kernel of ``model`` redrawn He normal (seeded), every bias set to zero; in place, returned."""
    for index, (_, layer) in enumerate(walk(model)):
        kernel = getattr(layer, "kernel", None)
        if not isinstance(kernel, keras.Variable):
            continue
        draw = keras.initializers.HeNormal(seed=seed * 1000 + index)
        kernel.assign(draw(tuple(kernel.shape), dtype=kernel.dtype))
        bias = getattr(layer, "bias", None)
        if isinstance(bias, keras.Variable):
            bias.assign(np.zeros(tuple(bias.shape), dtype=bias.dtype))
    return model


def _relu_he(model: keras.Model, seed: int) -> keras.Model:
    return he_reinitialise(swap_activation(fresh(model, seed), "relu", kinds=("saturating",)), seed)


def _rai(model: keras.Model, seed: int) -> keras.Model:
    new = fresh(model, seed)
    apply_rai(new, seed=seed)
    return new


def batch_norm_model(model: keras.Model, seed: int) -> keras.Model:
    """A rebuild of ``model`` (Sequential or functional) with ``BatchNormalization`` before every hidden activation.

    ``Dense/Conv(activation=f)`` becomes ``Dense/Conv(activation=None)``, ``BatchNormalization``,
    ``Activation(f)``; a separate activation layer gets ``BatchNormalization`` in front of it unless one is there
    already. The output layers are never changed. A functional model keeps its graph (branches, skip
    connections, shared layers): Keras' ``clone_model`` calls each layer anew, and the normalisation goes in at
    each call of a hidden activation.

    Raises:
        ValueError: a model not built, subclassed, with nested models (Keras would reuse their weights), with
            ``channels_first`` layers, without a hidden activation, or with batch normalisation before every
            hidden activation already; the message says which.
    """
    if not model.built or not getattr(model, "inputs", None):
        raise ValueError("the model is not built: give it a keras.Input or call it on data first")
    if any(isinstance(layer, keras.Model) for layer in model.layers):
        raise ValueError("only a Sequential or functional model without nested models is rebuilt with batch "
                         "normalisation")
    if any(getattr(layer, "data_format", None) == "channels_first" for layer in model.layers):
        raise ValueError("a channels_first model is not rebuilt with batch normalisation (its axis would be the "
                         "channels', which a separate activation layer does not say)")
    sites = {id(site.layer): site for site in find_sites(model)}
    outputs = set(getattr(model, "output_names", None) or ()) | {model.layers[-1].name}
    if not any(site.layer.name not in outputs for site in sites.values()):
        raise ValueError("the model has no hidden activation")
    names = _Names({layer.name for layer in model.layers})
    added: list[keras.layers.Layer] = []

    def normalisation() -> keras.layers.Layer:
        added.append(keras.layers.BatchNormalization(name=names.new("batch_normalization")))
        return added[-1]

    def hidden(layer: keras.layers.Layer) -> Any:
        return None if layer.name in outputs else sites.get(id(layer))

    keras.utils.set_random_seed(seed)
    if isinstance(model, keras.Sequential):
        layers: list[Any] = [keras.Input(model.inputs[0].shape[1:], dtype=model.inputs[0].dtype)]
        previous = None
        for layer in model.layers:
            site = hidden(layer)
            if site is not None and site.inline:
                layers += [_without_activation(layer), normalisation(), _activation_of(layer, names)]
            elif site is not None and not isinstance(previous, keras.layers.BatchNormalization):
                layers += [normalisation(), layer.__class__.from_config(layer.get_config())]
            else:
                layers.append(layer.__class__.from_config(layer.get_config()))
            if not isinstance(layer, PASS_THROUGH):  # BN -> Dropout -> activation is normalised already
                previous = layer
        rebuilt = keras.Sequential(layers, name=f"{model.name}_bn")
    else:
        origin: dict[int, keras.layers.Layer] = {}  # clone -> the original layer

        def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
            site = hidden(layer)
            new = _without_activation(layer) if site is not None and site.inline else \
                layer.__class__.from_config(layer.get_config())
            origin[id(new)] = layer
            return new

        def call(layer: keras.layers.Layer, *args: Any, **kwargs: Any) -> Any:
            original = origin.get(id(layer))
            site = None if original is None else hidden(original)
            if site is None:
                return layer(*args, **kwargs)
            if site.inline:
                return _activation_of(original, names)(normalisation()(layer(*args, **kwargs)))
            if isinstance(_source(args[0]), keras.layers.BatchNormalization):
                return layer(*args, **kwargs)  # normalised already
            return layer(normalisation()(args[0]), *args[1:], **kwargs)

        try:
            rebuilt = keras.models.clone_model(model, clone_function=clone, call_function=call)
        except ValueError as error:
            if "Functional" not in str(error) and "functional" not in str(error):
                raise
            raise ValueError(f"only a Sequential or functional model is rebuilt with batch normalisation ({error})") \
                from error
        rebuilt.name = f"{model.name}_bn"
    if not added:
        raise ValueError("the model has batch normalisation before every hidden activation already")
    return rebuilt


# layers that leave their input's normalisation as it is (in inference), looked through for a BatchNormalization
PASS_THROUGH = (keras.layers.Dropout, keras.layers.GaussianNoise, keras.layers.GaussianDropout,
                keras.layers.AlphaDropout, keras.layers.ActivityRegularization)


def _source(tensor: Any) -> Any:
    """The layer that produced the symbolic ``tensor``, looking through :data:`PASS_THROUGH` layers."""
    while True:
        history = getattr(tensor, "_keras_history", None)
        layer = None if history is None else history[0]
        if not isinstance(layer, PASS_THROUGH):
            return layer
        try:
            tensor = layer.input
        except (AttributeError, ValueError):  # a pass-through layer called more than once: look no further
            return layer


class _Names:
    """New layer names that no layer of the model (or an earlier new one) has."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)

    def new(self, base: str) -> str:
        name, number = base, 0
        while name in self.taken:
            number += 1
            name = f"{base}_{number}"
        self.taken.add(name)
        return name


def _without_activation(layer: keras.layers.Layer) -> keras.layers.Layer:
    return layer.__class__.from_config({**layer.get_config(), "activation": None})


def _activation_of(layer: keras.layers.Layer, names: _Names) -> keras.layers.Layer:
    """``layer``'s own activation as an ``Activation`` layer named after it."""
    return keras.layers.Activation(layer.activation, name=names.new(f"{layer.name}_activation"))


def _swap(spec: str) -> Callable[[keras.Model, int], keras.Model]:
    return lambda model, seed: swap_activation(fresh(model, seed), spec)


CANDIDATES: dict[str, Candidate] = {c.name: c for c in (
    Candidate("original", "none (the model as given, fresh weights)", fresh),
    Candidate("relu_he", "saturating hidden activations -> relu with He initialisation", _relu_he),
    Candidate("leaky_relu", f"rectifiers -> {LEAKY}", _swap(LEAKY)),
    Candidate("prelu", "rectifiers -> prelu", _swap("prelu")),
    Candidate("he_init", "He normal kernels, zero biases", lambda m, s: he_reinitialise(fresh(m, s), s)),
    Candidate("rai", "RAI initialisation (Lu et al. 2019)", _rai),
    Candidate("batch_norm", "BatchNormalization before each hidden activation", batch_norm_model),
    Candidate("lower_lr", f"learning rate x{LEARNING_RATE_FACTOR:g}", fresh, learning_rate_factor=LEARNING_RATE_FACTOR),
    Candidate("lower_lr_100", f"learning rate x{LEARNING_RATE_FACTOR ** 2:g}", fresh,
              learning_rate_factor=LEARNING_RATE_FACTOR ** 2),
    Candidate("clipnorm", f"gradient clipping (clipnorm={CLIPNORM:g})", fresh, clipnorm=CLIPNORM),
)}

# advice code (relulab.diagnostics.advice.REMEDIES) -> the candidates that answer it
FOR_ADVICE = {
    "rectifier": ("relu_he",), "leaky_rectifier": ("leaky_relu", "prelu"), "he_init": ("he_init",),
    "rai": ("rai",), "batch_norm": ("batch_norm",), "lower_learning_rate": ("lower_lr",),
    "much_lower_learning_rate": ("lower_lr_100",),
    "gradient_clipping": ("clipnorm",),
}


def applicable(model: keras.Model, name: str) -> str | None:
    """Why candidate ``name`` cannot be applied to ``model``, or None when it can."""
    if name in ("leaky_relu", "prelu") and not swappable_sites(model):
        return "the model has no hidden rectifier to swap"
    if name == "relu_he" and not swappable_sites(model, kinds=("saturating",)):
        return "the model has no hidden saturating activation to swap"
    if name == "batch_norm":
        try:
            batch_norm_model(model, 0)
        except ValueError as error:
            return str(error)
    return None


def from_advice(codes: list[str]) -> list[str]:
    """The candidate names that the advice codes call for, in advice order, ``original`` first."""
    names = ["original"]
    for code in codes:
        names.extend(name for name in FOR_ADVICE.get(code, ()) if name not in names)
    return names


def check_names(names: object) -> list[str]:
    """``names`` as a list of known candidate names, ``original`` first.

    Raises:
        ValueError: a name that is not a candidate (the message lists them).
    """
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):  # type: ignore[union-attr]
        raise ValueError(f"candidates of repair must be a list of names from {', '.join(CANDIDATES)}. "
                         f"Received: candidates={names!r}")
    unknown = [n for n in names if n not in CANDIDATES]  # type: ignore[union-attr]
    if unknown:
        raise ValueError(f"candidates of repair must be names from {', '.join(CANDIDATES)}. "
                         f"Received: candidates={list(names)!r}")  # type: ignore[call-overload]
    return ["original", *dict.fromkeys(n for n in names if n != "original")]  # type: ignore[union-attr]
