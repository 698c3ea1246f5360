"""A spec resolved once: :class:`ActivationSpec`, the one object behind every ``get``, the CLI and the lab.

    >>> spec = resolve("prelu(alpha=0.1)")
    >>> spec.canonical, spec.function(), spec.layer()
    ('prelu(alpha=0.1)', prelu(alpha=0.1), <PReLU ...>)

``resolve`` parses the string, finds the registry entry and checks every parameter, so an invalid spec
fails here, wherever it came from. Two specs that mean the same activation (``"LeakyReLU(0.1)"`` and
``"leaky_relu(negative_slope=0.1)"``) resolve to equal, equally hashed objects with one canonical string.

:class:`BoundActivation`, what ``.function()`` returns when parameters differ from the defaults, is a
Keras-serializable callable: ``Dense(64, activation=activations.get("leaky_relu(negative_slope=0.1)"))``
saves and loads in any process that imports relulab. relulab's own bare functions (``leaky_relu``,
``celu``, ...) are registered too, so Keras does not swap in its same-named functions on loading.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import keras

from relulab.activations.registry import Entry, all_entries, lookup
from relulab.activations.spec import parse


@dataclasses.dataclass(frozen=True)
class ActivationSpec:
    """A registry activation with every parameter checked and filled in, in the entry's order."""

    name: str  # the canonical registry name
    params: tuple[tuple[str, Any], ...]  # (parameter, value) for every parameter, defaults included

    @property
    def entry(self) -> Entry:
        return lookup(self.name)

    @property
    def kwargs(self) -> dict[str, Any]:
        """Every parameter by its spec name."""
        return dict(self.params)

    @property
    def function_kwargs(self) -> dict[str, Any]:
        """The parameters the pure function takes (PReLU's shared_axes and RReLU's seed are the layer's)."""
        return self.entry.function_params(self.kwargs)

    @property
    def canonical(self) -> str:
        """The spec string naming only parameters that differ from their defaults: ``"leaky_relu(negative_slope=0.1)"``."""
        return self.entry.spec(self.kwargs)

    def __str__(self) -> str:
        return self.canonical

    def function(self) -> Callable[..., Any]:
        """The pure function: the registered one itself at its defaults, else a :class:`BoundActivation`."""
        entry = self.entry
        if self.function_kwargs == entry.function_params(entry.defaults()):
            return entry.function
        return BoundActivation(self)

    def layer(self, **overrides: Any) -> keras.layers.Layer:
        """A new layer: relulab's class for the entry (every parameter passed under the layer's name for
        it), else Keras' ``Activation``. ``overrides`` are Keras layer arguments such as ``name``."""
        entry = self.entry
        if entry.layer is None:
            return keras.layers.Activation(entry.name, **overrides)
        arguments = {entry.params[key].argument(key): value for key, value in self.params}
        return entry.layer(**arguments, **overrides)


def resolve(spec: str | ActivationSpec) -> ActivationSpec:
    """Parse and check ``spec`` (a string such as ``"leaky_relu(0.1)"``, or an ActivationSpec).

    Raises:
        ValueError: unknown name (the message lists the valid names), malformed spec or a value out
            of range (``None`` where a number is needed). TypeError: unknown parameter (the message lists
            the allowed ones) or a value of the wrong type.
    """
    if isinstance(spec, ActivationSpec):
        return spec
    name, args, kwargs = parse(spec)
    entry = lookup(name)
    params = entry.resolve(args, kwargs, owner=f"activation {entry.name!r}")
    return ActivationSpec(entry.name, tuple(params.items()))


@keras.saving.register_keras_serializable(package="relulab")
@dataclasses.dataclass(frozen=True)
class BoundActivation:
    """An activation function with its parameters bound, ``BoundActivation(resolve("elu(0.5)"))(x)``.

    Hashable, comparable and Keras-serializable (its config is the canonical spec string).
    """

    spec: ActivationSpec
    _call: Callable[..., Any] = dataclasses.field(init=False, repr=False, compare=False)
    _kwargs: dict[str, Any] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_call", self.spec.entry.function)
        object.__setattr__(self, "_kwargs", self.spec.function_kwargs)

    def __call__(self, x: Any) -> Any:
        return self._call(x, **self._kwargs)

    @property
    def entry(self) -> Entry:
        return self.spec.entry

    @property
    def params(self) -> dict[str, Any]:
        """The parameters passed to the function."""
        return dict(self._kwargs)

    @property
    def __name__(self) -> str:  # what Keras and tracebacks print
        return self.spec.name

    def __repr__(self) -> str:
        return self.spec.canonical

    def get_config(self) -> dict[str, Any]:
        return {"spec": self.spec.canonical}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Callable[..., Any]:
        return resolve(config["spec"]).function()


# relulab's own functions share names with Keras' (leaky_relu, relu, celu, softplus): registered, they are
# saved as "relulab>leaky_relu" and load as relulab's, not as Keras' function of the same name.
for _entry in all_entries():
    if _entry.function.__module__.startswith("relulab."):
        keras.saving.register_keras_serializable(package="relulab", name=_entry.name)(_entry.function)
del _entry
