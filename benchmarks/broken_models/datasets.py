"""The benchmark's data: sklearn digits, a Fashion-MNIST slice and synthetic 2-D sets, as relulab Datasets.

Each is small so that the whole benchmark trains in minutes on two cores. Loaded once per process.
"""

from __future__ import annotations

import functools

import numpy as np

from relulab.data import Dataset, load

FASHION_TRAIN, FASHION_TEST = 2000, 500  # examples of the Fashion-MNIST slice
SYNTHETIC_TRAIN, SYNTHETIC_TEST = 1000, 500  # examples of each 2-D set
NAMES = ("digits", "fashion", "circles", "moons", "blobs")
IMAGES = {"digits": (8, 8), "fashion": (28, 28)}  # the image shape behind each flat input, for the CNNs


def _synthetic(name: str) -> Dataset:
    from sklearn import datasets as sk

    n = SYNTHETIC_TRAIN + SYNTHETIC_TEST
    if name == "circles":
        x, y = sk.make_circles(n, noise=0.1, factor=0.5, random_state=0)
    elif name == "moons":
        x, y = sk.make_moons(n, noise=0.2, random_state=0)
    else:
        x, y = sk.make_blobs(n, centers=4, cluster_std=2.0, random_state=0)
    mean, std = x[:SYNTHETIC_TRAIN].mean(0), x[:SYNTHETIC_TRAIN].std(0)
    x = ((x - mean) / std).astype("float32")
    y = y.astype("int64")
    return Dataset(name, f"sklearn.datasets.make_{name}", x[:SYNTHETIC_TRAIN], y[:SYNTHETIC_TRAIN],
                   x[SYNTHETIC_TRAIN:], y[SYNTHETIC_TRAIN:], int(y.max()) + 1, (2,))


@functools.lru_cache(maxsize=None)
def get(name: str) -> Dataset:
    """The dataset ``name`` (one of :data:`NAMES`), inputs flat and in [0, 1] (images) or z-scores (2-D)."""
    if name not in NAMES:
        raise ValueError(f"name of the benchmark dataset must be one of {', '.join(NAMES)}. Received: name={name!r}")
    if name == "digits":
        return load("digits")
    if name == "fashion":
        return load("fashion_mnist", train_size=FASHION_TRAIN, test_size=FASHION_TEST)
    return _synthetic(name)


def input_shape(name: str) -> tuple[int, ...]:
    """The input shape of ``name`` without loading it."""
    if name in IMAGES:
        return (int(np.prod(IMAGES[name])),)
    return (2,)


def num_classes(name: str) -> int:
    """The number of classes of ``name`` without loading it."""
    return {"circles": 2, "moons": 2, "blobs": 4}.get(name, 10)
