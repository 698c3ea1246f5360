"""Training-step cost of each relulab layer against Keras' native relu, side by side in one run.

One step = forward and backward of ``Dense(1024 -> 1024)`` followed by the activation, a mean-square
loss and an SGD update: the core of what Keras' ``fit`` compiles (``tf.function`` without XLA, Keras'
default on TensorFlow's CPU), without ``fit``'s per-call bookkeeping, whose noise would swamp a
difference of a few percent. The variants are timed in interleaved rounds (A B C ... A B C ...) so that
drift on a shared machine hits all of them alike. Two ratios to the baseline are printed: the median
of the per-round ratios, and the ratio of the fastest rounds (the least disturbed by other work).

    python benchmarks/bench_layers.py            # ~1 minute on 2 cores
    python benchmarks/bench_layers.py --rounds 3 --steps 50   # a quick look
    python benchmarks/bench_layers.py --smooth   # also ELU, SELU, GELU: relulab's against Keras' own
    python benchmarks/bench_layers.py --activation-only   # each function's forward + backward alone

``--activation-only`` times forward and backward of the activation alone on a (batch, 1024) tensor (ten per
call), against Keras' relu: the Dense step's ratio moves by +-30% per round on a shared 2-core VM, which
hides differences of a few percent; the activation alone shows them.

Baseline: ``Dense(1024, activation="relu")``, Keras' native relu (TensorFlow fuses MatMul+BiasAdd+Relu).
Goals: ReLU and LeakyReLU <= 1.03x, PReLU and RReLU <= 1.10x. "before"/"reference" rows are the
implementations they replace (RReLU's one float32 uniform per element; Keras' own smooth functions).
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


class BeforeRReLU(keras.layers.Layer):
    """relulab's RReLU before the 16-bit slopes: one float32 uniform per element, and ones_like."""

    def __init__(self, lower=1 / 8, upper=1 / 3, seed=0):
        super().__init__()
        self.lower, self.upper, self.seed_generator = lower, upper, keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        slope = keras.random.uniform(keras.ops.shape(x), self.lower, self.upper, dtype=x.dtype, seed=self.seed_generator)
        return x * keras.ops.where(x > 0, keras.ops.ones_like(x), slope)


