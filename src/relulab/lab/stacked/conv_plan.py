"""Which Keras models the convolutional stack takes, read as a list of operations.

A model is stackable when it is a plain chain (one input, one output, each layer fed by the one before)
of these layers, in ``channels_last``: ``InputLayer``, ``Reshape``, ``Conv2D`` (groups 1, dilation 1,
any strides, "valid" or "same"), ``MaxPooling2D``, ``AveragePooling2D``, ``Flatten``, ``Dense`` on a
flat input, ``Dropout`` (no ``noise_shape``) and activation layers the MLP stack applies
(:func:`relulab.lab.stacked.activations.unstackable_reason`: Keras' ``Activation`` whose function equals
relulab's of that name on a grid of values (Keras' leaky_relu is relulab's with slope 0.2), relulab's layers incl. PReLU (no regularizer or constraint) and RReLU, a custom layer class without
variables whose configuration is its default); a ``Dense``/``Conv2D``'s own ``activation`` may be one
of those too. The last layer is a ``Dense`` with softmax, and the model is compiled with Keras' Adam
(no AMSGrad) or SGD (any momentum, Nesterov or not), a constant learning rate, no weight decay, clipping, EMA or
gradient accumulation (:func:`step_of`), and sparse categorical cross-entropy. No kernel, bias or
activity regularizer or constraint; the TensorFlow backend and the float32 policy. Not taken:
``BatchNormalization`` (its moving statistics are not modelled), Keras' own ``ReLU``/``LeakyReLU``/``ELU``
/``PReLU`` layer classes (use relulab's or ``Activation``), any other layer; such models train one after
another with :func:`relulab.training.fit`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np

from relulab import activations
from relulab.activations.registry import lookup
from relulab.lab.stacked.activations import unstackable_reason as spec_reason
from relulab.layers.base import ActivationLayer
from relulab.layers.prelu import PReLU


class Unstackable(ValueError):
    """A model the stack cannot take; the message says why."""


@dataclasses.dataclass(frozen=True)
class Op:
    """One operation of the chain: ``kind`` is reshape, conv, pool, flatten, dense, dropout or activation."""

    kind: str
    name: str  # the Keras layer's name (an inline activation: the layer's name)
    config: tuple = ()  # what the stack needs, as sorted (key, value) pairs
    spec: str = dataclasses.field(default="", compare=False)  # an activation's spec; may differ between runs

    def get(self, key: str) -> Any:
        return dict(self.config)[key]


@dataclasses.dataclass(frozen=True)
class Step:
    """How a stackable model steps: Keras' ``optimizer`` ("adam" or "sgd"), its learning rate, and its
    settings (Adam's ``beta_1``, ``beta_2``, ``epsilon``; SGD's ``momentum``, ``nesterov``) as (name, value) pairs."""

    optimizer: str
    learning_rate: float
    settings: tuple = ()

    def fused(self, variables: Any) -> Any:
        """This optimizer over a stack's ``variables``: one fused kernel per variable
        (:mod:`relulab.lab.stacked.fused`)."""
        from relulab.lab.stacked.fused import FusedAdam, FusedSGD

        fused = FusedAdam if self.optimizer == "adam" else FusedSGD
        return fused(variables, self.learning_rate, **dict(self.settings))

    def __str__(self) -> str:
        settings = dict(self.settings)
        if self.optimizer == "adam":
            default = keras.optimizers.Adam()
            extra = "".join(f", {key} {value:g}" for key, value in settings.items() if value != getattr(default, key))
            return f"Adam at {self.learning_rate:g}{extra}"
        momentum = settings.get("momentum", 0.0)
        extra = f", momentum {momentum:g}{' (Nesterov)' if settings.get('nesterov') else ''}" if momentum else ""
        return f"SGD at {self.learning_rate:g}{extra}"


def unstackable_reason(model: keras.Model) -> str | None:
    """Why the convolutional stack cannot train ``model``, or None when it can."""
    if keras.backend.backend() != "tensorflow" or keras.config.dtype_policy().name != "float32":
        return "the stack runs on TensorFlow in float32 only"
    try:
        describe(model)
        step_of(model)
    except Unstackable as error:
        return str(error)
    return None


# optimizer settings the stack does not reproduce, each refused by name when set
UNSUPPORTED_SETTINGS = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema",
                        "gradient_accumulation_steps", "loss_scale_factor")


def step_of(model: keras.Model) -> Step:
    """``model``'s optimizer as a :class:`Step`; raises :class:`Unstackable` for a training setup the stack
    does not reproduce: another optimizer, AMSGrad, a learning-rate schedule, any of
    :data:`UNSUPPORTED_SETTINGS`, or a loss other than a default sparse categorical cross-entropy."""
    optimizer = getattr(model, "optimizer", None)
    kind = {keras.optimizers.Adam: "adam", keras.optimizers.SGD: "sgd"}.get(type(optimizer))
    if kind is None:
        return _refuse(f"its optimizer is {type(optimizer).__name__}, not Adam or SGD")
    name = type(optimizer).__name__
    for setting in UNSUPPORTED_SETTINGS:
        if getattr(optimizer, setting, None):
            return _refuse(f"its {name} sets {setting}={getattr(optimizer, setting)!r}, which the stack does not apply")
    if kind == "adam" and optimizer.amsgrad:
        return _refuse("its Adam uses AMSGrad, which the stack does not apply")
    if isinstance(optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return _refuse(f"its {name}'s learning rate follows a schedule")
    _check_loss(getattr(model, "loss", None))
    weights = (model.get_compile_config() or {}).get("loss_weights")
    if weights is not None and _flat_weights(weights) != [1.0]:
        _refuse(f"its loss is weighted (loss_weights={weights!r}), which the stack does not apply")
    rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    if kind == "adam":
        return Step("adam", rate, (("beta_1", float(optimizer.beta_1)), ("beta_2", float(optimizer.beta_2)),
                                   ("epsilon", float(optimizer.epsilon))))
    momentum = float(optimizer.momentum)
    return Step("sgd", rate, (("momentum", momentum), ("nesterov", bool(optimizer.nesterov) and momentum > 0)))


def _flat_weights(weights: Any) -> list[float]:
    """``compile(loss_weights=...)`` as a list of numbers: a number, a list or a dict of them."""
    if isinstance(weights, dict):
        weights = list(weights.values())
    return [float(w) for w in (weights if isinstance(weights, (list, tuple)) else [weights])]


def _check_loss(loss: Any) -> None:
    """Raise :class:`Unstackable` unless ``loss`` is sparse categorical cross-entropy as the stack computes it: the
    mean over the batch of the probabilities' cross-entropy (the name, the function, or the class at its defaults)."""
    if isinstance(loss, dict) and len(loss) == 1:  # one output's loss, given as a dict or a list
        loss = next(iter(loss.values()))
    elif not isinstance(loss, str) and hasattr(loss, "__len__") and hasattr(loss, "__getitem__") and len(loss) == 1:
        loss = loss[0]
    if loss == "sparse_categorical_crossentropy" or loss is keras.losses.sparse_categorical_crossentropy:
        return
    if type(loss) is keras.losses.SparseCategoricalCrossentropy:
        default = keras.losses.SparseCategoricalCrossentropy().get_config()
        changed = {key: value for key, value in loss.get_config().items()
                   if key not in ("name", "dtype") and value != default.get(key)}
        if not changed:
            return
        _refuse(f"its loss sets {', '.join(f'{key}={value!r}' for key, value in sorted(changed.items()))}, which "
                f"the stack does not apply")
    name = loss if isinstance(loss, str) else getattr(loss, "name", getattr(loss, "__name__", repr(loss)))
    _refuse(f"its loss is {name}, not sparse_categorical_crossentropy")


