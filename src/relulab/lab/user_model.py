"""The user's own model in the lab: ``relulab compare --model package.module:build`` or ``--model model.keras``.

A *model source* turns an activation spec, a seed and a learning rate into a compiled Keras model:

- ``"package.module:build"``: ``build(activation)`` returns a Keras model that uses ``activation`` (the
  canonical spec string; make each layer with ``relulab.layers.get(activation)``, or pass it as a Keras
  activation where a relulab spec is a Keras name). When ``build`` also takes ``input_shape`` or
  ``num_classes`` as keywords, it is given the dataset's (an image's as height x width x 1, what ``Conv2D``
  takes: ``(8, 8, 1)`` for digits). The module is the one the command line names:
  relulab imports it because the user asked for it there, never because a file says so.
- ``"model.keras"`` (or a Keras 2 ``.h5``): the architecture is loaded once in Keras' safe mode; each run
  clones it with fresh weights (its own initialisers, seeded) and every rectifier and saturating
  activation except the output's swapped for the run's (:func:`relulab.remedies.swap_activation`).

Either way each run's model is built after ``keras.utils.set_random_seed(seed)`` (its initial weights
depend on the seed alone, so runs of one seed are paired) with Keras' automatic layer names started afresh
(every run's layers have the same names, so the same log keys) and compiled as every lab run is: Adam at the
grid's learning rate, sparse categorical cross-entropy on the integer labels, accuracy. The model must
take the dataset's examples (images are reshaped to the model's input, 28x28 to 28x28x1, when the number
of values agrees) and end in ``num_classes`` outputs.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from relulab.errors import UserError

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
# Which activations a saved model's clone gets swapped: the rectifiers, and the saturating and smooth ones.
SWAPPED_KINDS = ("rectifier", "saturating", "smooth")


@dataclasses.dataclass(frozen=True)
class ModelSource:
    """A resolved ``--model``: ``build(activation, seed=, learning_rate=, ...)`` makes one run's model."""

    text: str  # as the user gave it, stored in the grid
    make: Callable[[str, tuple[int, ...], int], keras.Model]  # (activation, input_shape, num_classes) -> model

    def build(self, activation: str, *, seed: int, learning_rate: float, input_shape: tuple[int, ...],
              num_classes: int) -> keras.Model:
        """The compiled model of one run; a UserError naming ``--model`` when it cannot be built."""
        keras.utils.set_random_seed(seed)
        _fresh_layer_names()
        model = self.make(activation, tuple(input_shape), num_classes)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model


def _fresh_layer_names() -> None:
    """Name the layers Keras names itself as in a fresh process (``conv2d``, ``re_lu``, ...), so that every
    run's model has the same layer names, and so the same log keys (``dead_fraction/re_lu``) and stacks."""
    try:
        from keras.src.utils.naming import reset_uids
    except ImportError:  # a Keras without it: names then differ between runs, which only the stacking and
        return  # the per-layer figures notice
    reset_uids()


def is_file_source(text: str) -> bool:
    return Path(text).suffix.lower() in MODEL_SUFFIXES


@functools.lru_cache(maxsize=8)
def resolve(text: str) -> ModelSource:
    """The model source ``text`` names (cached: a saved model is read once per process).

    Raises:
        UserError: the module does not import, has no such callable, or the file is not a Keras model.
    """
    if not isinstance(text, str) or not text.strip():
        raise UserError(f"--model must be 'package.module:function' or a saved model (.keras, .h5). Received: {text!r}")
    return _from_file(Path(text)) if is_file_source(text) else _from_function(text)


