"""Training-step cost of each relulab layer against Keras' native relu, side by side in one run.

One step = forward and backward of ``Dense(1024 -> 1024)`` followed by the activation, a mean-square
loss and an SGD update: the core of what Keras' ``fit`` compiles (``tf.function`` without XLA, Keras'
default on TensorFlow's CPU), without ``fit``'s per-call bookkeeping, whose noise would swamp a
difference of a few percent. The variants are timed in interleaved rounds (A B C ... A B C ...) so that
drift on a shared machine hits all of them alike. Two ratios to the baseline are printed: the median
of the per-round ratios, and the ratio of the fastest rounds (the least disturbed by other work).

    python benchmarks/bench_layers.py            # ~1 minute on 2 cores
    python benchmarks/bench_layers.py --rounds 3 --steps 50   # a quick look

Baseline: ``Dense(1024, activation="relu")``, Keras' native relu (TensorFlow fuses MatMul+BiasAdd+Relu).
Goals: ReLU and LeakyReLU <= 1.03x, PReLU and RReLU <= 1.10x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import relulab  # noqa: E402,F401  (first: it keeps TensorFlow's start-up lines off the terminal)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from relulab import layers  # noqa: E402

tf.get_logger().setLevel("ERROR")  # one tf.function per variant is intended, not a retracing problem


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


def make_step(build, batch: int, jit_compile: bool = False):
    inputs = keras.Input((1024,))
    model = keras.Model(inputs, build(inputs))
    optimizer = keras.optimizers.SGD(1e-3)
    optimizer.build(model.trainable_variables)

    @tf.function(jit_compile=jit_compile)
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True)))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    x = tf.constant(np.random.default_rng(0).standard_normal((batch, 1024)).astype("float32"))
    step(x).numpy()  # trace and warm up
    return step, x


def time_steps(step, x, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        loss = step(x)
    loss.numpy()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128, help="examples per step")
    parser.add_argument("--steps", type=int, default=200, help="steps per timing")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds")
    parser.add_argument("--xla", action="store_true", help="compile the steps with XLA (Keras' jit_compile=True)")
    args = parser.parse_args()

    steps = {name: make_step(build, args.batch, args.xla) for name, build in variants().items()}
    baseline = next(iter(steps))
    ratios = {name: [] for name in steps}
    seconds = {name: [] for name in steps}
    for _ in range(args.rounds):
        this_round = {name: time_steps(step, x, args.steps) for name, (step, x) in steps.items()}
        for name, t in this_round.items():
            seconds[name].append(t)
            ratios[name].append(t / this_round[baseline])
    print(f"Dense 1024->1024 + activation, batch {args.batch}, {args.steps} steps x {args.rounds} rounds, "
          f"XLA {'on' if args.xla else 'off'}, "
          f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs")
    best = min(seconds[baseline])
    print(f"{'variant':42s} {'ms/step':>8s} {'median ratio':>12s} {'best/best':>9s} {'min':>6s} {'max':>6s}")
    for name in steps:
        r = ratios[name]
        print(f"{name:42s} {1e3 * statistics.median(seconds[name]):8.2f} {statistics.median(r):12.3f} "
              f"{min(seconds[name]) / best:9.3f} {min(r):6.3f} {max(r):6.3f}")


if __name__ == "__main__":
    main()
