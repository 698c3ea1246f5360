"""The cnn preset's grid trained two ways, side by side in one run: one ``model.fit`` per run versus the stack.

Grid: relu, leaky_relu, prelu, rrelu, elu x 3 seeds of ``relulab.models.cnn`` (Conv2D 16 -> pool -> Conv2D 32
-> pool -> Dense 64 -> softmax, Adam 1e-3, batch 32) on a Fashion-MNIST slice, 1 epoch, no diagnostics.
"one fit per run" is :func:`relulab.training.fit` per run (the sequential engine's loop); "stacked" is
:class:`relulab.lab.stacked.conv.ConvStack` (one ``tf.function`` call per epoch), once with each way of
computing its convolutions (K convolutions in one graph, ``per_run``; one grouped convolution, ``grouped``),
in stacks of at most ``--max-stack`` runs (default ``stacked_conv.MAX_STACK``, 5: 3 stacks for 15 runs). Both
build the same seeded Keras models. Each round times both (alternating which goes first); the summary
prints the ratio and where the time goes:

- build: constructing the 15 Keras models (and, stacked, copying their weights into the stack);
- tracing: fit's first step (tracing its train function plus one step) / the stack's epoch function;
- training steps: fit's other steps / the stack's epoch calls;
- evaluation: the test set after each epoch (fit's first evaluation traces its test function too).

    python benchmarks/bench_cnn.py            # 10,000 train / 2,000 test images, 1 round
    python benchmarks/bench_cnn.py --quick    # a smoke check: 512 / 256 images, 2 x 2 runs

Goal: stacked >= 4x faster than one fit per run; test accuracies agree within seed noise.
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import relulab  # noqa: E402,F401  (first: it keeps TensorFlow's start-up lines off the terminal)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from relulab import models, training  # noqa: E402
from relulab.lab.stacked.conv import CONVOLUTIONS, ConvStack, grouped_gradients  # noqa: E402
from relulab.lab.stacked.engine import balanced_chunks  # noqa: E402
from relulab.lab.stacked.conv_engine import MAX_STACK  # noqa: E402

ACTIVATIONS = ("relu", "leaky_relu", "prelu", "rrelu", "elu")


def build(activation: str, seed: int, shape) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return models.cnn(shape, 10, activation=activation, seed=seed)


class Phases(keras.callbacks.Callback):
    """Splits one fit into its first step (tracing), the other steps and the evaluations."""

    def __init__(self, times: collections.Counter) -> None:
        super().__init__()
        self.times, self.mark, self.traced = times, 0.0, False

    def on_train_begin(self, logs=None):
        self.mark = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if not self.traced:
            self.traced = True
            self.times["tracing"] += time.perf_counter() - self.mark
            self.mark = time.perf_counter()

    def on_test_begin(self, logs=None):
        self.times["training steps"] += time.perf_counter() - self.mark
        self.mark = time.perf_counter()

    def on_test_end(self, logs=None):
        self.times["evaluation"] += time.perf_counter() - self.mark
        self.mark = time.perf_counter()


def one_fit_per_run(runs, dataset, epochs: int, batch_size: int) -> tuple[collections.Counter, list[float]]:
    times, accuracies = collections.Counter(), []
    for activation, seed in runs:
        start = time.perf_counter()
        model = build(activation, seed, dataset.input_shape)
        times["build"] += time.perf_counter() - start
        result = training.fit(model, dataset, seed=seed, epochs=epochs, batch_size=batch_size,
                              callbacks=[Phases(times)])
        accuracies.append(result.test_accuracy)
    return times, accuracies


def stacked(runs, dataset, epochs: int, batch_size: int, convolution: str,
            max_stack: int) -> tuple[collections.Counter, list[float]]:
    """The runs in stacks of at most ``max_stack`` (as ``stacked_conv.fit_all`` cuts them)."""
    times, accuracies = collections.Counter(), []
    x, y = tf.constant(dataset.x_train), tf.constant(dataset.y_train.astype(np.int32))
    for chunk in balanced_chunks(runs, max_stack):
        start = time.perf_counter()
        stack = ConvStack([build(a, s, dataset.input_shape) for a, s in chunk], [s for _, s in chunk], batch_size,
                          convolution=convolution)
        times["build"] += time.perf_counter() - start
        start = time.perf_counter()
        stack._train_epoch.get_concrete_function(x, y, tf.TensorSpec((stack.size, len(dataset.x_train)), tf.int32))
        times["tracing"] += time.perf_counter() - start
        for epoch in range(epochs):
            start = time.perf_counter()
            stack.train_epoch(x, y, epoch)
            times["training steps"] += time.perf_counter() - start
            start = time.perf_counter()
            _, chunk_accuracies = stack.evaluate(dataset.x_test, dataset.y_test.astype(np.int32))
            times["evaluation"] += time.perf_counter() - start
        accuracies.extend(chunk_accuracies)
    return times, accuracies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--activations", nargs="+", default=list(ACTIVATIONS), help="activation specs")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="seeds per activation")
    parser.add_argument("--epochs", type=int, default=1, help="passes over the training set")
    parser.add_argument("--batch-size", type=int, default=32, help="examples per step")
    parser.add_argument("--train-size", type=int, default=10000, help="first N training images")
    parser.add_argument("--test-size", type=int, default=2000, help="first N test images")
    parser.add_argument("--rounds", type=int, default=1, help="repeats of the side-by-side comparison")
    parser.add_argument("--max-stack", type=int, default=MAX_STACK, help="most runs per stack")
    parser.add_argument("--quick", action="store_true", help="a smoke check: 512/256 images, 2 activations x 2 seeds")
    args = parser.parse_args()
    if args.quick:
        args.activations, args.seeds, args.train_size, args.test_size = ["relu", "prelu"], [0, 1], 512, 256

    from relulab import data

    dataset = data.load("fashion_mnist", flatten=False, train_size=args.train_size, test_size=args.test_size)
    runs = [(a, s) for a in args.activations for s in args.seeds]  # equal activations next to each other
    print(f"{len(runs)} runs ({len(args.activations)} activations x {len(args.seeds)} seeds) of models.cnn, "
          f"{len(dataset.x_train)} train / {len(dataset.x_test)} test images {dataset.input_shape}, "
          f"{args.epochs} epoch(s), batch {args.batch_size}")
    convolutions = [c for c in CONVOLUTIONS if c != "grouped" or grouped_gradients()]
    if len(convolutions) < len(CONVOLUTIONS):
        print(f"grouped: not timed (TensorFlow {tf.__version__} cannot differentiate a grouped convolution here: "
              f"oneDNN is off; TF_ENABLE_ONEDNN_OPTS=1 turns it on)")
    engines = {"one fit per run": one_fit_per_run,
               **{f"stacked, {c}": functools.partial(stacked, convolution=c, max_stack=args.max_stack)
                  for c in convolutions}}
    totals = {name: [] for name in engines}
    phases = {name: collections.Counter() for name in engines}
    for round_ in range(args.rounds):
        names = list(engines)[round_ % len(engines):] + list(engines)[:round_ % len(engines)]  # rotate the order
        for name in names:
            start = time.perf_counter()
            times, accuracies = engines[name](runs, dataset, args.epochs, args.batch_size)
            totals[name].append(time.perf_counter() - start)
            phases[name].update(times)
            print(f"round {round_ + 1}, {name}: {totals[name][-1]:.1f} s; test accuracy mean "
                  f"{np.mean(accuracies):.4f} (min {np.min(accuracies):.4f}, max {np.max(accuracies):.4f})", flush=True)
    print(f"\n{'phase':<16}" + "".join(f"{name:>18}" for name in engines) + " (seconds, mean per round)")
    for phase in ("build", "tracing", "training steps", "evaluation"):
        print(f"{phase:<16}" + "".join(f"{phases[name][phase] / args.rounds:>18.2f}" for name in engines))
    medians = {name: statistics.median(values) for name, values in totals.items()}
    print(f"{'total':<16}" + "".join(f"{medians[name]:>18.2f}" for name in engines) + " (median)")
    base = "one fit per run"
    for name in list(engines)[1:]:
        print(f"{name}: {medians[base] / medians[name]:.1f}x faster than one fit per run end to end, "
              f"{phases[base]['training steps'] / phases[name]['training steps']:.1f}x on the training steps "
              f"alone (goal >= 4x)")


if __name__ == "__main__":
    main()
