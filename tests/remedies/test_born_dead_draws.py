"""``born_dead_probability`` draws Gaussian kernels in the span of the points (same distribution, far fewer
draws), and refuses a network that cannot fit in memory, naming what it would need."""

from __future__ import annotations

import math

import numpy as np
import pytest

from relulab.errors import SizeError
from relulab.remedies import born_dead_probability
from relulab.remedies.born_dead import SAMPLERS, _constant_count, _layer


def test_drawing_in_the_points_span_gives_the_pre_activations_of_a_whole_kernel():
    rng = np.random.default_rng(0)
    hidden = np.broadcast_to(np.maximum(rng.normal(size=(3, 40)), 0.0), (20000, 3, 40))
    pre = {direct: _layer(SAMPLERS["he_normal"], np.random.default_rng(1), hidden, 2, direct) for direct in (True, False)}
    expected = 2.0 / 40 * (hidden[0] ** 2).sum(axis=1)  # Var((h W)_i) = var / fan_in * |h_i|^2
    for values in pre.values():
        np.testing.assert_allclose((values ** 2).mean(axis=(0, 2)), expected, rtol=0.03)
        # the correlation between points is that of their hidden vectors, for both
        corr = np.corrcoef(values[:, 0, 0], values[:, 1, 0])[0, 1]
        h = hidden[0]
        assert corr == pytest.approx(h[0] @ h[1] / np.linalg.norm(h[0]) / np.linalg.norm(h[1]), abs=0.03)


def test_born_dead_probability_is_the_same_as_with_whole_kernels():
    points = np.random.default_rng(1).uniform(-1, 1, (3, 1))
    n = 20000
    whole = _constant_count(SAMPLERS["he_normal"], np.random.default_rng(2), points, n, 5, 15, direct=True) / n
    spanned = born_dead_probability(5, 15, samples=3, trials=n, seed=3)
    assert 0.2 < whole < 0.35
    assert abs(spanned - whole) < 4 * math.sqrt(2 * whole * (1 - whole) / n)


def test_a_width_whose_kernel_cannot_fit_is_refused_naming_the_memory():
    with pytest.raises(SizeError, match=r"^width of born_dead_probability: 1000000 with initializer 'he_uniform' "
                                        r"needs 7\.28 TiB for one network .*; this machine has .*\. Choose a smaller "
                                        r"width, or a Gaussian initializer \(he_normal, glorot_normal, lecun_normal\)"):
        born_dead_probability(10**6, 3, initializer="he_uniform")
    with pytest.raises(SizeError, match=r"^width of born_dead_probability: 100000000000 with initializer 'he_normal' "
                                        r"needs 187 TiB for one network \(its 64 x 100000000000 draws and its activations, in float64\)"):
        born_dead_probability(10**11, 3)
