"""Hooks into a model's training step, for the monitors' "batches seen" mode (no probe given).

- :func:`training_scope` wraps ``model.train_step`` so that :func:`in_train_step` is True while it
  runs. On TensorFlow that Python code runs once, while ``fit``'s ``tf.function`` is traced, so a tap
  that checks the flag adds its ``keras.ops`` to the training graph only, not to evaluation or
  prediction graphs. On PyTorch it runs every step.
- :func:`on_apply` calls a listener with ``(grads, variables)`` whenever the optimizer applies
  gradients (inside the training step).

Both patch instance attributes once per object, shared by every monitor (reference-counted), and
restore the original when the last user leaves. After installing or removing, the caller rebuilds
``fit``'s train function (:func:`rebuild_train_function`) so the change takes effect.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import keras


@dataclasses.dataclass(eq=False)
class _Patched:
    owner: Any
    name: str
    original: Any
    had_instance_attribute: bool
    users: list[Any] = dataclasses.field(default_factory=list)


_PATCHED: dict[tuple[int, str], _Patched] = {}
_DEPTH = [0]


def _patch(owner: Any, name: str, user: Any, make: Callable[[_Patched], Callable[..., Any]]) -> None:
    key = (id(owner), name)
    patched = _PATCHED.get(key)
    if patched is None:
        patched = _Patched(owner, name, getattr(owner, name), name in vars(owner))
        _PATCHED[key] = patched
        object.__setattr__(owner, name, make(patched))
    if user not in patched.users:
        patched.users.append(user)


def _unpatch(owner: Any, name: str, user: Any) -> None:
    patched = _PATCHED.get((id(owner), name))
    if patched is None or user not in patched.users:
        return
    patched.users.remove(user)
    if not patched.users:
        if patched.had_instance_attribute:
            object.__setattr__(owner, name, patched.original)
        else:
            object.__delattr__(owner, name)
        del _PATCHED[(id(owner), name)]


def in_train_step() -> bool:
    """Whether a wrapped ``train_step`` is running (being traced, on TensorFlow)."""
    return _DEPTH[0] > 0


def _flagging(patched: _Patched) -> Callable[..., Any]:
    def train_step(*args: Any, **kwargs: Any) -> Any:
        _DEPTH[0] += 1
        try:
            return patched.original(*args, **kwargs)
        finally:
            _DEPTH[0] -= 1
    return train_step


def training_scope(model: keras.Model, user: Any, *, enter: bool) -> None:
    """Make :func:`in_train_step` true inside ``model.train_step`` (``enter=True``), or stop (False)."""
    if enter:
        _patch(model, "train_step", user, _flagging)
    else:
        _unpatch(model, "train_step", user)


def _notifying(patched: _Patched) -> Callable[..., Any]:
    def apply(grads: Any, trainable_variables: Any = None) -> Any:
        variables = trainable_variables if trainable_variables is not None else patched.owner.trainable_variables
        grads = list(grads)
        for user in list(patched.users):
            user(grads, list(variables))
        return patched.original(grads, trainable_variables)
    return apply


def on_apply(optimizer: Any, listener: Callable[[list, list], None], *, enter: bool) -> None:
    """Call ``listener(grads, variables)`` each time ``optimizer`` applies gradients (or stop)."""
    if enter:
        _patch(optimizer, "apply", listener, _notifying)
    else:
        _unpatch(optimizer, "apply", listener)


def rebuild_train_function(model: keras.Model) -> None:
    """Make ``fit`` trace its training step again, so that installed or removed hooks take effect."""
    model.make_train_function(force=True)
