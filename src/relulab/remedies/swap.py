"""``swap_activation``: the same trained model with every rectifier (or other kinds) replaced, weights kept."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from relulab import layers as relulab_layers
from relulab.diagnostics.sites import Site, find_sites, walk

KINDS = ("rectifier", "smooth", "saturating")  # what an activation's kind can be (relulab.diagnostics.classify)


def _own_weights(layer: keras.layers.Layer) -> list[keras.Variable]:
    """``layer``'s weights without those of an activation layer it holds (a PReLU's slopes)."""
    activation = getattr(layer, "activation", None)
    foreign = {id(w) for w in activation.weights} if isinstance(activation, keras.layers.Layer) else set()
    return [w for w in layer.weights if id(w) not in foreign]


def swappable_sites(model: keras.Model, *, kinds: Sequence[str] = ("rectifier",)) -> list[Site]:
    """The activation sites of ``model`` whose kind is one of ``kinds``, except the output layer's: the
    output's activation (a softmax, a sigmoid unit) says what the model predicts and is never swapped."""
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        raise ValueError(f"kinds of swap_activation must be some of {', '.join(KINDS)}. Received: kinds={list(kinds)}")
    layers = [layer for _, layer in walk(model)]
    output = layers[-1] if layers else None
    return [site for site in find_sites(model) if site.activation.kind in kinds and site.layer is not output]


def _cloner(model: keras.Model, spec: str, kinds: Sequence[str]) -> tuple[Any, set[int]]:
    targets = {id(site.layer): site for site in swappable_sites(model, kinds=kinds)}
    replaced: set[int] = set()

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        site = targets.get(id(layer))
        if site is None:
            return layer.__class__.from_config(layer.get_config())
        replaced.add(id(layer))
        if site.inline:
            config = layer.get_config()
            config["activation"] = keras.saving.serialize_keras_object(relulab_layers.get(spec))
            return layer.__class__.from_config(config)
        return relulab_layers.get(spec, name=layer.name)

    return clone, replaced


def swap_activation(model: keras.Model, spec: str, *, kinds: Sequence[str] = ("rectifier",)) -> keras.Model:
    """A new model like ``model`` with every rectifier replaced by the activation ``spec``, weights kept.

    Rectifiers are found as :func:`relulab.diagnostics.find_sites` finds them (separate activation
    layers and ``Dense/Conv(activation=...)``, nested models included); saturating, smooth and
    unknown activations stay, unless ``kinds`` (default ``("rectifier",)``; any of ``"rectifier"``,
    ``"smooth"``, ``"saturating"``) names their kind too. The output layer's activation (the softmax, a
    sigmoid unit) is never swapped. Every kernel, bias and other weight is copied; the
    weights of a replaced activation layer (a PReLU's slopes) are not, and a new PReLU starts at 0.25.
    The new model is not compiled.

    Example:
        >>> leaky = swap_activation(trained, "leaky_relu(negative_slope=0.1)")
        >>> leaky.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    Raises:
        ValueError / TypeError: an invalid ``spec`` (the message lists the valid names), or a model
            that Keras cannot clone (a subclassed model).
    """
    relulab_layers.get(spec)  # check the spec before cloning
    if not isinstance(model, keras.Model):
        raise TypeError(f"model of swap_activation must be a keras.Model. Received: model={type(model).__name__}")
    clone, replaced = _cloner(model, spec, kinds)
    try:
        new = keras.models.clone_model(model, clone_function=clone, recursive=True)
    except (ValueError, TypeError, NotImplementedError) as error:
        raise ValueError(f"model of swap_activation must be a Sequential or functional model that Keras can "
                         f"clone. Received: model {model.name!r} ({error})") from error
    for (_, old), (_, fresh) in zip(walk(model), walk(new)):
        if id(old) in replaced and not hasattr(old, "kernel"):
            continue  # a separate activation layer: nothing of its own to keep
        for source, target in zip(_own_weights(old), _own_weights(fresh), strict=True):
            target.assign(keras.ops.convert_to_numpy(source))  # a copy: JAX may donate the buffer
    return new
