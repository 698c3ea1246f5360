"""RReLU's random slopes: U(lower, upper) to within what 10^6 draws resolve, on a 65,536-level grid."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy import stats

from relulab import activations
from relulab.activations.slopes import LEVELS, uniform_slopes


def _slopes(shape, lower, upper, dtype="float32", seed=3):
    x = keras.ops.convert_to_tensor(-np.ones(shape), dtype=dtype)
    y = activations.rrelu(x, lower, upper, training=True, seed=keras.random.SeedGenerator(seed))
    return -keras.ops.convert_to_numpy(keras.ops.cast(y, "float32")).astype("float64").ravel()


@pytest.mark.parametrize(("lower", "upper"), [(1 / 8, 1 / 3), (0.0, 1.0)])
def test_a_million_slopes_pass_kolmogorov_smirnov_against_the_uniform(lower, upper):
    slopes = _slopes((1000, 1001), lower, upper)  # odd last axis: the unpaired half is dropped
    assert slopes.size == 1_001_000
    result = stats.kstest(slopes, stats.uniform(lower, upper - lower).cdf)
    assert result.pvalue > 1e-3, result  # 10^6 draws resolve a KS distance of ~1.4e-3
    assert lower < slopes.min() and slopes.max() < upper
    assert abs(slopes.mean() - (lower + upper) / 2) < 5 * (upper - lower) / np.sqrt(12 * slopes.size)


def test_slopes_are_the_centres_of_65536_levels_and_all_levels_occur():
    slopes = _slopes((1000, 2000), 0.0, 1.0)
    levels = slopes * LEVELS - 0.5
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-3)
    assert np.unique(np.round(levels)).size == LEVELS


def test_halves_of_one_draw_are_independent():
    slopes = _slopes((200, 1000), 0.0, 1.0).reshape(200, 1000)
    first, second = slopes[:, :500].ravel(), slopes[:, 500:].ravel()  # the two halves of each draw
    assert abs(np.corrcoef(first, second)[0, 1]) < 5 / np.sqrt(first.size)


def test_equal_bounds_give_that_slope_and_float16_stays_finite():
    np.testing.assert_allclose(_slopes((4, 6), 0.2, 0.2), 0.2, rtol=1e-6)
    slopes = _slopes((100, 100), 0.0, 1.0, dtype="float16")
    assert np.isfinite(slopes).all() and slopes.max() <= 1.0


def test_a_scalar_falls_back_to_a_float_uniform():
    slope = float(keras.ops.convert_to_numpy(uniform_slopes((), 0.1, 0.3, "float32", 0)))
    assert 0.1 <= slope <= 0.3
