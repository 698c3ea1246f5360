"""Held-out calibration of the dead-unit threshold: the worst layer's dead fraction in ReLU MLPs that are
healthy (Adam 1e-3 to 1e-2) and in ones made to die (Adam 0.05-0.2, or hidden biases of -1 to -2), with seeds
(1, 2), widths (16-256), depths (1-5) and data sets that ``broken_models`` does not use together; 3 epochs each.

    python benchmarks/calibrate_dead_units.py     # 28 nets, about 2 minutes on 2 cores

Measured when relulab's threshold was set (``relulab.diagnostics.advice.DEAD_FRACTION_ADVICE``): healthy nets at
Adam 1e-3 to 3e-3 at most 19% dead in a layer; at 1e-2, narrow Fashion-MNIST nets 38-55%; dying nets 29-100%.
"""

import os
import random
import sys
import warnings
from functools import partial
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # broken_models

import relulab  # noqa: E402,F401  (first: it keeps TensorFlow's start-up lines off the terminal)
from broken_models import datasets  # noqa: E402
from broken_models.builders import accuracy, mlp  # noqa: E402
from broken_models.case import Case  # noqa: E402
from relulab import training  # noqa: E402
from relulab.diagnostics import diagnose  # noqa: E402
from relulab.diagnostics.probe import subset  # noqa: E402

DATASETS = ["digits", "moons", "blobs", "circles", "fashion"]


def configurations(per_kind: int = 14, seed: int = 7) -> list[tuple]:
    """``(kind, dataset, width, depth, seed, learning_rate, bias)`` drawn reproducibly."""
    rng = random.Random(seed)
    configs = []
    for kind in ("healthy", "dying"):
        for _ in range(per_kind):
            dataset = rng.choice(DATASETS)
            width, depth, run_seed = rng.choice([16, 24, 48, 96, 256]), rng.choice([1, 2, 3, 5]), rng.choice([1, 2])
            if kind == "healthy":
                learning_rate, bias = rng.choice([1e-3, 3e-3, 1e-2]), None
            elif rng.random() < 0.5:
                learning_rate, bias = rng.choice([0.05, 0.1, 0.2]), None
            else:
                learning_rate, bias = 1e-3, rng.choice([-1.0, -1.25, -2.0])
            configs.append((kind, dataset, width, depth, run_seed, learning_rate, bias))
    return configs


def main() -> None:
    for kind, name, width, depth, seed, learning_rate, bias in configurations():
        dataset = datasets.get(name)
        arguments = {"hidden": (width,) * depth, **({} if bias is None else {"bias": bias})}
        model = Case("calibration", kind, name, partial(mlp, **arguments), 3, learning_rate).model(dataset, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            training.fit(model, dataset, seed=seed, epochs=3, batch_size=32)
            report = diagnose(model, *subset(dataset.x_train, dataset.y_train, 1024))
        dead = [row.dead_fraction for row in report.rows if row.dead_fraction is not None]
        print(f"{kind:8s} {name:8s} width {width:<4d} depth {depth} seed {seed} lr {learning_rate:<6g} bias {bias}  "
              f"worst layer {max(dead):.3f} dead (all: {[round(d, 2) for d in dead]}), "
              f"test accuracy {accuracy(model, dataset.x_test, dataset.y_test):.2f}", flush=True)


if __name__ == "__main__":
    main()
