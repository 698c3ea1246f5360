"""What relulab's monitors cost in ``fit``, next to no callbacks and Keras' TensorBoard histograms.

The article's model (784 -> Dense(64, relu) -> Dense(10, softmax), Adam, sparse categorical
cross-entropy) on Fashion-MNIST, batch 32, the same seed and epochs for every variant:

- ``none``: no callbacks (the baseline);
- ``monitors``: ``DeadUnitMonitor`` and ``GradientFlowMonitor`` on a probe (``default_monitors``: 1,024
  training examples spread over the set), measured at every epoch's end;
- ``monitors-seen``: both monitors without a probe, counting on every training batch (``--seen``);
- ``tensorboard``: ``keras.callbacks.TensorBoard(histogram_freq=1)``.

Variants run interleaved (A B C, then B C A, C A B, ...: each round rotates the order so that no variant
always runs first) so that drift on a shared machine hits all alike; the ratio to the baseline is taken
within each round, and the median over rounds is printed, with the ratio of the fastest fits (the
least disturbed by other load). Each fit builds a fresh model with the same
seed; the time is the whole ``fit`` call (tracing included). For the probe monitors, the time spent
inside their ``on_epoch_end`` is also measured directly: a share of the fit that machine noise cannot blur.

    python benchmarks/bench_monitors.py                                   # 5 epochs, 3 rounds: minutes
    python benchmarks/bench_monitors.py --epochs 2 --repeats 2 --subset 20000 --seen   # a quick look

Goal: monitors <= 1.05x the baseline (TensorBoard histograms cost about 1.25x).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import relulab  # noqa: E402,F401  (first: it keeps TensorFlow's start-up lines off the terminal)
import keras  # noqa: E402

from relulab import callbacks, data  # noqa: E402
from broken_models.measure import timed  # noqa: E402  (benchmarks/ is the script's folder)


def article_model() -> keras.Model:
    model = keras.Sequential([
        keras.Input((784,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def variants(x, y, log_dir: str, seen: bool) -> dict[str, callable]:
    """name -> a function returning the callbacks of one fit."""
    found = {
        "none": lambda: [],
        "monitors": lambda: callbacks.default_monitors(x, y),
        "tensorboard": lambda: [keras.callbacks.TensorBoard(log_dir=log_dir, histogram_freq=1)],
    }
    if seen:
        found["monitors-seen"] = lambda: [callbacks.DeadUnitMonitor(), callbacks.GradientFlowMonitor()]
    return found


def time_fit(make_callbacks, x, y, *, epochs: int, batch_size: int, seed: int) -> tuple[float, float, float]:
    """(seconds of the fit, seconds inside relulab monitors' on_epoch_end, final training accuracy)."""
    gc.collect()
    keras.utils.set_random_seed(seed)
    model = article_model()
    spent: list[float] = []
    chosen = make_callbacks()
    for callback in chosen:
        if isinstance(callback, (callbacks.DeadUnitMonitor, callbacks.GradientFlowMonitor)):
            callback.on_epoch_end = timed(callback.on_epoch_end, spent)
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, callbacks=chosen, verbose=0)
    return time.perf_counter() - start, sum(spent), history.history["accuracy"][-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5, help="epochs per fit")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--subset", type=int, default=None, help="first N training examples (default all 60,000)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seen", action="store_true", help="also time the monitors without a probe")
    args = parser.parse_args()

    ds = data.load("fashion_mnist", train_size=args.subset)
    x, y = ds.x_train, ds.y_train
    print(f"Fashion-MNIST: {len(x)} examples, {args.epochs} epochs, batch {args.batch_size}, "
          f"{args.repeats} rounds; keras {keras.__version__} ({keras.backend.backend()})")
    with tempfile.TemporaryDirectory() as log_dir:
        runs = variants(x, y, log_dir, args.seen)
        times: dict[str, list[float]] = {name: [] for name in runs}
        inside: list[float] = []
        names = list(runs)
        for round_ in range(args.repeats):
            for name in names[round_ % len(names):] + names[:round_ % len(names)]:
                seconds, monitor_seconds, accuracy = time_fit(
                    runs[name], x, y, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed)
                times[name].append(seconds)
                if name == "monitors":
                    inside.append(monitor_seconds / seconds)
                print(f"round {round_ + 1}  {name:<14} {seconds:7.2f} s  (train accuracy {accuracy:.4f})", flush=True)
    print(f"\n{'variant':<14} {'median s':>9} {'fastest s':>10} {'ratio: median of rounds':>24} {'fastest/fastest':>16}")
    for name, values in times.items():
        ratios = [t / base for t, base in zip(values, times["none"])]
        print(f"{name:<14} {statistics.median(values):9.2f} {min(values):10.2f} {statistics.median(ratios):23.3f}x "
              f"{min(values) / min(times['none']):15.3f}x")
    print(f"\ntime inside the probe monitors' on_epoch_end: {100 * statistics.median(inside):.2f}% of their fit "
          f"(median of rounds; {args.epochs} measurements per fit)")


if __name__ == "__main__":
    main()
