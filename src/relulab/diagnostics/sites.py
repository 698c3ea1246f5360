"""Where a model applies activations (its *sites*) and which layers carry kernels.

A site is one layer that applies an elementwise activation: either an activation layer
(Keras' ``ReLU``/``LeakyReLU``/``PReLU``/``ELU``/``Activation``, any relulab layer, or a user's own
elementwise layer such as the article's ``MyReLU``: see :func:`is_custom_activation_layer`), whose input
is the pre-activation, or a layer with a kernel and an ``activation`` (``Dense``, ``Conv2D``, ...), whose
linear output is the pre-activation. Activations outside the registry are of kind ``"custom"`` and are
measured through their derivative (:mod:`relulab.diagnostics.slopes`); softmax is not elementwise and
is not measured. Models are walked in ``model.layers`` order, recursing into nested
models; a layer reached twice (a shared sub-model) is one site. Composite layers that are not models
are opaque: only their own ``activation`` attribute counts. Recurrent layers are skipped (their
activation runs once per time step).

Names: a site is named after its layer (``dense_1``); when two layers in different sub-models share
a name, both are named by their path (``encoder/dense``), so every log key is unique.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator

import keras

from relulab.diagnostics.classify import Activation, classify, custom_activation, is_activation_layer

# Layers that keep each unit's value on its own channel, between a kernel and its activation.
PASS_THROUGH = (keras.layers.BatchNormalization, keras.layers.Dropout, keras.layers.GaussianNoise,
                keras.layers.GaussianDropout, keras.layers.ActivityRegularization, keras.layers.Identity)


@dataclasses.dataclass(frozen=True, eq=False)
class Site:
    """One activation-bearing layer of a model."""

    name: str
    layer: keras.layers.Layer
    activation: Activation
    inline: bool  # True: ``layer.activation`` (Dense(activation=...)); False: the layer is the activation


def walk(model: keras.Model, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], keras.layers.Layer]]:
    """Every layer of ``model`` as ``(path, layer)``, depth first, nested models expanded in place."""
    seen: set[int] = set()
    for layer in model.layers:
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if isinstance(layer, keras.Model):
            yield from walk(layer, (*path, layer.name))
        else:
            yield (*path, layer.name), layer


def _has_kernel(layer: keras.layers.Layer) -> bool:
    return isinstance(getattr(layer, "kernel", None), keras.Variable)


def layer_names(model: keras.Model) -> dict[int, str]:
    """``{id(layer): name}`` for every layer: its own name, or its path where another layer shares it."""
    found = list(walk(model))
    counts = Counter(layer.name for _, layer in found)
    return {id(layer): layer.name if counts[layer.name] == 1 else "/".join(path) for path, layer in found}


def _site_activation(layer: keras.layers.Layer) -> tuple[Activation | None, bool]:
    if is_activation_layer(layer):
        known = classify(layer)
        if known is None and isinstance(layer, keras.layers.Activation):
            known = custom_activation(layer.activation)  # Activation(my_function)
        return known, False
    if _has_kernel(layer) and callable(getattr(layer, "activation", None)) \
            and not isinstance(layer, keras.layers.RNN):
        return classify(layer.activation) or custom_activation(layer.activation), True
    if is_custom_activation_layer(layer):
        name = type(layer).__name__
        return Activation(name=name, kind="custom", spec=name), False
    return None, False


def _node_shapes(layer: keras.layers.Layer) -> list[tuple[tuple, tuple] | None]:
    shapes = []
    for node in getattr(layer, "_inbound_nodes", None) or []:
        inputs, outputs = list(node.input_tensors), list(node.outputs)
        shapes.append((tuple(inputs[0].shape), tuple(outputs[0].shape)) if len(inputs) == len(outputs) == 1 else None)
    return shapes


def is_custom_activation_layer(layer: keras.layers.Layer) -> bool:
    """Whether ``layer`` is a user's elementwise layer (``MyReLU``, a ``Lambda``): a layer class from outside
    Keras (or a ``Lambda``) without a kernel or sub-layers, not a model, with one input of its output's shape (checked
    where the graph records it; otherwise at measurement time)."""
    module = type(layer).__module__ or ""
    foreign = not module.startswith("keras.") or isinstance(layer, keras.layers.Lambda)
    if not foreign or isinstance(layer, keras.Model) or _has_kernel(layer) or getattr(layer, "_layers", None):
        return False  # a block of other layers is not an activation
    shapes = _node_shapes(layer)
    return all(pair is not None and pair[0] == pair[1] for pair in shapes)


def find_sites(model: keras.Model) -> list[Site]:
    """The activation sites of ``model`` that relulab can measure, in layer order."""
    names = layer_names(model)
    sites = []
    for _, layer in walk(model):
        activation, inline = _site_activation(layer)
        if activation is not None:
            sites.append(Site(names[id(layer)], layer, activation, inline))
    return sites


def output_site(model: keras.Model, sites: list[Site]) -> str | None:
    """The name of the site that is the model's output activation (the last site, with no kernel layer after
    it: a sigmoid output unit), or None."""
    if not sites:
        return None
    order = [layer for _, layer in walk(model)]
    position = next((i for i, layer in enumerate(order) if layer is sites[-1].layer), None)
    if position is None or any(_has_kernel(layer) for layer in order[position + 1:]):
        return None
    return sites[-1].name


def unmeasured(model: keras.Model) -> list[str]:
    """Names of the layers that apply an activation relulab does not measure (softmax: not elementwise)."""
    names = []
    for _, layer in walk(model):
        activation, _ = _site_activation(layer)
        if activation is None and (is_activation_layer(layer) or _has_kernel(layer)):
            function = getattr(layer, "activation", layer)  # Softmax() has none: its class names it
            label = getattr(function, "__name__", type(function).__name__)
            if label != "linear":
                names.append(f"{layer.name} ({label})")
    return names


def kernel_layers(model: keras.Model) -> list[tuple[str, keras.layers.Layer]]:
    """``(name, layer)`` for every layer with a trainable kernel, in layer order (names as for sites)."""
    names = layer_names(model)
    return [(names[id(layer)], layer) for _, layer in walk(model) if _has_kernel(layer) and layer.kernel.trainable]


def _single_parent(layer: keras.layers.Layer) -> keras.layers.Layer | None:
    """The one layer that feeds ``layer`` in every call recorded in its graph nodes, if there is one.

    A loaded Sequential model records several (identical) nodes per layer, one per time it was built.
    """
    parents = set()
    for node in getattr(layer, "_inbound_nodes", None) or []:
        found = node.parent_nodes
        if len(found) != 1:
            return None
        parents.add(found[0].operation)
    return parents.pop() if len(parents) == 1 else None


def kernel_of(site: Site) -> tuple[keras.layers.Layer | None, list[keras.layers.BatchNormalization]]:
    """The layer whose kernel computes ``site``'s pre-activation, and any batch normalisation in between."""
    if site.inline:
        return site.layer, []
    layer, between = producer(site.layer)
    return layer, [b for b in between if isinstance(b, keras.layers.BatchNormalization)]


def producer(layer: keras.layers.Layer) -> tuple[keras.layers.Layer | None, list[keras.layers.Layer]]:
    """The layer whose kernel computes ``layer``'s input, and the pass-through layers in between.

    Follows the functional graph back from ``layer`` through :data:`PASS_THROUGH` layers (batch
    normalisation, dropout). Returns ``(None, [])`` when the input does not come from one kernel layer
    of the same model (a model input, a merge, a nested model's boundary).
    """
    between: list[keras.layers.Layer] = []
    current = layer
    while True:
        parent = _single_parent(current)
        if parent is None:
            return None, []
        if _has_kernel(parent):
            return parent, between
        if not isinstance(parent, PASS_THROUGH):
            return None, []
        between.append(parent)
        current = parent
