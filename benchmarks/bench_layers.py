"""Training-step cost of each relulab layer against Keras' native relu, side by side in one run.

One step = forward and backward of ``Dense(1024 -> 1024)`` followed by the activation, a mean-square
loss and an SGD update, run by Keras' own ``fit`` with its default compilation (XLA on TensorFlow's
CPU; ``--jit off`` for plain ``tf.function`` graphs). The variants are timed in
interleaved rounds (A B C ... A B C ...) so that drift on a shared machine hits all of them alike; the
ratio to the baseline is taken within each round and the median over rounds is printed.

    python benchmarks/bench_layers.py            # ~1 minute on 2 cores
    python benchmarks/bench_layers.py --rounds 3 --steps 20 --batch 64   # a quick look

Baseline: ``Dense(1024, activation="relu")``, Keras' native relu (TensorFlow fuses MatMul+BiasAdd+Relu).
Goals: ReLU and LeakyReLU <= 1.03x, PReLU and RReLU <= 1.10x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


import relulab  # noqa: E402,F401
from relulab import layers  # noqa: E402


class ArticleMaximumReLU(keras.layers.Layer):
    """The article's example 3: ``tf.math.maximum(0.0, x)``."""

    def call(self, x):
        return tf.math.maximum(0.0, x)


def variants() -> dict[str, callable]:
    """name -> a function that adds the activation after a linear Dense(1024)."""
    dense = lambda **kw: keras.layers.Dense(1024, **kw)  # noqa: E731
    return {
        "keras Dense(activation='relu') [baseline]": lambda x: dense(activation="relu")(x),
        "keras Dense + keras.layers.ReLU": lambda x: keras.layers.ReLU()(dense()(x)),
        "relulab ReLU": lambda x: layers.ReLU()(dense()(x)),
        "relulab Dense(activation=ReLU())": lambda x: dense(activation=layers.ReLU())(x),
        "relulab LeakyReLU(0.1)": lambda x: layers.LeakyReLU(0.1)(dense()(x)),
        "relulab PReLU": lambda x: layers.PReLU()(dense()(x)),
        "relulab RReLU": lambda x: layers.RReLU(seed=0)(dense()(x)),
        "keras PReLU (reference)": lambda x: keras.layers.PReLU()(dense()(x)),
        "article tf.maximum layer (reference)": lambda x: ArticleMaximumReLU()(dense()(x)),
    }


def make_fit(build, batch: int, steps: int, jit_compile: bool | str):
    """A zero-argument function that runs ``steps`` training steps through Keras' own ``fit``."""
    inputs = keras.Input((1024,))
    model = keras.Model(inputs, build(inputs))
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse", jit_compile=jit_compile)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch * steps, 1024)).astype("float32")
    y = rng.standard_normal((batch * steps, 1024)).astype("float32")

    def run() -> None:
        model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)

    run()  # trace, compile and warm up
    return run, model


def time_call(run, steps: int) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128, help="examples per step")
    parser.add_argument("--steps", type=int, default=50, help="steps per timing")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--jit", choices=["auto", "off"], default="auto",
                        help="auto: Keras' default (XLA on TensorFlow CPU); off: plain tf.function graphs")
    args = parser.parse_args()

    jit = "auto" if args.jit == "auto" else False
    steps = {name: make_fit(build, args.batch, args.steps, jit) for name, build in variants().items()}
    xla = {bool(model.jit_compile) for _, model in steps.values()}
    baseline = next(iter(steps))
    ratios = {name: [] for name in steps}
    seconds = {name: [] for name in steps}
    for _ in range(args.rounds):
        this_round = {name: time_call(run, args.steps) for name, (run, _) in steps.items()}
        for name, t in this_round.items():
            seconds[name].append(t)
            ratios[name].append(t / this_round[baseline])
    print(f"Dense 1024->1024 + activation, Keras fit, batch {args.batch}, {args.steps} steps x {args.rounds} rounds, "
          f"XLA {'on' if xla == {True} else 'off' if xla == {False} else 'mixed'}, "
          f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs")
    print(f"{'variant':42s} {'ms/step':>8s} {'ratio':>6s} {'min':>6s} {'max':>6s}")
    for name in steps:
        r = ratios[name]
        print(f"{name:42s} {1e3 * statistics.median(seconds[name]):8.2f} {statistics.median(r):6.3f} "
              f"{min(r):6.3f} {max(r):6.3f}")


if __name__ == "__main__":
    main()
