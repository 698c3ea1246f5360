"""See each site's pre-activation and output while a model runs, without changing what it computes.

A :class:`Tap` wraps, for as long as it is installed, the function that applies each site's activation:
``layer.call`` for an activation layer (its input is the pre-activation) and ``layer.activation`` for
``Dense(activation=...)``-style layers (its argument is the layer's linear output). The wrapper returns
exactly what the original returns and hands ``(pre, out)`` to the tap's listener. This works the same
for Sequential, functional, nested and subclassed models and for every backend, because it only relies
on Keras calling ``self.call`` and ``self.activation``.

Called eagerly (``model(x)``), the listener sees concrete tensors. Installed before a ``tf.function``
is traced, the listener's ``keras.ops`` become part of the traced graph (``relulab.callbacks`` uses
this to count activity on the training batches themselves).

Several taps may watch one layer: each layer is patched once and the patch calls every listener. An
*exclusive* tap (a probe measurement) mutes the others while it is installed, so a probe pass does not
leak into a monitor's running counts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from relulab.diagnostics.sites import Site

Listener = Callable[[Site, Any, Any], None]


@dataclasses.dataclass(eq=False)
class _Patch:
    layer: Any
    attribute: str
    original: Any
    had_instance_attribute: bool
    listeners: list[tuple[Tap, Site]] = dataclasses.field(default_factory=list)

    def notify(self, pre: Any, out: Any) -> None:
        muting = _EXCLUSIVE[-1] if _EXCLUSIVE else None
        for tap, site in list(self.listeners):
            if muting is None or tap is muting:
                tap.on_values(site, pre, out)


_PATCHES: dict[tuple[int, str], _Patch] = {}
_EXCLUSIVE: list[Tap] = []


def _wrap(patch: _Patch) -> Callable[..., Any]:
    if patch.attribute == "activation":
        def activation(x: Any) -> Any:
            out = patch.original(x)
            patch.notify(x, out)
            return out
        return activation

    def call(inputs: Any, *args: Any, **kwargs: Any) -> Any:
        out = patch.original(inputs, *args, **kwargs)
        patch.notify(inputs, out)
        return out
    return call


def _attach(tap: Tap, site: Site) -> None:
    attribute = "activation" if site.inline else "call"
    key = (id(site.layer), attribute)
    patch = _PATCHES.get(key)
    if patch is None:
        patch = _Patch(site.layer, attribute, getattr(site.layer, attribute),
                       attribute in vars(site.layer))
        _PATCHES[key] = patch
        object.__setattr__(site.layer, attribute, _wrap(patch))  # bypass Keras' attribute tracking
    patch.listeners.append((tap, site))


def _detach(tap: Tap) -> None:
    for key, patch in list(_PATCHES.items()):
        patch.listeners = [(t, s) for t, s in patch.listeners if t is not tap]
        if patch.listeners:
            continue
        if patch.had_instance_attribute:
            object.__setattr__(patch.layer, patch.attribute, patch.original)
        else:
            object.__delattr__(patch.layer, patch.attribute)
        del _PATCHES[key]


def original(site: Site) -> Callable[..., Any]:
    """The function that applies ``site``'s activation, without any tap: call it to differentiate it."""
    attribute = "activation" if site.inline else "call"
    patch = _PATCHES.get((id(site.layer), attribute))
    return patch.original if patch is not None else getattr(site.layer, attribute)


class Tap:
    """Calls ``on_values(site, pre, out)`` each time one of ``sites`` applies its activation.

    Use as a context manager for one measurement, or :meth:`install` / :meth:`remove` around training.
    """

    def __init__(self, sites: Sequence[Site], on_values: Listener, *, exclusive: bool = False) -> None:
        self.sites = list(sites)
        self.on_values = on_values
        self.exclusive = exclusive
        self.installed = False

    def install(self) -> Tap:
        if not self.installed:
            for site in self.sites:
                _attach(self, site)
            if self.exclusive:
                _EXCLUSIVE.append(self)
            self.installed = True
        return self

    def remove(self) -> None:
        if self.installed:
            _detach(self)
            if self in _EXCLUSIVE:
                _EXCLUSIVE.remove(self)
            self.installed = False

    def __enter__(self) -> Tap:
        return self.install()

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()
