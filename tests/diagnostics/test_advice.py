"""Each advice rule fires at its documented threshold and not below it."""

from __future__ import annotations

import math

import pytest

from relulab.diagnostics.advice import (
    DEAD_FRACTION_ADVICE, DEAD_FRACTION_SEVERE, EXPLODING_RATIO, SATURATION_ADVICE, VANISHING_RATIO, LayerFacts,
    advise,
)


def facts(dead=None, saturation=None, *, units=64, zero_slope=True, he=False, batch_norm=False):
    return LayerFacts("h", units, dead, saturation, zero_slope, he, batch_norm)


def codes(*layers, ratio=None, norms=None):
    return [a.code for a in advise(list(layers), ratio, norms)]


@pytest.mark.parametrize("layer, expected", [
    (facts(dead=0.0), []),
    (facts(dead=DEAD_FRACTION_ADVICE - 0.01), []),
    (facts(dead=DEAD_FRACTION_ADVICE), ["he_init", "leaky_rectifier"]),
    (facts(dead=DEAD_FRACTION_ADVICE, he=True, zero_slope=False), []),
    (facts(dead=DEAD_FRACTION_SEVERE), ["he_init", "leaky_rectifier", "lower_learning_rate", "batch_norm"]),
    (facts(dead=DEAD_FRACTION_SEVERE, he=True, batch_norm=True), ["leaky_rectifier", "lower_learning_rate"]),
    (facts(dead=DEAD_FRACTION_SEVERE, units=32, he=True, batch_norm=True),
     ["leaky_rectifier", "lower_learning_rate", "rai"]),
    (facts(dead=1.0, he=True, batch_norm=True), ["leaky_rectifier", "lower_learning_rate", "rai"]),
    # A leaky layer on its small-slope side still learns: no RAI, no "constant function".
    (facts(dead=1.0, he=True, batch_norm=True, zero_slope=False), ["lower_learning_rate"]),
    (facts(saturation=SATURATION_ADVICE - 0.01), []),
    (facts(saturation=SATURATION_ADVICE), ["leaky_rectifier", "batch_norm"]),
])
def test_layer_rules_fire_at_their_thresholds(layer, expected):
    assert codes(layer) == expected


@pytest.mark.parametrize("ratio, norms, expected", [
    (VANISHING_RATIO, {}, []),
    (VANISHING_RATIO / 2, {}, ["he_init", "batch_norm"]),
    (EXPLODING_RATIO, {}, []),
    (EXPLODING_RATIO * 2, {}, ["lower_learning_rate", "gradient_clipping"]),
    (math.nan, {}, []),
    (1.0, {"h": math.inf, "out": 1.0}, ["lower_learning_rate", "gradient_clipping"]),
])
def test_gradient_rules_fire_at_their_thresholds(ratio, norms, expected):
    assert codes(facts(dead=0.0), ratio=ratio, norms=norms) == expected


def test_one_advice_per_remedy_with_every_layer_and_reason():
    layers = [LayerFacts("a", 8, 0.2, None, True, False, False), LayerFacts("b", 8, 0.3, None, True, False, False)]
    advice = advise(layers, VANISHING_RATIO / 10)
    he = advice[0]
    assert he.code == "he_init" and he.layers == ("a", "b") and len(he.reasons) == 3
    assert he.reasons[0] == "a: 20% of 8 units are dead (no gradient reaches their weights)"
    assert "vanishing" in he.reasons[2] and he.remedy.startswith("He initialisation")
