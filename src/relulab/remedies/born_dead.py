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
``sqrt(p * (1 - p) / trials)``. Gaussian kernels wider than the points are drawn in the points' span
(:func:`_layer`): the same distribution from ``samples x width`` draws instead of ``fan_in x width``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from relulab import _memory, _validate
from relulab.errors import SizeError
from relulab.initializers import RAI_BETA, RAI_SCALE

Sampler = Callable[[np.random.Generator, int, int, int], tuple[np.ndarray, np.ndarray]]
_BLOCK_ELEMENTS = 4_000_000  # floats per block of trials (bounds memory at about 32 MB per array)
_BYTES = 8  # float64


def _symmetric(variance: float, uniform: bool) -> Sampler:
    def draw(rng: np.random.Generator, trials: int, fan_in: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        scale = math.sqrt(variance / fan_in)
        shape = (trials, fan_in, width)
        if uniform:
            kernel = rng.uniform(-scale * math.sqrt(3), scale * math.sqrt(3), shape)
        else:
            kernel = rng.normal(0.0, scale, shape)
        return kernel, np.zeros((trials, 1, width))
    draw.variance = None if uniform else variance  # Gaussian kernels can be drawn in the samples' span
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


def _gaussian(sampler: Sampler) -> float | None:
    return getattr(sampler, "variance", None)


def _layer(sampler: Sampler, rng: np.random.Generator, hidden: np.ndarray, width: int, direct: bool) -> np.ndarray:
    """The next layer's pre-activations ``hidden @ kernel + bias`` for a fresh kernel per network.

    A Gaussian kernel ``W`` with more rows (``fan_in``) than there are points is not drawn: with the thin
    QR factorisation ``hidden^T = Q R``, ``hidden @ W = R^T (Q^T W)``, and ``Q^T W`` has i.i.d. entries of
    ``W``'s distribution because ``Q``'s columns are orthonormal (and ``W`` is independent of ``hidden``).
    So ``samples x width`` normal draws give exactly the distribution of ``fan_in x width`` of them.
    """
    trials, samples, fan_in = hidden.shape
    variance = _gaussian(sampler)
    if direct or variance is None or fan_in <= samples:
        kernel, bias = sampler(rng, trials, fan_in, width)
        return hidden @ kernel + bias
    r = np.linalg.qr(np.swapaxes(hidden, 1, 2), mode="r")  # (trials, samples, samples)
    z = rng.normal(0.0, math.sqrt(variance / fan_in), (trials, samples, width))
    return np.swapaxes(r, 1, 2) @ z


def _constant_count(sampler: Sampler, rng: np.random.Generator, points: np.ndarray, trials: int,
                    width: int, depth: int, direct: bool = False) -> int:
    hidden = np.broadcast_to(points, (trials, *points.shape))
    for _ in range(depth):
        hidden = np.maximum(_layer(sampler, rng, hidden, width, direct), 0.0)
    return int(np.all(hidden == hidden[:, :1, :], axis=(1, 2)).sum())


def trial_elements(width: int, input_dim: int, samples: int, initializer: str) -> int:
    """Floats held at once for one network: its largest kernel (or, for Gaussian kernels wider than the
    points, the ``samples x width`` draws) plus its activations."""
    fan_in = max(width, input_dim)
    drawn = samples if _gaussian(SAMPLERS[initializer]) is not None else fan_in
    return (min(drawn, fan_in) + 1) * width + 3 * samples * fan_in


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

    Cost: time grows as ``trials * depth * samples * width * min(width, samples)`` for Gaussian kernels
    (he_normal, glorot_normal, lecun_normal: drawn in the span of the points, see :func:`_layer`) and as
    ``trials * depth * samples * width ** 2`` for he_uniform and rai, whose kernels are drawn whole.

    Raises:
        TypeError / ValueError: a size that is not an integer >= 1, an unknown initializer.
        SizeError (a ValueError): one network does not fit in this machine's memory; the message names
            the memory it needs.
    """
    sizes = {name: _validate.positive_int(value, name=name, owner="born_dead_probability")
             for name, value in dict(width=width, depth=depth, input_dim=input_dim, trials=trials,
                                     samples=samples).items()}
    _validate.one_of(initializer, tuple(SAMPLERS), name="initializer", owner="born_dead_probability")
    elements = trial_elements(width, input_dim, samples, initializer)
    if elements * _BYTES > _memory.available_bytes():
        gaussian = _gaussian(SAMPLERS[initializer]) is not None
        held = f"{samples} x {width} draws" if gaussian else f"{width} x {width} kernel"
        raise SizeError(
            f"width of born_dead_probability: {width} with initializer {initializer!r} needs "
            f"{_memory.describe_bytes(elements * _BYTES)} for one network (its {held} and its activations, in "
            f"float64); this machine has {_memory.describe_bytes(_memory.available_bytes())}. Choose a smaller width"
            + ("." if gaussian else ", or a Gaussian initializer (he_normal, glorot_normal, lecun_normal), whose "
                                    "kernels are drawn as samples x width.")
        )
    from threadpoolctl import threadpool_limits  # scikit-learn's dependency

    rng = np.random.default_rng(seed)
    points = rng.uniform(-1.0, 1.0, (sizes["samples"], sizes["input_dim"]))
    per_block = max(1, _BLOCK_ELEMENTS // elements)
    dead = 0
    # One BLAS thread: the products are many small ones (one per network), for which OpenBLAS' threads
    # cost far more than they bring (measured 40x slower with them on a busy 2-core machine).
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, trials, per_block):
            block = min(per_block, trials - start)
            dead += _constant_count(SAMPLERS[initializer], rng, points, block, width, depth)
    return dead / trials
