"""The lab's grid trained two ways, side by side in one run: one default ``fit`` per run versus the stacked engine.

Grid: 5 activations (relu, leaky_relu(negative_slope=0.1), prelu, sigmoid, tanh) x 3 seeds of the article's
MLP (784-64-10, Adam 1e-3, batch 32) on Fashion-MNIST, 1 epoch. Each round times both engines on the same
grid (in alternating order, so drift on a shared machine hits both alike) and measures the machine's
float32 matmul rate (NumPy's BLAS and TensorFlow, 2048^3, best of 5, before and after the engines) in the
same round; the summary prints medians over rounds and the median of the per-round speed-ups.

FLOPs are counted for the dense layers only, 2*m*n*k per matmul: per training example the forward pass,
the kernel gradients, and the input gradients of every layer but the first (nothing needs them there, so
this is ~2x the forward pass, not the customary 3x); per test example the forward pass. "end to end" divides
by the engine's whole wall time (building the models, training, evaluation); "training loop" by the time
inside the stacked epoch calls only, after tracing their tf.function (which costs ~1 s per stack).

    python benchmarks/bench_lab.py                       # ~4 minutes on 2 cores
    python benchmarks/bench_lab.py --rounds 1 --train-size 12000 --activations relu tanh   # a quick look

Goals: stacked >= 6x faster than the sequential loop, at >= 40% of the sgemm rate; test accuracies of the
two engines agree within seed noise (they train the same models).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import relulab  # noqa: E402,F401  (first: it keeps TensorFlow's start-up lines off the terminal)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from relulab.lab.engine import SequentialEngine  # noqa: E402
from relulab.lab.grid import Grid  # noqa: E402
from relulab.lab.stack import Stack  # noqa: E402
from relulab.lab.stacked import StackedEngine  # noqa: E402

ACTIVATIONS = ("relu", "leaky_relu(negative_slope=0.1)", "prelu", "sigmoid", "tanh")


def load_fashion(train_size: int | None, test_size: int | None):
    """Fashion-MNIST through relulab.data (Debian's IDX files, else the Keras download)."""
    from relulab import data

    return data.load("fashion_mnist", train_size=train_size, test_size=test_size)


def sgemm_rates(n: int = 2048, repeats: int = 5) -> tuple[float, float]:
    """GFLOP/s of an n x n float32 matmul: NumPy (its BLAS) and TensorFlow, best of ``repeats``."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    ta, tb = tf.constant(a), tf.constant(b)
    matmul = tf.function(tf.matmul)
    rates = []
    for run in (lambda: a @ b, lambda: matmul(ta, tb).numpy()):
        run()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        rates.append(2 * n ** 3 / min(times) / 1e9)
    return rates[0], rates[1]


def model_flops(widths: list[int], n_train: int, n_test: int, epochs: int) -> float:
    """Dense-layer FLOPs of one run: training (forward, kernel gradients, input gradients past layer 1)
    and the test-set evaluation after each epoch."""
    layers = [(a, b) for a, b in zip(widths[:-1], widths[1:])]
    forward = sum(2 * a * b for a, b in layers)
    backward = forward + sum(2 * a * b for a, b in layers[1:])
    return epochs * (n_train * (forward + backward) + n_test * forward)


def time_engine(engine, runs, dataset, diagnostics: bool) -> tuple[float, dict[str, float]]:
    accuracies: dict[str, float] = {}
    start = time.perf_counter()
    engine.train(runs, dataset, on_result=lambda r: accuracies.__setitem__(r.spec.key, r.test_accuracy),
                 diagnostics=diagnostics)
    return time.perf_counter() - start, accuracies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--activations", nargs="+", default=list(ACTIVATIONS), help="activation specs")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="seeds per activation")
    parser.add_argument("--hidden", nargs="+", type=int, default=[64], help="hidden widths")
    parser.add_argument("--epochs", type=int, default=1, help="passes over the training set")
    parser.add_argument("--batch-size", type=int, default=32, help="examples per step")
    parser.add_argument("--train-size", type=int, default=None, help="first N training examples (default all)")
    parser.add_argument("--test-size", type=int, default=None, help="first N test examples (default all)")
    parser.add_argument("--rounds", type=int, default=3, help="repeats of the side-by-side comparison")
    parser.add_argument("--diagnostics", action="store_true", help="both engines also record diagnostics")
    args = parser.parse_args()

    dataset = load_fashion(args.train_size, args.test_size)
    grid = Grid(dataset="fashion_mnist", activations=tuple(args.activations), architectures=(tuple(args.hidden),),
                seeds=tuple(args.seeds), epochs=args.epochs, batch_size=args.batch_size)
    runs = grid.runs()
    n_train, n_test = len(dataset.x_train), len(dataset.x_test)
    flops = len(runs) * model_flops([784, *args.hidden, 10], n_train, n_test, args.epochs)
    loop_flops = len(runs) * model_flops([784, *args.hidden, 10], n_train, 0, args.epochs)
    print(f"{len(runs)} runs ({len(args.activations)} activations x {len(args.seeds)} seeds), 784-"
          f"{'-'.join(map(str, args.hidden))}-10, {n_train} train / {n_test} test examples, {args.epochs} epoch(s), "
          f"batch {args.batch_size}, diagnostics={args.diagnostics}; {flops / 1e9:.1f} GFLOP per engine")

    loop_seconds: list[float] = []
    original = Stack.train_epoch

    def timed_epoch(self, data, epoch):
        order = tf.TensorSpec((self.size, data.n_train), tf.int32)
        self._train_epoch.get_concrete_function(data.x_train, data.y_train, order)  # trace outside the timing
        start = time.perf_counter()
        try:
            return original(self, data, epoch)
        finally:
            loop_seconds.append(time.perf_counter() - start)

    Stack.train_epoch = timed_epoch
    rows = []
    for index in range(args.rounds):
        numpy_rate, tf_rate = sgemm_rates()
        engines = [("sequential", SequentialEngine()), ("stacked", StackedEngine())]
        timings, accuracies = {}, {}
        loop_seconds.clear()
        for name, engine in engines if index % 2 == 0 else engines[::-1]:
            timings[name], accuracies[name] = time_engine(engine, runs, dataset, args.diagnostics)
        numpy_rate, tf_rate = (max(pair) for pair in zip((numpy_rate, tf_rate), sgemm_rates()))  # before/after
        row = SimpleNamespace(numpy=numpy_rate, tf=tf_rate, seq=timings["sequential"], stk=timings["stacked"],
                              loop=sum(loop_seconds), acc=accuracies)
        rows.append(row)
        print(f"round {index + 1}: sgemm numpy {numpy_rate:6.1f} / TF {tf_rate:6.1f} GFLOP/s | sequential "
              f"{row.seq:6.1f} s ({flops / row.seq / 1e9:5.1f} GFLOP/s) | stacked {row.stk:5.1f} s "
              f"({flops / row.stk / 1e9:5.1f} GFLOP/s; training loop {row.loop:4.1f} s, "
              f"{loop_flops / row.loop / 1e9:5.1f} GFLOP/s) | speed-up {row.seq / row.stk:4.1f}x", flush=True)
    report(rows, runs, flops, loop_flops)


def report(rows, runs, flops: float, loop_flops: float) -> None:
    med = lambda values: statistics.median(values)  # noqa: E731
    best_numpy, best_tf = max(r.numpy for r in rows), max(r.tf for r in rows)
    print(f"\nmedians over {len(rows)} round(s): sequential {med([r.seq for r in rows]):.1f} s, stacked "
          f"{med([r.stk for r in rows]):.1f} s; speed-up (median of per-round ratios) "
          f"{med([r.seq / r.stk for r in rows]):.1f}x   [goal >= 6x]")
    print(f"sgemm rate: best in this run NumPy BLAS {best_numpy:.1f} GFLOP/s, TensorFlow {best_tf:.1f} GFLOP/s "
          f"(medians {med([r.numpy for r in rows]):.1f} and {med([r.tf for r in rows]):.1f}); share = achieved / "
          f"sgemm, as median over rounds of the same-round share, and against the best rate seen   [goal >= 40%]")
    for label, work, seconds in (("sequential, end to end", flops, "seq"), ("stacked, end to end", flops, "stk"),
                                 ("stacked, training loop", loop_flops, "loop")):
        rates = [work / getattr(r, seconds) / 1e9 for r in rows]
        same_numpy = med([x / r.numpy for x, r in zip(rates, rows)])
        same_tf = med([x / r.tf for x, r in zip(rates, rows)])
        print(f"  {label:24s} {med(rates):6.1f} GFLOP/s: same round {100 * same_numpy:5.1f}% of NumPy, "
              f"{100 * same_tf:5.1f}% of TF | best seen {100 * med(rates) / best_numpy:5.1f}% of NumPy, "
              f"{100 * med(rates) / best_tf:5.1f}% of TF")
    last = rows[-1].acc
    print("\ntest accuracy after the last epoch (last round), mean +- std over seeds:")
    differences = [abs(last["stacked"][s.key] - last["sequential"][s.key]) for s in runs]
    for activation in dict.fromkeys(s.activation for s in runs):
        keys = [s.key for s in runs if s.activation == activation]
        line = []
        for name in ("sequential", "stacked"):
            values = [last[name][k] for k in keys]
            line.append(f"{name} {np.mean(values):.4f} +- {np.std(values, ddof=1) if len(values) > 1 else 0:.4f}")
        print(f"  {activation:32s} " + " | ".join(line))
    print(f"largest |stacked - sequential| over runs: {max(differences):.4f} (same models; differences are float "
          f"rounding carried through training)")


if __name__ == "__main__":
    main()
