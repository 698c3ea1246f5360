"""Each advice rule fires at its documented threshold and not below it, in the order a user should try."""

from __future__ import annotations

import dataclasses
import math

import pytest

from relulab.diagnostics.advice import (
    COLLAPSE_GRADIENT, COLLAPSE_SPREAD, DEAD_FRACTION_ADVICE, DEAD_FRACTION_SEVERE, EXPLODING_RATIO,
    GROWN_KERNEL_SCALE, SATURATED_SHARE_ADVICE, SATURATION_ADVICE, VANISHING_RATIO, LayerFacts, advise, find_all,
)

DYING = ["lower_learning_rate", "leaky_rectifier", "rai"]
DIVERGING = ["lower_learning_rate", "much_lower_learning_rate", "gradient_clipping"]


def facts(dead=None, saturation=None, *, units=64, zero_slope=True, he=False, batch_norm=False, kind="rectifier",
          name="h", share=None, scale=None):
    return LayerFacts(name, units, dead, saturation, zero_slope, he, batch_norm, kind, share, kernel_scale=scale)


def codes(*layers, ratio=None, norms=None, spread=None):
    return [a.code for a in advise(list(layers), ratio, norms, spread=spread)]


@pytest.mark.parametrize("layer, expected", [
    (facts(dead=0.0), []),
    (facts(dead=DEAD_FRACTION_ADVICE - 0.01), []),
    (facts(dead=DEAD_FRACTION_ADVICE), ["leaky_rectifier", "he_init"]),
    (facts(dead=DEAD_FRACTION_ADVICE, he=True, zero_slope=False), []),
    (facts(dead=DEAD_FRACTION_SEVERE), [*DYING, "he_init", "batch_norm"]),
    (facts(dead=DEAD_FRACTION_SEVERE, he=True, batch_norm=True), DYING),
    (facts(dead=1.0, he=True, batch_norm=True), DYING),
    # A leaky layer on its small-slope side still learns: no RAI, no "constant function".
    (facts(dead=1.0, he=True, batch_norm=True, zero_slope=False), ["lower_learning_rate"]),
    # A custom activation (MyReLU) with dead units is a dying rectifier, whatever its zero_slope flag says.
    (facts(dead=DEAD_FRACTION_SEVERE, zero_slope=False, he=True, batch_norm=True, kind="custom"), DYING),
    # ... and its dead units, saturated too, are not counted twice as saturation.
    (facts(dead=0.5, saturation=0.5 + SATURATION_ADVICE - 0.01, he=True, batch_norm=True, kind="custom"), DYING),
    (facts(saturation=SATURATION_ADVICE - 0.01, kind="saturating"), []),
    # A saturating layer: first a rectifier, then batch normalisation; its "dead" units are its saturated ones.
    (facts(saturation=SATURATION_ADVICE, kind="saturating"), ["rectifier", "batch_norm"]),
    (facts(dead=1.0, saturation=1.0, kind="saturating", batch_norm=True), ["rectifier"]),
    # No unit saturated on every example, but most of the layer's values are (tanh with N(0, 1) weights).
    (facts(saturation=0.0, kind="saturating", share=SATURATED_SHARE_ADVICE - 0.01), []),
    (facts(saturation=0.0, kind="saturating", share=SATURATED_SHARE_ADVICE), ["rectifier", "batch_norm"]),
])
def test_layer_rules_fire_at_their_thresholds(layer, expected):
    assert codes(layer) == expected


@pytest.mark.parametrize("ratio, norms, kind, expected", [
    (VANISHING_RATIO, {}, "rectifier", []),
    (VANISHING_RATIO / 2, {}, "rectifier", ["he_init", "batch_norm"]),
    (VANISHING_RATIO / 2, {}, "saturating", ["rectifier", "batch_norm"]),  # the article's fix for sigmoid stacks
    (EXPLODING_RATIO, {}, "rectifier", []),
    (EXPLODING_RATIO * 2, {}, "rectifier", [*DIVERGING, "he_init"]),  # the layer is not He-initialised
    (math.nan, {}, "rectifier", []),
    (1.0, {"h": math.inf, "out": 1.0}, "rectifier", [*DIVERGING, "he_init"]),
])
def test_gradient_rules_fire_at_their_thresholds(ratio, norms, kind, expected):
    assert codes(facts(dead=0.0, kind=kind), ratio=ratio, norms=norms) == expected


def test_diverging_training_gets_he_initialisation_only_where_a_hidden_kernel_is_not_he():
    assert codes(facts(dead=0.0, he=True), ratio=EXPLODING_RATIO * 2) == DIVERGING
    output = LayerFacts("out", 10, 0.0, 0.0, False, False, False, "saturating", None, True)  # Glorot output: usual
    found = find_all([facts(dead=0.0, he=True), output], losses=[10.0, 2.0], chance=2.3)
    assert [(f.kind, list(f.remedies)) for f in found] == [("diverging", DIVERGING)]
    found = find_all([facts(dead=0.0, he=False), output], losses=[10.0, 2.0], chance=2.3)
    assert [(f.kind, list(f.remedies)) for f in found] == [("diverging", [*DIVERGING, "he_init"])]


