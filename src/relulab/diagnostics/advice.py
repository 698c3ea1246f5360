"""Advice that names a remedy, triggered by what was measured, in the order a user should try it.

Findings (per layer unless said otherwise; consecutive layers with the same finding are one finding,
"dense_9 ... dense_34, 26 layers: 12-41% of units dead") and the remedies each calls for, likeliest first:

==================  ==================================================  =======================================
finding             fires when                                          remedies, in order
==================  ==================================================  =======================================
collapsed signal    model-wide (a sigmoid/tanh stack: vanishing): the    He initialisation (if not He), RAI,
                    output varies by less than ``COLLAPSE_SPREAD`` over  batch normalisation; after a diverging
                    the probe and every kernel gradient norm is below    loss (``cause``): the step's remedies
                    ``COLLAPSE_GRADIENT`` or the first/last ratio below  first
                    ``VANISHING_RATIO``
dead units          dead >= 1/3 on a zero-slope rectifier, a smooth or  >= 50%: a lower learning rate; a leaky
                    custom activation (derivative 0 on every example)   or parametric rectifier; >= 50%: RAI;
                                                                        He init (if not He); batch norm (>= 50%
                                                                        and none yet)
small-slope side    dead >= 1/3 on a leaky rectifier                    a lower learning rate (>= 50%); He init
saturated units     saturation >= 10% (for custom activations: beyond   a rectifier with He initialisation,
                    the dead units), or >= 50% of all the layer's       batch normalisation (none yet)
                    values saturated (units saturated on most, not all,
                    examples: tanh with N(0, 1) weights); not for the
                    model's output activation
vanishing           first/last kernel gradient ratio < 0.01             sigmoid/tanh stack: a rectifier with He
                                                                        init, batch norm; else He init (if not
                                                                        He), batch normalisation
exploding           ratio > 100, a non-finite gradient, or a non-finite  a lower learning rate (x0.1, x0.01),
                    training loss in some epoch                         gradient clipping, He init (if not He)
diverging           an epoch's training loss >= 3x the chance loss      the same
                    (uniform predictions: ln k for k classes, plus
                    the regularization penalty; classifiers only); or,
                    with a collapsed signal, a hidden kernel grown to
                    >= 10x He's scale
==================  ==================================================  =======================================

Why: He initialisation keeps rectifier pre-activations at unit variance with depth (He 2015); a leaky
slope keeps a gradient flowing (Maas 2013); large steps push many units past the kink at once; batch
normalisation re-centres pre-activations (Ioffe & Szegedy 2015); clipping bounds an exploding step
(Pascanu et al. 2013); a narrow deep ReLU net is born dead under symmetric initialisation (Lu 2019); a
rectifier does not saturate for positive inputs, the fix for a vanishing sigmoid stack (Glorot 2011).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

# A layer with at least this fraction of dead units gets advice. Healthy ReLU nets keep some dead units: up to
# 28% in one layer of benchmarks/broken_models' controls and 19% in held-out nets trained at Adam's usual step
# (seeds, widths 16-256 and data sets the benchmark does not use); 10% (the first choice) alarmed on 4 of 13
# controls. A third of a layer's units is where the planted dying cases begin (41-97%).
DEAD_FRACTION_ADVICE = 1 / 3
DEAD_FRACTION_SEVERE = 0.50  # ... and at least this fraction, the stronger remedies
SATURATION_ADVICE = 0.10  # fraction of saturated units
SATURATED_SHARE_ADVICE = 0.50  # ... or of all the layer's values (examples x units) in the saturated regime
VANISHING_RATIO = 0.01  # first-layer / last-layer gradient norm below this: vanishing
EXPLODING_RATIO = 100.0  # ... above this: exploding
COLLAPSE_SPREAD = 1e-3  # largest std over the probe of any output unit, relative to max(1, |mean output|)
COLLAPSE_GRADIENT = 1e-4  # every kernel's gradient norm below this (with the output constant): collapsed
# An epoch's mean training loss at this multiple of the chance loss (uniform predictions) or more: the steps
# overshot. A fresh model starts near 1x and healthy training goes down (the first epochs of the 13 controls of
# benchmarks/broken_models: at most 0.97x); class weights that balance the classes by their ratio (w = 9 for 10%
# positives) scale the reported loss by up to 2x (2.17x measured: a false alarm at 2x), so 3x: confidently
# wrong, large logits.
DIVERGED_LOSS_FACTOR = 3.0
# A hidden kernel whose entries' std is this multiple of He's sqrt(2 / fan_in) or more grew under steps that
# overshot: an initialisation starts at ~1x or below (the collapsed cases of benchmarks/broken_models: 0.01-1x,
# unchanged by training), and healthy or dying training leaves it within a few times that (at most 7.4x in the
# benchmark's dying cases, at large steps); the SGD step that collapses a small CNN leaves 47-250x. Read only to
# attribute a collapsed signal (its cause), never as a finding of its own.
GROWN_KERNEL_SCALE = 10.0
# ... and at least this multiple of what its initializer draws, where that is known: a kernel drawn large (N(0, 1) on
# 784 inputs is ~20x He's scale) did not grow; the benchmark's grown kernels are 49-250x their initial draw.
GROWN_KERNEL_FACTOR = 3.0

REMEDIES = {
    "rectifier": "a rectifier with He initialisation in place of the saturating activation "
                 "(activation='relu', kernel_initializer='he_normal')",
    "he_init": "He initialisation (kernel_initializer='he_normal')",
    "leaky_rectifier": "a leaky or parametric rectifier ('leaky_relu(negative_slope=0.1)' or 'prelu')",
    "lower_learning_rate": "a lower learning rate (for example a tenth of the current one)",
    "much_lower_learning_rate": "a much lower learning rate (a hundredth of the current one: a step that "
                                "diverges at x may still diverge at x/10)",
    "batch_norm": "batch normalisation before the activation (Dense(use_bias=False) -> BatchNormalization)",
    "gradient_clipping": "gradient clipping (optimizer=keras.optimizers.Adam(clipnorm=1.0))",
    "rai": "RAI initialisation (relulab.initializers.RAI) or relulab.remedies.revive for the dead units",
}


# what training that diverges (exploding or non-finite gradients, a non-finite loss) calls for, in order
DIVERGING_REMEDIES = ("lower_learning_rate", "much_lower_learning_rate", "gradient_clipping")


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
    kind: str = "rectifier"  # "rectifier", "smooth", "saturating" or "custom"
    saturated_share: float | None = None  # fraction of all values in the saturated regime
    output: bool = False  # the model's output activation: a confident sigmoid output saturates by design
    kernel_scale: float | None = None  # std of the kernel feeding it over He's sqrt(2 / fan_in); None: no kernel
    initial_scale: float | None = None  # the same for what its kernel initializer draws; None: not known


@dataclasses.dataclass(frozen=True)
class Finding:
    """One problem: what was seen, on which layers (none: the whole model), and its remedies in order."""

    kind: str  # "collapsed", "dead", "small_slope", "saturated", "vanishing", "exploding", "diverging"
    text: str
    layers: tuple[str, ...]
    remedies: tuple[str, ...]
    cause: str = ""  # the kind of finding this one is attributed to ("diverging": a collapse the overshoot left)


@dataclasses.dataclass(frozen=True)
class Advice:
    """One remedy, the layers it concerns and why it is advised (the findings' texts)."""

    code: str
    remedy: str
    reasons: tuple[str, ...]
    layers: tuple[str, ...]


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def _layer_finding(layer: LayerFacts) -> tuple[str, float, str, tuple[str, ...]] | None:
    """``(kind, value, what, remedies)`` for one layer, or None when it is healthy."""
    dead, saturation = layer.dead_fraction, layer.saturation
    not_he = ("he_init",) if layer.he_initialised is False else ()
    if layer.kind == "custom" and saturation is not None and dead is not None:
        saturation = saturation - dead  # a dead unit is also saturated: count the others
    if dead is not None and dead >= DEAD_FRACTION_ADVICE and layer.kind != "saturating":
        severe = dead >= DEAD_FRACTION_SEVERE
        if layer.zero_slope or layer.kind in ("custom", "smooth"):
            norm = ("batch_norm",) if severe and not layer.batch_norm else ()
            first = ("lower_learning_rate", "leaky_rectifier", "rai") if severe else ("leaky_rectifier",)
            return ("dead", dead, "of units dead (no gradient reaches their weights)", (*first, *not_he, *norm))
        return ("small_slope", dead, "of units on the small-slope side for every example (linear units with a "
                "small gradient)", (*(("lower_learning_rate",) if severe else ()), *not_he))
    if layer.output:
        return None  # a confident sigmoid output is near its asymptotes by design
    norm = () if layer.batch_norm else ("batch_norm",)
    if saturation is not None and saturation >= SATURATION_ADVICE:
        return ("saturated", saturation, "of units saturated (derivative below 4% of its peak on every example)",
                ("rectifier", *norm))
    share = layer.saturated_share
    if share is not None and share >= SATURATED_SHARE_ADVICE:  # most values saturated, if not every unit always
        return ("saturated", share, "of the layer's values saturated (derivative below 4% of its peak)",
                ("rectifier", *norm))
    return None


def _range(values: list[float]) -> str:
    low, high = min(values), max(values)
    return _percent(low) if _percent(low) == _percent(high) else f"{100 * low:.0f}\u2013{_percent(high)}"


def layer_findings(layers: Sequence[LayerFacts]) -> list[Finding]:
    """Per-layer findings, consecutive layers with the same kind of finding grouped into one."""
    runs: list[list[tuple[LayerFacts, tuple]]] = []
    for index, layer in enumerate(layers):
        found = _layer_finding(layer)
        if found is None:
            continue
        last = runs[-1] if runs else None
        if last and last[-1][1][::2] == found[::2] and layers[index - 1] is last[-1][0]:  # same kind and text
            last.append((layer, found))
        else:
            runs.append([(layer, found)])
    findings = []
    for run in runs:
        names = [layer.name for layer, _ in run]
        units = {layer.units for layer, _ in run}
        of = f" of {units.pop()}" if len(units) == 1 else ""
        what = run[0][1][2].replace("of units", f"{of} units".strip(), 1) if of else run[0][1][2]
        where = names[0] if len(names) == 1 else f"{names[0]} \u2026 {names[-1]}, {len(names)} layers"
        worst_first = sorted(run, key=lambda member: -member[1][1])  # the most severe layer sets the order
        remedies = tuple(dict.fromkeys(code for _, found in worst_first for code in found[3]))
        findings.append(Finding(run[0][1][0], f"{where}: {_range([f[1] for _, f in run])} {what}", tuple(names),
                                remedies))
    return findings


def _hidden(layers: Sequence[LayerFacts]) -> list[LayerFacts]:
    """The layers that are not the model's output activation (all of them if that leaves none)."""
    return [layer for layer in layers if not layer.output] or list(layers)


def _family(layers: Sequence[LayerFacts]) -> str:
    kinds = [layer.kind for layer in _hidden(layers)]
    return "saturating" if kinds and kinds.count("saturating") * 2 >= len(kinds) else "rectifier"


def _not_he(layers: Sequence[LayerFacts]) -> tuple[str, ...]:
    """``("he_init",)`` when a hidden layer's kernel is known not to be He-initialised (the output layer's
    Glorot kernel is the usual choice and does not count)."""
    return ("he_init",) if any(layer.he_initialised is False for layer in _hidden(layers)) else ()


def _diverging_remedies(layers: Sequence[LayerFacts]) -> tuple[str, ...]:
    """What training that diverges calls for: :data:`DIVERGING_REMEDIES`, then He initialisation where a hidden
    kernel is known not to be He-scaled (an initialisation whose scale grows layer by layer overshoots)."""
    return (*DIVERGING_REMEDIES, *_not_he(layers))


def gradient_findings(layers: Sequence[LayerFacts], grad_ratio: float | None,
                      norms: dict[str, float]) -> list[Finding]:
    """Model-wide findings on the gradient norms: non-finite, vanishing or exploding."""
    bad = [name for name, norm in norms.items() if not math.isfinite(norm)]
    diverging = _diverging_remedies(layers)
    if bad:
        return [Finding("exploding", f"non-finite gradient in {', '.join(bad)}", (), diverging)]
    if grad_ratio is None or math.isnan(grad_ratio):
        return []
    if grad_ratio < VANISHING_RATIO:
        text = f"vanishing gradients: the first layer's gradient is {grad_ratio:.1e} of the last layer's"
        if _family(layers) == "saturating":
            return [Finding("vanishing", text, (), ("rectifier", "batch_norm"))]
        return [Finding("vanishing", text, (), (*_not_he(layers), "batch_norm"))]
    if grad_ratio > EXPLODING_RATIO:
        return [Finding("exploding", f"exploding gradients: the first layer's gradient is {grad_ratio:.1e} times the "
                        f"last layer's", (), diverging)]
    return []


def collapse_finding(layers: Sequence[LayerFacts], spread: float | None, top_gradient: float | None,
                     grad_ratio: float | None = None) -> list[Finding]:
    """The collapsed-signal finding: the output is constant over the probe (its spread below
    ``COLLAPSE_SPREAD``) and no gradient reaches the first layer -- every kernel gradient below
    ``COLLAPSE_GRADIENT``, or the first layer's below ``VANISHING_RATIO`` of the last's (the output layer
    still learns a bias-driven constant from the hidden layers' constant outputs). Without gradients
    (no labels), the constant output alone. In a sigmoid/tanh stack the same signs are reported as
    vanishing gradients, whose remedy (a rectifier) differs."""
    if spread is None or spread >= COLLAPSE_SPREAD:
        return []
    measured = top_gradient is not None or grad_ratio is not None
    no_gradient = top_gradient is not None and top_gradient < COLLAPSE_GRADIENT
    no_flow = grad_ratio is not None and grad_ratio < VANISHING_RATIO
    if measured and not (no_gradient or no_flow):
        return []
    if top_gradient is None:
        gradient = ""
    elif no_gradient:
        gradient = f" and the largest kernel gradient is {top_gradient:.1e}"
    else:
        gradient = f" and the first layer's gradient is {grad_ratio:.1e} of the last layer's"
    if _family(layers) == "saturating":
        return [Finding("vanishing", f"vanishing gradients: the output varies by {spread:.1e} over the probe"
                        f"{gradient} (a saturating stack passes no signal)", (), ("rectifier", "batch_norm"))]
    return [Finding("collapsed", f"collapsed signal: the output varies by {spread:.1e} over the probe{gradient} "
                    f"(a constant function)", (), (*_not_he(layers), "rai", "batch_norm"))]


def loss_findings(losses: Sequence[float], chance: float | None = None,
                  layers: Sequence[LayerFacts] = ()) -> list[Finding]:
    """Findings on the training loss per epoch: a non-finite loss (``exploding``), or an epoch whose loss
    reached ``DIVERGED_LOSS_FACTOR`` times ``chance`` (``diverging``: the loss of uniform predictions,
    :func:`relulab.diagnostics.targets.chance_loss`; None skips that rule). Remedies: a lower step,
    clipping, and He initialisation when a hidden kernel of ``layers`` is known not to be He-scaled (an
    initialisation whose scale grows layer by layer overshoots at any step).

    A run can overshoot, then settle with its units dead or its output constant; the report then names
    both, and :func:`find_all` attributes a constant output to the overshoot.
    """
    values = [float(loss) for loss in losses]
    remedies = _diverging_remedies(layers)
    for epoch, loss in enumerate(values, start=1):
        if not math.isfinite(loss):
            return [Finding("exploding", f"exploding training: the loss became {loss} in epoch {epoch}", (),
                            remedies)]
    if chance is None or chance <= 0 or not values:
        return []
    worst = max(range(len(values)), key=values.__getitem__)
    if values[worst] < DIVERGED_LOSS_FACTOR * chance:
        return []
    return [Finding("diverging", f"diverging training: the loss reached {values[worst]:.3g} in epoch {worst + 1}, "
                    f"{values[worst] / chance:.3g}x the {chance:.3g} of uniform predictions (steps that overshoot)",
                    (), remedies)]


def grown_kernel_finding(layers: Sequence[LayerFacts]) -> list[Finding]:
    """A ``diverging`` finding when a hidden layer's kernel (not followed by batch normalisation, which makes its
    scale irrelevant) is ``GROWN_KERNEL_SCALE`` times He's scale or more, and ``GROWN_KERNEL_FACTOR`` times what its
    initializer draws where that is known (a kernel drawn that large did not grow): the mark that overshooting steps leave in
    the weights, when the loss history is not at hand or was averaged down. Only :func:`find_all`'s attribution
    of a collapsed signal reads it."""
    grown = [layer for layer in _hidden(layers) if not layer.batch_norm and layer.kernel_scale is not None
             and layer.kernel_scale >= GROWN_KERNEL_SCALE
             and (layer.initial_scale is None or layer.kernel_scale >= GROWN_KERNEL_FACTOR * layer.initial_scale)]
    if not grown:
        return []
    worst = max(grown, key=lambda layer: layer.kernel_scale)
    return [Finding("diverging", f"diverging training: the kernel feeding {worst.name} grew to "
                    f"{worst.kernel_scale:.3g}x He's scale sqrt(2/fan_in) (steps that overshoot)",
                    tuple(layer.name for layer in grown), _diverging_remedies(layers))]


def remedies_for(findings: Sequence[Finding]) -> list[Advice]:
    """One :class:`Advice` per remedy, in the order the findings (most severe first) call for them."""
    order: dict[str, tuple[list[str], list[str]]] = {}
    for finding in findings:
        for code in finding.remedies:
            reasons, names = order.setdefault(code, ([], []))
            reasons.append(finding.text)
            names.extend(finding.layers)
    return [Advice(code, REMEDIES[code], tuple(dict.fromkeys(reasons)), tuple(dict.fromkeys(names)))
            for code, (reasons, names) in order.items()]


def find_all(layers: Sequence[LayerFacts], grad_ratio: float | None = None, grad_norms: dict[str, float] | None = None,
             *, spread: float | None = None, losses: Sequence[float] = (),
             chance: float | None = None) -> list[Finding]:
    """Every finding, most severe first: a collapsed signal, then the layers, then the gradient flow, then
    the training loss per epoch (``losses``, judged against ``chance``: :func:`loss_findings`). A collapse
    after a loss that overshot, or with kernels grown far past He's scale (:func:`grown_kernel_finding`), is
    attributed to that (``cause``), and the overshoot's finding comes first."""
    norms = grad_norms or {}
    finite = [value for value in norms.values() if math.isfinite(value)]
    top = max(finite) if finite and len(finite) == len(norms) else (None if not norms else math.inf)
    collapsed = collapse_finding(layers, spread, top, grad_ratio)  # in a sigmoid/tanh stack: a vanishing finding
    said = {finding.kind for finding in collapsed}
    gradient = [finding for finding in gradient_findings(layers, grad_ratio, norms) if finding.kind not in said]
    loss = [finding for finding in loss_findings(losses, chance, layers)
            if not (finding.kind == "exploding" and any(other.kind == "exploding" for other in gradient))]
    is_collapsed = any(finding.kind == "collapsed" for finding in collapsed)
    overshoot = loss or (grown_kernel_finding(layers) if is_collapsed else [])
    if overshoot and is_collapsed:
        # A constant function left by training whose loss overshot, or whose kernels grew far past any
        # initialisation's scale: the step killed the signal, so the step's remedies come first
        # (benchmarks/broken_models: SGD steps of 5 to 100 kill every unit of a small CNN).
        collapsed = [_left_by(finding, overshoot[0]) if finding.kind == "collapsed" else finding
                     for finding in collapsed]
        return [*overshoot, *collapsed, *layer_findings(layers), *gradient]
    return [*collapsed, *layer_findings(layers), *gradient, *loss]


def _left_by(collapsed: Finding, overshoot: Finding) -> Finding:
    """``collapsed`` attributed to the ``overshoot`` (a diverging or non-finite loss) that preceded it."""
    return dataclasses.replace(
        collapsed, text=f"{collapsed.text}, left by the {overshoot.kind} training above",
        remedies=tuple(dict.fromkeys((*overshoot.remedies, *collapsed.remedies))), cause=overshoot.kind)


def advise(
    layers: Sequence[LayerFacts], grad_ratio: float | None = None, grad_norms: dict[str, float] | None = None,
    *, spread: float | None = None, losses: Sequence[float] = (), chance: float | None = None,
) -> list[Advice]:
    """The remedies that the measurements call for, one :class:`Advice` per remedy, likeliest fix first."""
    return remedies_for(find_all(layers, grad_ratio, grad_norms, spread=spread, losses=losses, chance=chance))
