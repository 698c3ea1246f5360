"""``born_dead_probability``: how often a freshly initialised ReLU network is a constant function.

Lu, Shin, Su & Karniadakis 2019 ("Dying ReLU and Initialization: Theory and Numerical Examples") call a
network *born dead* when, at initialisation, it is constant on its input domain: some hidden layer
is zero for every input, so nothing before it can ever be trained. For a fixed width, the
probability tends to 1 with depth under symmetric initialisations; their RAI initialisation
(:mod:`relulab.initializers`) lowers it.

Monte Carlo, vectorised: ``trials`` networks of ``depth`` hidden ReLU layers of ``width`` units on
``input_dim`` inputs are drawn at once (NumPy, batched matrix products) and evaluated on ``samples``
points drawn uniformly from ``[-1, 1]^input_dim`` (the same points for every network). A network counts
as born dead when its last hidden layer's output is exactly the same on every point (a dead layer
makes every later layer exactly constant). The standard error of the estimate is
``sqrt(p * (1 - p) / trials)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from relulab import _validate
from relulab.initializers import RAI_BETA, RAI_SCALE

Sampler = Callable[[np.random.Generator, int, int, int], tuple[np.ndarray, np.ndarray]]
_BLOCK_ELEMENTS = 4_000_000  # floats per block of trials (bounds memory at about 32 MB per layer)


def _symmetric(variance: float, uniform: bool) -> Sampler:
    def draw(rng: np.random.Generator, trials: int, fan_in: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        scale = math.sqrt(variance / fan_in)
        shape = (trials, fan_in, width)
        if uniform:
            kernel = rng.uniform(-scale * math.sqrt(3), scale * math.sqrt(3), shape)
        else:
            kernel = rng.normal(0.0, scale, shape)
        return kernel, np.zeros((trials, 1, width))
    return draw


def _rai(rng: np.random.Generator, trials: int, fan_in: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    values = rng.normal(0.0, RAI_SCALE / math.sqrt(fan_in), (trials, fan_in + 1, width))
    chosen = rng.integers(0, fan_in + 1, (trials, 1, width))
    np.put_along_axis(values, chosen, rng.beta(*RAI_BETA, (trials, 1, width)), axis=1)
    return values[:, :-1, :], values[:, -1:, :]


# Kernels as Keras draws them (truncation of the *_normal forms aside), biases zero; RAI as Lu et al.
SAMPLERS: dict[str, Sampler] = {
    "he_normal": _symmetric(2.0, uniform=False),
    "he_uniform": _symmetric(2.0, uniform=True),
    "glorot_normal": _symmetric(1.0, uniform=False),  # variance 2 / (fan_in + fan_out) ~ 1 / fan_in for square layers
    "lecun_normal": _symmetric(1.0, uniform=False),
    "rai": _rai,
}


def _constant_fraction(sampler: Sampler, rng: np.random.Generator, points: np.ndarray, trials: int,
                       width: int, depth: int) -> int:
    hidden = np.broadcast_to(points, (trials, *points.shape))
    for _ in range(depth):
        kernel, bias = sampler(rng, trials, hidden.shape[-1], width)
        hidden = np.maximum(hidden @ kernel + bias, 0.0)
    return int(np.all(hidden == hidden[:, :1, :], axis=(1, 2)).sum())


def born_dead_probability(
    width: int,
    depth: int,
    *,
    initializer: str = "he_normal",
    input_dim: int = 1,
    trials: int = 2000,
    samples: int = 64,
    seed: int = 0,
) -> float:
    """Monte Carlo estimate of the probability that a freshly initialised ReLU network is constant.

    Example:
        >>> born_dead_probability(2, 10) > born_dead_probability(2, 1)
        True
        >>> born_dead_probability(2, 10, initializer="rai") < born_dead_probability(2, 10)
        True

    Args:
        width: units per hidden layer. depth: number of hidden ReLU layers.
        initializer: one of ``he_normal`` (default), ``he_uniform``, ``glorot_normal``, ``lecun_normal``
            (zero biases) or ``rai`` (Lu et al.: weights and bias asymmetric).
        input_dim: input features, default 1 (as in Lu et al.'s examples).
        trials: networks drawn, default 2000. samples: input points per network, default 64.
        seed: seed of the draws, default 0.

    Raises:
        TypeError / ValueError: a size that is not an integer >= 1, an unknown initializer.
    """
    sizes = {name: _validate.positive_int(value, name=name, owner="born_dead_probability")
             for name, value in dict(width=width, depth=depth, input_dim=input_dim, trials=trials,
                                     samples=samples).items()}
    _validate.one_of(initializer, tuple(SAMPLERS), name="initializer", owner="born_dead_probability")
    rng = np.random.default_rng(seed)
    points = rng.uniform(-1.0, 1.0, (sizes["samples"], sizes["input_dim"]))
    per_block = max(1, _BLOCK_ELEMENTS // (sizes["samples"] * max(width, input_dim)))
    dead = 0
    for start in range(0, trials, per_block):
        block = min(per_block, trials - start)
        dead += _constant_fraction(SAMPLERS[initializer], rng, points, block, width, depth)
    return dead / trials