def _from_function(text: str) -> ModelSource:
    module_name, colon, attribute = text.partition(":")
    if not colon or not module_name or not attribute:
        raise UserError(f"--model must be 'package.module:function' or a saved model file ending in "
                        f"{', '.join(MODEL_SUFFIXES)}. Received: {text!r}")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # the user's module: any error in it is theirs to see, in one line
        raise UserError(f"--model {text}: module {module_name!r} does not import ({_reason(error)})") from error
    build = getattr(module, attribute, None)
    if not callable(build):
        raise UserError(f"--model {text}: {module_name} has no function {attribute!r}")
    keywords = _keywords(build)

    def make(activation: str, input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
        given = {"input_shape": input_shape, "num_classes": num_classes}
        try:
            model = build(activation, **{k: v for k, v in given.items() if k in keywords})
        except Exception as error:
            raise UserError(f"--model {text}: {attribute}({activation!r}) raised {_reason(error)}") from error
        if not isinstance(model, keras.Model):
            raise UserError(f"--model {text}: {attribute}({activation!r}) returned {type(model).__name__}, "
                            f"not a Keras model")
        return model

    return ModelSource(text, make)


def _keywords(function: Callable) -> set[str]:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return set()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return {"input_shape", "num_classes"}
    return {p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def _from_file(path: Path) -> ModelSource:
    from relulab.remedies.swap import swap_activation, swappable_sites

    if not path.is_file():
        raise UserError(f"--model {path}: no such file")
    try:
        original = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # an untrusted file can fail in many ways
        raise UserError(f"--model {path} is not a Keras model that loads in safe mode ({_reason(error)})") from error
    if not isinstance(original, keras.Model):
        raise UserError(f"--model {path} holds a {type(original).__name__}, not a Keras model")
    if not swappable_sites(original, kinds=SWAPPED_KINDS):
        raise UserError(f"--model {path} has no rectifier, saturating or smooth activation to swap "
                        f"(besides its output)")

    def make(activation: str, input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
        fresh = keras.models.clone_model(original)  # new weights from the layers' own initialisers
        try:
            return swap_activation(fresh, activation, kinds=SWAPPED_KINDS)
        except ValueError as error:
            raise UserError(f"--model {path}: {_reason(error)}") from error

    return ModelSource(str(path), make)


def prepare(text: str, dataset: Any, activations: tuple[str, ...], seed: int, learning_rate: float) -> Any:
    """``dataset`` shaped for the model ``text`` names, after building it once per activation.

    Checks all that can fail before anything is written: the module or file, every activation's model, the
    input shape against the data's and the output against the number of classes; and that ``build`` uses
    its argument (two activations must not give the same model).

    Raises:
        UserError: naming ``--model`` and the reason.
    """
    source = resolve(text)
    configs = {}
    shape = tuple(dataset.input_shape)
    shape = (*shape, 1) if len(shape) == 2 else shape  # an image as Conv2D takes it: height x width x channels
    for activation in activations:
        model = source.build(activation, seed=seed, learning_rate=learning_rate, input_shape=shape,
                             num_classes=dataset.num_classes)
        dataset = fit_data(text, model, dataset)
        configs[activation] = json.dumps(_nameless(model.get_config()), sort_keys=True, default=str)
    if len(activations) > 1 and len(set(configs.values())) == 1:
        raise UserError(f"--model {text} gives the same model for every activation ({', '.join(activations)}): "
                        f"its function must use the activation it is given")
    return dataset


def fit_data(text: str, model: keras.Model, dataset: Any) -> Any:
    """``dataset`` with its examples reshaped to ``model``'s input; a UserError when they cannot fit."""
    inputs = model.inputs if getattr(model, "inputs", None) else None
    if not inputs or len(inputs) != 1:
        raise UserError(f"--model {text} must take one input; it takes {len(inputs or [])}")
    wanted = tuple(inputs[0].shape[1:])
    have = tuple(dataset.input_shape)
    if wanted != have:
        known = all(d is not None for d in wanted)
        if not known or math.prod(wanted) != math.prod(have):
            raise UserError(f"--model {text} takes inputs of shape {_shape(wanted)}; the data's examples have "
                            f"shape {_shape(have)} ({math.prod(have)} values)")
        dataset = dataclasses.replace(
            dataset, x_train=dataset.x_train.reshape((-1, *wanted)), x_test=dataset.x_test.reshape((-1, *wanted)),
            input_shape=wanted)
    outputs = tuple(model.outputs[0].shape[1:]) if getattr(model, "outputs", None) else ()
    if outputs != (dataset.num_classes,):
        raise UserError(f"--model {text} ends in outputs of shape {_shape(outputs)}; the data has "
                        f"{dataset.num_classes} classes, so the model must end in ({dataset.num_classes},) "
                        f"(a softmax over the classes)")
    return dataset


def _nameless(config: Any) -> Any:
    """``config`` without the layer names Keras makes up (``dense_3``), to compare two architectures."""
    if isinstance(config, dict):
        return {k: _nameless(v) for k, v in config.items() if k not in ("name", "inbound_nodes")}
    if isinstance(config, (list, tuple)):
        return [_nameless(v) for v in config]
    return config


def _shape(shape: tuple) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _reason(error: BaseException) -> str:
    text = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", str(error)).split()) or type(error).__name__  # no ANSI bold
    if len(text) > 200:
        text = text[:200].rsplit(" ", 1)[0] + " ..."
    return f"{type(error).__name__}: {text}" if not isinstance(error, UserError) else text
