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
    python benchmarks/bench_lab.py --end-to-end          # also the whole commands, each in a fresh process

End to end (``--end-to-end``): what a user waits for. ``relulab compare`` on the same grid as one process
(start-up, data, tracing, training, evaluation, plots, report) against one process that imports Keras and
runs the same loop of one default ``fit`` per run (and an ``evaluate``), on the same data; the compare
process's time is broken down by a second, instrumented run of the same stages in one process.

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
from relulab.lab.stacked.stack import Stack  # noqa: E402
from relulab.lab.stacked.engine import StackedEngine  # noqa: E402

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
    parser.add_argument("--end-to-end", action="store_true", help="also time the whole commands in fresh processes")
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
    if args.end_to_end:
        end_to_end(args, rows)


PLAIN_LOOP = """
import time, sys
start = time.perf_counter()
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras
import numpy as np
imported = time.perf_counter()
data = np.load(sys.argv[1])
x, y, xt, yt = data["x"], data["y"], data["xt"], data["yt"]
specs = sys.argv[2].split("|")
for seed in range(int(sys.argv[3])):
    for activation in specs:
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(int(sys.argv[4]), activation=activation),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, batch_size=32, epochs=int(sys.argv[5]), verbose=0)
        model.evaluate(xt, yt, verbose=0)
print(f"{imported - start:.3f} {time.perf_counter() - start:.3f}")
"""

STAGES = """
import time, sys, tempfile
start = time.perf_counter()
import relulab.cli  # what `relulab` imports before it parses its flags
from relulab.lab import runner
imported = time.perf_counter()
marks = {}
def timed(name, function):
    def wrapper(*args, **kwargs):
        begin = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            marks[name] = marks.get(name, 0.0) + time.perf_counter() - begin
    return wrapper
from relulab import data
from relulab.lab.stacked import engine as stacked
data.load = timed("data", data.load)
stacked.StackedEngine.train = timed("training (tracing, training, evaluation, diagnostics)", stacked.StackedEngine.train)
runner.rebuild = timed("summary, plots and report", runner.rebuild)
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # compare's table and report path
    relulab.cli.main(sys.argv[1:] + ["--out", tempfile.mkdtemp() + "/lab"])
total = time.perf_counter() - start
print("start-up (import relulab, Keras, TensorFlow):", f"{imported - start:.3f}")
for name, seconds in marks.items():
    print(name + ":", f"{seconds:.3f}")
print("other (grid, store, table):", f"{total - (imported - start) - sum(marks.values()):.3f}")
"""


def end_to_end(args, rows) -> None:
    """``relulab compare`` as a process against the plain-Keras loop as a process, with a breakdown."""
    import subprocess
    import sys
    import tempfile

    from relulab import data

    dataset = data.load("fashion_mnist", train_size=args.train_size, test_size=args.test_size)
    folder = tempfile.mkdtemp()
    arrays = f"{folder}/data.npz"
    np.savez(arrays, x=dataset.x_train, y=dataset.y_train, xt=dataset.x_test, yt=dataset.y_test)
    compare = ["--dataset", "fashion_mnist", "--activations", ",".join(args.activations), "--seeds",
               str(len(args.seeds)), "--hidden", ",".join(map(str, args.hidden)), "--epochs", str(args.epochs),
               "--batch-size", str(args.batch_size)]
    for flag, value in (("--train-size", args.train_size), ("--test-size", args.test_size)):
        if value:
            compare += [flag, str(value)]
    if not args.diagnostics:
        compare.append("--no-diagnostics")
    plain_activations = [a if a in ("relu", "sigmoid", "tanh") else {"prelu": "relu"}.get(a, "leaky_relu")
                         for a in args.activations]
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    print(f"\nend to end, each a fresh process ({args.rounds} round(s), alternating order):")
    ratios, seconds = [], {"compare": [], "plain": []}
    for index in range(args.rounds):
        def run_compare():
            begin = time.perf_counter()
            subprocess.run([sys.executable, "-m", "relulab", "compare", *compare, "--out", f"{folder}/lab{index}"],
                           check=True, capture_output=True, env=environment)
            return time.perf_counter() - begin

        def run_plain():
            begin = time.perf_counter()
            subprocess.run([sys.executable, "-c", PLAIN_LOOP, arrays, "|".join(plain_activations),
                            str(len(args.seeds)), str(args.hidden[0]), str(args.epochs)],
                           check=True, capture_output=True, env=environment)
            return time.perf_counter() - begin

        order = [("compare", run_compare), ("plain", run_plain)]
        measured = {name: run() for name, run in (order if index % 2 == 0 else order[::-1])}
        for name, value in measured.items():
            seconds[name].append(value)
        ratios.append(measured["plain"] / measured["compare"])
        print(f"  round {index + 1}: relulab compare {measured['compare']:.1f} s | import keras + one fit per run "
              f"{measured['plain']:.1f} s | {ratios[-1]:.1f}x", flush=True)
    print(f"  median: relulab compare {statistics.median(seconds['compare']):.1f} s, plain Keras "
          f"{statistics.median(seconds['plain']):.1f} s: {statistics.median(ratios):.1f}x end to end   [goal >= 6x]")
    print("  (the plain loop uses Keras' own relu/leaky_relu(0.2) for relulab's leaky_relu and relu for prelu:"
          " the same shapes and FLOPs)")
    stages = subprocess.run([sys.executable, "-c", STAGES, "compare", *compare], check=True, capture_output=True,
                            text=True, env=environment).stdout.strip().splitlines()
    print("  where relulab compare's time goes (one instrumented run):")
    for line in stages:
        name, value = line.rsplit(": ", 1)
        print(f"    {name:58s} {float(value):6.1f} s")


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