class BeforeActivation(keras.layers.Layer):
    """A Keras activation function as a layer: relulab's smooth functions before it owned them."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def call(self, x):
        return self.function(x)


UNITS = 1024


def smooth_variants() -> dict[str, callable]:
    """Keras' exponential/GELU functions against relulab's (expm1, erfc, gradients from the input)."""
    dense = lambda **kw: keras.layers.Dense(UNITS, **kw)  # noqa: E731
    kact = keras.activations
    return {
        "keras elu (before)": lambda x: BeforeActivation(kact.elu)(dense()(x)),
        "relulab ELU": lambda x: layers.ELU()(dense()(x)),
        "keras selu (before)": lambda x: BeforeActivation(kact.selu)(dense()(x)),
        "relulab SELU": lambda x: layers.SELU()(dense()(x)),
        "keras gelu (before)": lambda x: BeforeActivation(kact.gelu)(dense()(x)),
        "relulab GELU": lambda x: layers.GELU()(dense()(x)),
        "keras gelu tanh (before)": lambda x: BeforeActivation(lambda t: kact.gelu(t, approximate=True))(dense()(x)),
        "relulab GELU(approximate)": lambda x: layers.GELU(approximate=True)(dense()(x)),
    }


def variants() -> dict[str, callable]:
    """name -> a function that adds the activation after a linear Dense(1024)."""
    dense = lambda **kw: keras.layers.Dense(UNITS, **kw)  # noqa: E731
    return {
        "keras Dense(activation='relu') [baseline]": lambda x: dense(activation="relu")(x),
        "keras Dense + keras.layers.ReLU": lambda x: keras.layers.ReLU()(dense()(x)),
        "relulab ReLU": lambda x: layers.ReLU()(dense()(x)),
        "relulab Dense(activation=ReLU())": lambda x: dense(activation=layers.ReLU())(x),
        "relulab LeakyReLU(0.1)": lambda x: layers.LeakyReLU(0.1)(dense()(x)),
        "relulab PReLU": lambda x: layers.PReLU()(dense()(x)),
        "relulab RReLU": lambda x: layers.RReLU(seed=0)(dense()(x)),
        "relulab RReLU before (reference)": lambda x: BeforeRReLU(seed=0)(dense()(x)),
        "keras PReLU (reference)": lambda x: keras.layers.PReLU()(dense()(x)),
        "article tf.maximum layer (reference)": lambda x: ArticleMaximumReLU()(dense()(x)),
    }


def before_elu(x, alpha=1.0):
    """relulab's ELU before the tanh form: ``expm1`` (TensorFlow's kernel: exp, log and a division), two selects."""

    @tf.custom_gradient
    def unit(x):
        negative = tf.where(x > 0, tf.zeros_like(x), x)
        y = tf.where(x > 0, x, alpha * tf.math.expm1(negative))
        return y, lambda g: g * tf.where(x > 0, tf.ones_like(x), alpha * tf.exp(negative))

    return unit(x)


def function_variants() -> dict[str, callable]:
    """name -> an activation function of x (PReLU with a variable slope, whose gradient is taken too)."""
    from relulab import activations

    alpha = tf.Variable(tf.fill((UNITS,), 0.25))
    seed = keras.random.SeedGenerator(0)
    kact = keras.activations
    return {
        "keras relu [baseline]": kact.relu,
        "relulab relu": activations.relu,
        "relulab leaky_relu(0.1)": lambda x: activations.leaky_relu(x, 0.1),
        "relulab prelu (slope gradient too)": lambda x: activations.prelu(x, alpha),
        "relulab rrelu (training)": lambda x: activations.rrelu(x, training=True, seed=seed),
        "keras elu (fused, inexact)": kact.elu,
        "relulab elu": activations.elu,
        "relulab elu before (expm1)": before_elu,
        "keras selu (fused, inexact)": kact.selu,
        "relulab selu": activations.selu,
        "relulab elu(alpha=0.5)": lambda x: activations.elu(x, 0.5),
        "keras gelu": kact.gelu,
        "relulab gelu": activations.gelu,
    }, [alpha]


def make_function_step(function, batch: int, extra: list):
    x = tf.constant(np.random.default_rng(0).standard_normal((batch, UNITS)).astype("float32"))
    upstream = tf.constant(np.random.default_rng(1).standard_normal((batch, UNITS)).astype("float32"))

    @tf.function
    def step(x):
        total = tf.constant(0.0)
        for i in range(10):  # ten forward + backward passes per call, on shifted inputs
            shifted = x + 1e-3 * i
            with tf.GradientTape() as tape:
                tape.watch(shifted)
                y = function(shifted)
            grads = tape.gradient(y, [shifted, *extra], output_gradients=upstream)
            total += y[0, 0] + sum(tf.reduce_sum(g[..., :1]) for g in grads if g is not None)
        return total

    step(x).numpy()
    return step, x


def make_step(build, batch: int, jit_compile: bool = False):
    inputs = keras.Input((UNITS,))
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

    x = tf.constant(np.random.default_rng(0).standard_normal((batch, UNITS)).astype("float32"))
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
    parser.add_argument("--smooth", action="store_true", help="also time ELU, SELU and GELU against Keras' own")
    parser.add_argument("--units", type=int, default=UNITS, help="width of the Dense layer (1024; small for a smoke test)")
    parser.add_argument("--activation-only", action="store_true",
                        help="time each activation function's forward and backward alone (no Dense), 10 per call")
    args = parser.parse_args()
    globals()["UNITS"] = args.units

    if args.activation_only:
        functions, extra = function_variants()
        steps = {name: make_function_step(function, args.batch, extra) for name, function in functions.items()}
    else:
        chosen = {**variants(), **(smooth_variants() if args.smooth else {})}
        steps = {name: make_step(build, args.batch, args.xla) for name, build in chosen.items()}
    baseline = next(iter(steps))
    ratios = {name: [] for name in steps}
    seconds = {name: [] for name in steps}
    for _ in range(args.rounds):
        this_round = {name: time_steps(step, x, args.steps) for name, (step, x) in steps.items()}
        for name, t in this_round.items():
            seconds[name].append(t)
            ratios[name].append(t / this_round[baseline])
    what = (f"activation alone on ({args.batch}, {args.units}), forward + backward x 10 per step" if args.activation_only
            else f"Dense {args.units}->{args.units} + activation, batch {args.batch}")
    print(f"{what}, {args.steps} steps x {args.rounds} rounds, "
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
