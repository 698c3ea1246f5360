"""Advice that names a remedy, triggered by what was measured.

Thresholds (each rule fires on the measurement named, per layer unless said otherwise):

=====================  ==============================================  ===================================
remedy (code)          fires when                                       why
=====================  ==============================================  ===================================
he_init                dead >= 10% and the kernel is not He-scaled, or  keeps rectifier pre-activations at
                       gradient ratio < 0.01                            unit variance with depth (He 2015)
leaky_rectifier        dead >= 10% on a zero-slope rectifier (ReLU,     a negative slope keeps a gradient
                       ReLU6), or saturation >= 10%                     flowing (Maas 2013, He 2015)
lower_learning_rate    dead >= 50%, or gradient ratio > 100 or a non-   large steps push many units past
                       finite gradient                                  the kink at once
batch_norm             dead >= 50% or saturation >= 10% without batch   re-centres pre-activations so units
                       normalisation before the activation, or          fire on about half of the examples
                       gradient ratio < 0.01                            (Ioffe & Szegedy 2015)
gradient_clipping      gradient ratio > 100 or a non-finite gradient    bounds the step of an exploding
                                                                        gradient (Pascanu et al. 2013)
rai                    a zero-slope layer 100% dead, or >= 50% dead    asymmetric start: a narrow deep
                       at width <= 32                                   ReLU net is born dead (Lu 2019)
=====================  ==============================================  ===================================
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

DEAD_FRACTION_ADVICE = 0.10  # a layer with at least this fraction of dead units gets advice
DEAD_FRACTION_SEVERE = 0.50  # ... and at least this fraction, the stronger remedies
NARROW_WIDTH = 32  # units: at or below this width a half-dead layer points to RAI
SATURATION_ADVICE = 0.10  # fraction of saturated units
VANISHING_RATIO = 0.01  # first-layer / last-layer gradient norm below this: vanishing
EXPLODING_RATIO = 100.0  # ... above this: exploding

REMEDIES = {
    "he_init": "He initialisation (kernel_initializer='he_normal')",
    "leaky_rectifier": "a leaky or parametric rectifier ('leaky_relu(negative_slope=0.1)' or 'prelu')",
    "lower_learning_rate": "a lower learning rate (for example a tenth of the current one)",
    "batch_norm": "batch normalisation before the activation (Dense(use_bias=False) -> BatchNormalization)",
    "gradient_clipping": "gradient clipping (optimizer=keras.optimizers.Adam(clipnorm=1.0))",
    "rai": "RAI initialisation (relulab.initializers.RAI) or relulab.remedies.revive for the dead units",
}


@dataclasses.dataclass(frozen=True)
class LayerFacts:
    """What the advice rules read about one measured layer."""

    name: str
    units: int
    dead_fraction: float | None
    saturation: float | None
    zero_slope: bool
    he_initialised: bool | None  # None where the kernel layer is unknown
    batch_norm: bool


@dataclasses.dataclass(frozen=True)
class Advice:
    """One remedy, the layers it concerns and why it is advised."""

    code: str
    remedy: str
    reasons: tuple[str, ...]
    layers: tuple[str, ...]


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def _layer_findings(layer: LayerFacts) -> list[tuple[str, str]]:
    found = []
    dead, saturation = layer.dead_fraction, layer.saturation
    if dead is not None and dead >= DEAD_FRACTION_ADVICE:
        if layer.zero_slope:  # flat side: these units pass no gradient and output a constant
            what = f"{layer.name}: {_percent(dead)} of {layer.units} units are dead (no gradient reaches their weights)"
        else:  # a leaky side still passes a (small) gradient: the units are linear, not dead for good
            what = (f"{layer.name}: {_percent(dead)} of {layer.units} units stay on the small-slope side for every "
                    f"example (they act as linear units with a small gradient)")
        if layer.he_initialised is False:
            found.append(("he_init", what))
        if layer.zero_slope:
            found.append(("leaky_rectifier", what))
        if dead >= DEAD_FRACTION_SEVERE:
            found.append(("lower_learning_rate", what))
            if not layer.batch_norm:
                found.append(("batch_norm", what))
        if layer.zero_slope and (dead >= 1.0 or (dead >= DEAD_FRACTION_SEVERE and layer.units <= NARROW_WIDTH)):
            found.append(("rai", what + "; the network is (nearly) a constant function from here on"))
    if saturation is not None and saturation >= SATURATION_ADVICE:
        what = f"{layer.name}: {_percent(saturation)} of units are saturated (derivative near 0 on every example)"
        found.append(("leaky_rectifier", what))
        if not layer.batch_norm:
            found.append(("batch_norm", what))
    return found


def _gradient_findings(grad_ratio: float | None, norms: dict[str, float]) -> list[tuple[str, str]]:
    bad = [name for name, norm in norms.items() if not math.isfinite(norm)]
    if bad:
        what = f"non-finite gradient in {', '.join(bad)}"
        return [("gradient_clipping", what), ("lower_learning_rate", what)]
    if grad_ratio is None or math.isnan(grad_ratio):
        return []
    if grad_ratio < VANISHING_RATIO:
        what = f"first-layer gradient is {grad_ratio:.1e} of the last layer's (vanishing gradients)"
        return [("batch_norm", what), ("he_init", what)]
    if grad_ratio > EXPLODING_RATIO:
        what = f"first-layer gradient is {grad_ratio:.1e} times the last layer's (exploding gradients)"
        return [("gradient_clipping", what), ("lower_learning_rate", what)]
    return []


def advise(
    layers: Sequence[LayerFacts], grad_ratio: float | None = None, grad_norms: dict[str, float] | None = None
) -> list[Advice]:
    """The remedies that the measurements call for, one :class:`Advice` per remedy, in a fixed order."""
    findings: dict[str, tuple[list[str], list[str]]] = {}
    for layer in layers:
        for code, reason in _layer_findings(layer):
            reasons, names = findings.setdefault(code, ([], []))
            reasons.append(reason)
            names.append(layer.name)
    for code, reason in _gradient_findings(grad_ratio, grad_norms or {}):
        findings.setdefault(code, ([], []))[0].append(reason)
    return [
        Advice(code, REMEDIES[code], tuple(dict.fromkeys(findings[code][0])), tuple(dict.fromkeys(findings[code][1])))
        for code in REMEDIES if code in findings
    ]