def architecture(model: keras.Model) -> tuple[Op, ...]:
    """The input's shape and :func:`describe` without the layer names: what runs must share to stack (Keras
    names unnamed layers by a global count, so two builds of one architecture differ in names only)."""
    shape = tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else ()
    return (Op("input", "", (("shape", shape),)), *(dataclasses.replace(op, name="") for op in describe(model)))


def describe(model: keras.Model) -> list[Op]:
    """``model`` as the stack's operations; raises :class:`Unstackable` naming the first obstacle."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        _refuse("it has more than one input or output")
    chain = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    ops: list[Op] = []
    previous = None
    for layer in chain:
        if previous is not None and _input_of(layer) is not previous.output:
            _refuse(f"its layer {layer.name} is not fed by the layer before it (not a plain chain)")
        ops.extend(_ops_of(layer, last=layer is chain[-1]))
        previous = layer
    if not chain or not (isinstance(chain[-1], keras.layers.Dense) and _activation_name(chain[-1]) == "softmax"):
        _refuse("its last layer is not a Dense layer with softmax")
    return ops


def activation_spec(layer: Any) -> str:
    """The spec of an activation layer or function the stack applies; raises :class:`Unstackable`."""
    if isinstance(layer, PReLU):
        if layer.alpha_regularizer is not None or layer.alpha_constraint is not None:
            _refuse(f"its PReLU {layer.name} has a regularizer or constraint")
        spec = "prelu"
    elif isinstance(layer, ActivationLayer):
        spec = lookup(layer.activation_name).spec(layer._params)
    elif type(layer) is keras.layers.Activation or callable(layer) and not isinstance(layer, keras.layers.Layer):
        spec = _keras_function_spec(getattr(layer, "activation", layer))
    else:
        spec = _custom_spec(layer)
    reason = spec_reason(spec)
    if reason:
        _refuse(f"{reason} ({getattr(layer, 'name', spec)})")
    return spec


# Keras' functions whose defaults differ from relulab's spec of the same name.
KERAS_DEFAULTS = {"leaky_relu": "leaky_relu(negative_slope=0.2)"}


def _keras_function_spec(function: Any) -> str:
    """The relulab spec computing what Keras' activation ``function`` computes (checked on a grid of values)."""
    name = _activation_name(function)
    spec = KERAS_DEFAULTS.get(name, name)
    if name not in activations.available():
        _refuse(f"its activation {name} is not one relulab knows")
    import tensorflow as tf  # the stack is TensorFlow's (unstackable_reason checked the backend first)

    ours = activations.resolve(spec).function()
    grid = tf.constant(np.linspace(-8.0, 8.0, 161, dtype=np.float32))  # 0, every kink's side, included
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(grid)
        theirs_y, ours_y = function(grid), ours(grid)
    if not np.allclose(ours_y.numpy(), theirs_y.numpy(), rtol=1e-5, atol=1e-6):
        _refuse(f"its activation {name} is not relulab's {spec}")
    if not np.allclose(tape.gradient(ours_y, grid).numpy(), tape.gradient(theirs_y, grid).numpy(), rtol=1e-5, atol=1e-6):
        _refuse(f"its activation {name} is Keras' own, whose gradient differs from relulab's {spec} (at the kink)")
    return spec


