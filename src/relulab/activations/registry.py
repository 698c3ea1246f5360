"""The one registry of activations: names, aliases, functions, parameters and layer classes.

Each :class:`Entry` names a pure function (relulab's own or Keras' re-exported one), its parameters
with their defaults and checks, and the layer class that wraps it (attached by
``relulab.layers`` through :func:`register_layer`). A spec is resolved here once, into one
:class:`relulab.activations.ActivationSpec` that ``relulab.activations.get``, ``relulab.layers.get``, the
command line and the lab all read, so a name, a parameter name or a default cannot differ between them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import keras

from relulab import _validate
from relulab.activations import defaults, functions, smooth
from relulab.activations import params as p
from relulab.activations.params import Param
from relulab.activations.spec import format_spec, normalise_name

KINDS = ("rectifier", "smooth", "saturating", "linear")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One activation in the registry."""

    name: str
    function: Callable[..., Any]
    kind: str
    summary: str
    params: Mapping[str, Param] = dataclasses.field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    # A rule across parameters (RReLU's lower <= upper); check(params, owner) raises on violation.
    relation: Callable[[dict[str, Any], str], None] | None = None

    @property
    def layer(self) -> type | None:
        """The relulab layer class for this activation, or None where Keras' ``Activation`` serves."""
        return _LAYERS.get(self.name)

    def defaults(self) -> dict[str, Any]:
        return {key: param.default for key, param in self.params.items()}

    def resolve(self, args: tuple = (), kwargs: Mapping[str, Any] | None = None, *, owner: str) -> dict:
        """All parameters with defaults filled in, after checking every value given.

        Raises:
            TypeError: too many positional arguments, an unknown keyword, or a value of the wrong type.
            ValueError: a value out of its allowed range.
        """
        kwargs = dict(kwargs or {})
        allowed = ", ".join(self.params) or "none"
        if len(args) > len(self.params):
            raise TypeError(
                f"{owner} takes at most {len(self.params)} positional argument(s) ({allowed}). "
                f"Received: {args!r}"
            )
        for key, param in self.params.items():  # the layer's name for a parameter is an alias in specs
            alias = param.layer_argument
            if alias is not None and alias in kwargs:
                if key in kwargs:
                    raise TypeError(f"{owner} got {key} and its alias {alias}; give one.")
                kwargs[key] = kwargs.pop(alias)
        for key, value in zip(self.params, args):
            if key in kwargs:
                raise TypeError(
                    f"{owner} got two values for {key}. Received: {key}={_validate.shown(value)} and "
                    f"{_validate.shown(kwargs[key])}"
                )
            kwargs[key] = value
        unknown = [key for key in kwargs if key not in self.params]
        if unknown:
            aliases = "".join(f" ({param.layer_argument} for {key})" for key, param in self.params.items()
                              if param.layer_argument)
            raise TypeError(
                f"{owner} got an unknown argument {unknown[0]}={_validate.shown(kwargs[unknown[0]])}. "
                f"Allowed arguments: {allowed}{aliases}."
            )
        params = self.defaults()
        for key, value in kwargs.items():
            params[key] = self.params[key].check(value, name=key, owner=owner)
        if self.relation is not None:
            self.relation(params, owner)
        return params

    def function_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The subset of ``params`` that the pure function takes (layer-only ones dropped)."""
        return {key: value for key, value in params.items() if key in self.params and not self.params[key].layer_only}

    def spec(self, params: Mapping[str, Any] | None = None) -> str:
        """Canonical spec string, naming only the parameters that differ from their defaults."""
        given = {k: v for k, v in (params or {}).items() if k in self.params and v != self.params[k].default}
        return format_spec(self.name, given)


_slope, _positive = p.slope, p.positive

_ENTRIES: dict[str, Entry] = {}
_ALIASES: dict[str, str] = {}
_LAYERS: dict[str, type] = {}


def register(entry: Entry) -> Entry:
    """Add ``entry`` to the registry; its name and aliases must be new."""
    if entry.kind not in KINDS:
        raise ValueError(f"kind of {entry.name} must be one of {KINDS}. Received: kind={entry.kind!r}")
    for key in (entry.name, *entry.aliases):
        if key in _ENTRIES or key in _ALIASES:
            raise ValueError(f"activation name {key!r} is already registered.")
    _ENTRIES[entry.name] = entry
    _ALIASES.update({alias: entry.name for alias in entry.aliases})
    return entry


def register_layer(name: str) -> Callable[[type], type]:
    """Class decorator: attach a layer class to the entry ``name`` and make it Keras-serializable."""

    def attach(cls: type) -> type:
        lookup(name)  # the entry must exist
        _LAYERS[name] = cls
        cls.activation_name = name
        return keras.saving.register_keras_serializable(package="relulab")(cls)

    return attach


def available(kind: str | None = None) -> list[str]:
    """Sorted canonical names of the registered activations, optionally of one ``kind``."""
    if kind is not None:
        _validate.one_of(kind, KINDS, name="kind", owner="available")
    return sorted(name for name, entry in _ENTRIES.items() if kind is None or entry.kind == kind)


def all_entries() -> list[Entry]:
    """Every registered entry, sorted by name."""
    return [_ENTRIES[name] for name in available()]


def lookup(name: str) -> Entry:
    """The entry for ``name`` or one of its aliases (case-insensitive, ``-`` read as ``_``).

    Raises:
        ValueError: unknown name; the message lists the valid names.
    """
    key = normalise_name(name)
    key = _ALIASES.get(key, key)
    if key not in _ENTRIES:
        aliases = ", ".join(f"{a}->{n}" for a, n in sorted(_ALIASES.items()))
        raise ValueError(
            f"Unknown activation {_validate.shown(name)}. Valid names: {', '.join(available())} (aliases: {aliases})."
        )
    return _ENTRIES[key]


kact = keras.activations
for _entry in (
    Entry("relu", functions.relu, "rectifier", "max(x, 0); with threshold, max_value and negative_slope options",
          {"negative_slope": Param(0.0, p.slope), "max_value": Param(None, p.optional_non_negative),
           "threshold": Param(0.0, p.finite)}, relation=p.cap_above_threshold),
    Entry("leaky_relu", functions.leaky_relu, "rectifier", "x if x > 0 else negative_slope * x",
          {"negative_slope": Param(defaults.LEAKY_RELU_NEGATIVE_SLOPE, _slope)}, aliases=("leakyrelu", "lrelu")),
    Entry("prelu", functions.prelu, "rectifier", "leaky ReLU with a learned slope per channel (layer)",
          {"alpha": Param(defaults.PRELU_ALPHA, p.finite, layer_argument="alpha_initializer"),
           "shared_axes": Param(None, p.shared_axes, layer_only=True),
           "alpha_regularizer": Param(None, p.keras_name("regularizers"), layer_only=True),
           "alpha_constraint": Param(None, p.keras_name("constraints"), layer_only=True)}),
    Entry("rrelu", functions.rrelu, "rectifier", "leaky ReLU with a random slope in training",
          {"lower": Param(defaults.RRELU_LOWER, p.slope), "upper": Param(defaults.RRELU_UPPER, p.slope),
           "seed": Param(None, p.seed, layer_only=True)},
          relation=p.lower_not_above_upper),
    Entry("relu6", kact.relu6, "rectifier", "min(max(x, 0), 6)"),
    Entry("elu", smooth.elu, "smooth", "x if x > 0 else alpha * (exp(x) - 1)",
          {"alpha": Param(defaults.ELU_ALPHA, _slope)}),
    Entry("selu", smooth.selu, "smooth", "scale * elu(x, alpha) with the self-normalising constants"),
    Entry("celu", functions.celu, "smooth", "max(0, x) + min(0, alpha * (exp(x / alpha) - 1))",
          {"alpha": Param(defaults.CELU_ALPHA, _positive)}),
    Entry("gelu", smooth.gelu, "smooth", "x * Phi(x), or its tanh approximation",
          {"approximate": Param(defaults.GELU_APPROXIMATE, _validate.boolean)}),
    Entry("silu", kact.silu, "smooth", "x * sigmoid(x)", aliases=("swish",)),
    Entry("mish", kact.mish, "smooth", "x * tanh(softplus(x))"),
    Entry("softplus", functions.softplus, "smooth", "log(1 + exp(beta * x)) / beta",
          {"beta": Param(defaults.SOFTPLUS_BETA, _positive),
           "threshold": Param(defaults.SOFTPLUS_THRESHOLD, _positive)}),
    Entry("sigmoid", kact.sigmoid, "saturating", "1 / (1 + exp(-x))"),
    Entry("tanh", kact.tanh, "saturating", "tanh(x)"),
    Entry("hard_sigmoid", smooth.hard_sigmoid, "saturating", "clip(x / 6 + 1/2, 0, 1)"),
    Entry("hard_silu", smooth.hard_silu, "smooth", "x * hard_sigmoid(x)", aliases=("hard_swish",)),
    Entry("softsign", smooth.softsign, "saturating", "x / (1 + |x|)"),
    Entry("linear", kact.linear, "linear", "x (no activation)", aliases=("identity",)),
):
    register(_entry)
del kact, _entry
