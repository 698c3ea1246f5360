"""Named experiments that check the article's claims: ``relulab compare --preset NAME``.

Each preset is a set of :class:`~relulab.lab.grid.Grid` arguments; flags given on the command line
override them. ``REFERENCES`` holds published numbers a preset prints beside its own.
"""

from __future__ import annotations

from typing import Any

ARTICLE_LAYER = "relulab.lab.article:MyReLU"

PRESETS: dict[str, dict[str, Any]] = {
    "seed": {
        "description": "the article's three examples (relu, leaky_relu 0.1, its custom rectifier layer) "
                       "plus sigmoid and tanh, on the article's 64-unit model",
        "grid": {"activations": ("relu", "leaky_relu(negative_slope=0.1)", ARTICLE_LAYER, "sigmoid", "tanh"),
                 "architectures": ((64,),), "seeds": (0, 1, 2), "epochs": 5},
    },
    "depth": {
        "description": "sigmoid, tanh, relu, leaky_relu and prelu at growing depth with their usual "
                       "initialisers: where gradients vanish and accuracy falls",
        "grid": {"activations": ("sigmoid", "tanh", "relu", "leaky_relu", "prelu"),
                 "architectures": ((64,), (64,) * 3, (64,) * 6, (64,) * 10), "seeds": (0, 1, 2), "epochs": 5,
                 "kernel_initializer": "auto"},
    },
    "slope": {
        "description": "LeakyReLU's negative slope over 0, 0.01, 0.1, 0.2, 0.3, against RReLU and PReLU",
        "grid": {"activations": tuple(f"leaky_relu(negative_slope={s})" for s in (0.0, 0.01, 0.1, 0.2, 0.3))
                 + ("rrelu", "prelu"),
                 "architectures": ((64,),), "seeds": (0, 1, 2), "epochs": 5,
                 "baseline": "leaky_relu(negative_slope=0.0)"},
    },
    "fmnist-table3": {
        "description": "the MLP rows of Xiao et al. 2017, Table 3 (Fashion-MNIST): relu and tanh with hidden "
                       "sizes [10], [100], [10,10], [100,10]; Adam 1e-3, batch 200, 5 seeds as the paper's "
                       "5 shuffles, 20 epochs instead of scikit-learn's tolerance-based stopping",
        "grid": {"dataset": "fashion_mnist", "activations": ("relu", "tanh"),
                 "architectures": ((10,), (100,), (10, 10), (100, 10)), "seeds": (0, 1, 2, 3, 4),
                 "epochs": 20, "batch_size": 200},
    },
    "cnn": {
        "description": "the papers' setting at CPU scale (He et al. 2015, Xu et al. 2015): a small convolutional "
                       "network (relulab.models.cnn) on 10,000 Fashion-MNIST images, relu, leaky_relu, prelu, "
                       "rrelu and elu, 3 seeds (two 2x2 poolings: images of 28x28, not the 8x8 digits)",
        "grid": {"dataset": "fashion_mnist", "model": "relulab.lab.presets:cnn", "train_size": 10000,
                 "activations": ("relu", "leaky_relu", "prelu", "rrelu", "elu"), "seeds": (0, 1, 2), "epochs": 3},
    },
}


# Xiao, Rasul & Vollgraf 2017, "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning
# Algorithms", Table 3: scikit-learn MLPClassifier test accuracy, mean over 5 shuffles.
REFERENCES: dict[str, dict[tuple[str, tuple[int, ...]], float]] = {
    "fmnist-table3": {
        ("relu", (100,)): 0.871, ("relu", (100, 10)): 0.870, ("relu", (10, 10)): 0.850, ("relu", (10,)): 0.848,
        ("tanh", (100,)): 0.868, ("tanh", (100, 10)): 0.863, ("tanh", (10, 10)): 0.841, ("tanh", (10,)): 0.840,
    },
}


def preset(name: str) -> dict[str, Any]:
    """The grid arguments of preset ``name``.

    Raises:
        ValueError: unknown preset; the message lists the valid ones.
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}. Valid presets: {', '.join(PRESETS)}.")
    return dict(PRESETS[name]["grid"])


def cnn(activation: str, input_shape: tuple[int, ...], num_classes: int) -> Any:
    """The ``cnn`` preset's model: :func:`relulab.models.cnn` with ``activation`` (a ``--model`` builder)."""
    from relulab import models

    return models.cnn(input_shape, num_classes, activation=activation)