def _ops_of(layer: keras.layers.Layer, *, last: bool) -> list[Op]:
    kind = type(layer)
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        _refuse(f"its layer {layer.name} is not channels_last")
    for attribute in ("kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                      "bias_constraint"):
        if getattr(layer, attribute, None) is not None:
            _refuse(f"its layer {layer.name} has a {attribute.replace('_', ' ')}")
    if kind is keras.layers.Reshape:
        return [Op("reshape", layer.name, (("shape", tuple(layer.target_shape)),))]
    if kind is keras.layers.Flatten:
        return [Op("flatten", layer.name)]
    if kind is keras.layers.Dropout:
        if layer.noise_shape is not None:
            _refuse(f"its Dropout {layer.name} has a noise_shape")
        return [Op("dropout", layer.name, (("rate", float(layer.rate)),))]
    if kind in (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D):
        return [Op("pool", layer.name, (("mode", "max" if kind is keras.layers.MaxPooling2D else "avg"),
                                        ("padding", layer.padding.upper()), ("size", tuple(layer.pool_size)),
                                        ("strides", tuple(layer.strides))))]
    if kind is keras.layers.Conv2D:
        if layer.groups != 1 or tuple(layer.dilation_rate) != (1, 1):
            _refuse(f"its Conv2D {layer.name} is grouped or dilated")
        op = Op("conv", layer.name, (("bias", layer.use_bias), ("filters", layer.filters),
                                     ("padding", layer.padding.upper()), ("size", tuple(layer.kernel_size)),
                                     ("strides", tuple(layer.strides))))
        return [op, *_inline_activation(layer)]
    if kind is keras.layers.Dense:
        if len(layer.input.shape) != 2:
            _refuse(f"its Dense {layer.name} is applied to a tensor of rank {len(layer.input.shape)} (flatten first)")
        op = Op("dense", layer.name, (("bias", layer.use_bias), ("units", layer.units)))
        return [op] if last else [op, *_inline_activation(layer)]
    if isinstance(layer, keras.layers.BatchNormalization):
        _refuse(f"its layer {layer.name} is BatchNormalization, which the stack does not model")
    if isinstance(layer, (ActivationLayer, keras.layers.Activation)) or not layer.weights and _is_plain(layer):
        return [Op("activation", layer.name, spec=activation_spec(layer))]
    return _refuse(f"its layer {layer.name} is a {kind.__name__}, which the stack does not take")


def _inline_activation(layer: keras.layers.Layer) -> list[Op]:
    if _activation_name(layer) == "linear":
        return []
    if isinstance(layer.activation, (PReLU, keras.layers.PReLU)) or (
            isinstance(layer.activation, keras.layers.Layer) and layer.activation.weights):
        _refuse(f"its layer {layer.name} has a {type(layer.activation).__name__} with weights as its activation= "
                f"(the stack takes one as a layer of its own)")
    return [Op("activation", layer.name, spec=activation_spec(layer.activation))]


def _activation_name(layer: Any) -> str:
    function = getattr(layer, "activation", layer)
    return getattr(function, "__name__", type(function).__name__)


def _is_plain(layer: keras.layers.Layer) -> bool:
    """A layer without weights whose class sits in an importable module (a custom activation)."""
    return not isinstance(layer, keras.Model) and type(layer).__module__.split(".")[0] not in ("keras", "tf_keras")


def _custom_spec(layer: keras.layers.Layer) -> str:
    cls = type(layer)
    ignore = {"name", "trainable", "dtype"}
    try:
        default = {k: v for k, v in cls().get_config().items() if k not in ignore}
    except TypeError:
        default = None
    if default != {k: v for k, v in layer.get_config().items() if k not in ignore}:
        _refuse(f"its layer {layer.name} ({cls.__name__}) is not a default-configured custom activation")
    return f"{cls.__module__}:{cls.__qualname__}"


def _input_of(layer: keras.layers.Layer) -> Any:
    try:
        return layer.input
    except (AttributeError, ValueError):
        return None


def _refuse(reason: str) -> Any:
    raise Unstackable(reason)