@pytest.mark.parametrize("spread, gradient, expected", [
    (COLLAPSE_SPREAD / 2, COLLAPSE_GRADIENT / 2, ["he_init", "rai", "batch_norm"]),
    (COLLAPSE_SPREAD, COLLAPSE_GRADIENT / 2, []),
    (COLLAPSE_SPREAD / 2, COLLAPSE_GRADIENT, []),
    (COLLAPSE_SPREAD / 2, None, ["he_init", "rai", "batch_norm"]),  # no labels: the output alone
])
def test_a_collapsed_signal_is_its_own_finding(spread, gradient, expected):
    norms = None if gradient is None else {"h": gradient, "out": gradient / 10}
    found = find_all([facts(dead=0.0)], 10.0 if norms else None, norms, spread=spread)
    assert [f.remedies for f in found if f.kind == "collapsed"] == ([tuple(expected)] if expected else [])


def test_consecutive_layers_with_one_finding_are_one_reason_and_advice_reads_in_findings_order():
    layers = [facts(dead=0.0, name="a0"), *(facts(dead=d, name=f"a{i}") for i, d in enumerate([0.34, 0.4, 0.45], 1)),
              facts(dead=0.0, name="a4"), facts(dead=0.36, name="a5")]
    found = find_all(layers, VANISHING_RATIO / 10)
    assert [f.text for f in found] == [
        "a1 \u2026 a3, 3 layers: 34\u201345% of 64 units dead (no gradient reaches their weights)",
        "a5: 36% of 64 units dead (no gradient reaches their weights)",
        "vanishing gradients: the first layer's gradient is 1.0e-03 of the last layer's",
    ]
    advice = advise(layers, VANISHING_RATIO / 10)
    assert [a.code for a in advice] == ["leaky_rectifier", "he_init", "batch_norm"]
    assert advice[1].layers == ("a1", "a2", "a3", "a5") and len(advice[1].reasons) == 3


def test_a_group_orders_its_remedies_by_its_most_severe_layer():
    layers = [facts(dead=0.4, name="a"), facts(dead=0.9, name="b", he=True, batch_norm=True)]
    assert codes(*layers) == [*DYING, "he_init"]


@pytest.mark.parametrize("ratio, kind, expected", [
    # the output layer learns a constant from constant hidden outputs (gradient 3e-4), none reaches the first layer
    (VANISHING_RATIO / 100, "rectifier", "collapsed"),
    (VANISHING_RATIO * 2, "rectifier", None),  # the gradient still flows: a flat start that is learning
    (VANISHING_RATIO / 100, "saturating", "vanishing"),  # a sigmoid stack's constant output: its own remedy
])
def test_a_constant_output_is_collapsed_when_no_gradient_reaches_the_first_layer(ratio, kind, expected):
    found = find_all([facts(dead=0.0 if kind == "rectifier" else None, kind=kind)], ratio,
                     {"first": 3e-4 * ratio, "last": 3e-4}, spread=0.0)
    assert (found[0].kind if found else None) == expected, [f.text for f in found]


def test_a_collapse_after_an_overshooting_loss_is_attributed_to_it_and_the_steps_remedies_come_first():
    from relulab.diagnostics.advice import DIVERGED_LOSS_FACTOR

    flat = {"h": COLLAPSE_GRADIENT / 2, "out": COLLAPSE_GRADIENT / 4}
    found = find_all([facts(dead=1.0)], 2.0, flat, spread=0.0, losses=[3 * DIVERGED_LOSS_FACTOR, 2.3], chance=2.3)
    assert [f.kind for f in found][:2] == ["diverging", "collapsed"]
    collapsed = found[1]
    assert collapsed.cause == "diverging" and collapsed.text.endswith("left by the diverging training above")
    assert list(collapsed.remedies) == [*DIVERGING, "he_init", "rai", "batch_norm"]
    # the same state with a flat loss is the initialisation's: no cause, its own remedies first
    found = find_all([facts(dead=1.0)], 2.0, flat, spread=0.0, losses=[2.3, 2.3], chance=2.3)
    assert found[0].kind == "collapsed" and found[0].cause == "" and found[0].remedies[0] == "he_init"


@pytest.mark.parametrize("scale, batch_norm, cause", [
    (GROWN_KERNEL_SCALE, False, "diverging"),
    (GROWN_KERNEL_SCALE * 0.99, False, ""),
    (0.05, False, ""),  # a too-small initialisation: the initialisation's collapse
    (GROWN_KERNEL_SCALE * 5, True, ""),  # batch normalisation after it: its scale does not matter
])
def test_a_collapse_with_a_kernel_grown_past_he_scale_is_the_steps(scale, batch_norm, cause):
    flat = {"h": COLLAPSE_GRADIENT / 2, "out": COLLAPSE_GRADIENT / 4}
    layers = [facts(dead=1.0, scale=scale, batch_norm=batch_norm),
              dataclasses.replace(facts(name="out", kind="saturating", zero_slope=False, scale=100.0), output=True)]
    found = find_all(layers, 2.0, flat, spread=0.0)
    collapsed = next(f for f in found if f.kind == "collapsed")
    assert collapsed.cause == cause, [f.text for f in found]
    if cause:
        assert found[0].kind == "diverging" and found[0].layers == ("h",)
        assert f"{scale:.3g}x He's scale" in found[0].text and list(collapsed.remedies[:3]) == DIVERGING
    else:
        assert "diverging" not in [f.kind for f in found]


def test_a_grown_kernel_alone_is_no_finding():
    assert find_all([facts(dead=0.0, scale=GROWN_KERNEL_SCALE * 10)], 1.0, {"h": 0.1, "out": 0.1}, spread=0.5) == []
