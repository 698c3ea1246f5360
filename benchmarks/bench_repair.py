"""Does relulab detect and repair other people's broken models? The labelled cases of ``broken_models``.

For every case (``benchmarks/broken_models/``: a builder and its config, with a planted problem --
dying ReLU, vanishing or exploding gradients, a collapsed signal -- or none, the healthy controls):

1. train it as configured with ``relulab.training.fit`` (seed 0), ``default_monitors`` attached;
2. detection, two ways, each mapped to one class by ``broken_models.detection`` (its docstring has the
   mapping of relulab's finding kinds and the priority):
   - *monitors*: after epoch ``min(2, epochs)``, the monitors' measurements and the training loss so far,
     read by relulab's advice rules (the callback path an ``AutoRepair`` would take; ``broken_models.measure``);
   - *diagnose*: ``relulab.diagnose(model, x, y, history=...)`` on the final model with the run's loss
     history, on the monitors' probe (1,024 training examples spread over the set: a unit is dead when
     no *training* example activates it);
3. repair (when ``relulab.remedies.repair`` exists): ``repair(model, dataset, epochs=..., seeds=(0, 1, 2))``
   on a fresh copy of each broken case. Success: the repaired model's test accuracy is at least
   ``REPAIR_MARGIN`` (5 points) above the broken run's, or within 5 points of the best healthy control
   on the same dataset;
4. overhead: each healthy control fitted plainly and with ``default_monitors``, alternately, fresh
   models, same seed and data, garbage collected before each fit (a long run's collection can stall a fit by
   seconds); the ratio of the summed times (and the median per-case ratio), and the time spent inside the
   monitors' own callbacks over the plain fits' time (pairs of whole fits differ by up to 30% on a shared
   machine; the time inside does not).

Printed: one line per case, then per problem class recall and precision of both detections, the false
alarms on the controls, mean accuracy before -> after repair, repair success and time, and the overhead.
Goals (issue 11): recall and precision >= 0.95 per class, no false alarm, >= 95% repaired, overhead <= 1.05x.
Thresholds are relulab's own (``relulab.diagnostics.advice``), not tuned to these cases.

    python benchmarks/bench_repair.py                    # every case: minutes on two cores
    python benchmarks/bench_repair.py --quick            # 6 cases, 1 epoch, no repair: a smoke test
    python benchmarks/bench_repair.py --cases dying-digits-lr,healthy-digits-relu --no-repair --json out.json

Timings on a shared machine are indicative only.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # broken_models

import relulab  # noqa: E402,F401  (first: it keeps TensorFlow's start-up lines off the terminal)

from broken_models import PROBLEMS, QUICK, Case, select  # noqa: E402
from broken_models import datasets  # noqa: E402
from broken_models.builders import accuracy  # noqa: E402
from broken_models.detection import detect, scores  # noqa: E402
from broken_models.measure import EarlyFindings, timed  # noqa: E402
from relulab import callbacks, training  # noqa: E402
from relulab.data import DataError  # noqa: E402
from relulab.diagnostics import DEFAULT_PROBE_SIZE, diagnose  # noqa: E402
from relulab.diagnostics.probe import subset  # noqa: E402

CHECK_EPOCH = 2  # the monitors' verdict is read after this epoch (or the last one, if fewer)
REPAIR_MARGIN = 0.05  # accuracy points a repair must add (or reach the best control within this)
REPAIR_SEEDS = (0, 1, 2)


@dataclasses.dataclass
class Row:
    """One trained case."""

    case: str
    problem: str
    dataset: str
    accuracy: float  # test accuracy of the run as configured
    monitors: str  # class detected by the monitors after CHECK_EPOCH
    monitors_why: str
    diagnose: str  # class detected by diagnose on the final model
    diagnose_why: str
    seconds: float  # fit with monitors, diagnose included
    measures: dict[str, float | None] = dataclasses.field(default_factory=dict)  # diagnose's numbers
    losses: list[float] = dataclasses.field(default_factory=list)  # training loss per epoch
    error: str = ""
    repaired_accuracy: float | None = None
    repair_best: str | None = None
    repair_seconds: float | None = None
    repaired: bool | None = None


def probe(dataset: Any) -> tuple[Any, Any]:
    """The probe both detections use: ``default_monitors``' 1,024 training examples spread over the set."""
    return subset(dataset.x_train, dataset.y_train, DEFAULT_PROBE_SIZE)


def key_measures(report: Any) -> dict[str, float | None]:
    """The numbers relulab's rules read: the worst layer's dead and saturated fractions, the gradient ratio,
    the largest kernel gradient norm and the output spread."""
    def worst(values: list[float | None]) -> float | None:
        known = [value for value in values if value is not None]
        return max(known) if known else None

    norms = list((report.grad_norms or {}).values())
    return {"max_dead": worst([row.dead_fraction for row in report.rows]),
            "max_saturation": worst([row.saturation for row in report.rows]),
            "grad_ratio": report.grad_ratio, "top_grad_norm": worst(norms), "output_spread": report.output_spread}


def run_case(case: Case, epochs: int | None = None) -> Row:
    """Train ``case`` as configured (``epochs`` overrides its own) and detect with both paths."""
    dataset = datasets.get(case.dataset)
    epochs = epochs or case.epochs
    model = case.model(dataset)
    monitors = callbacks.default_monitors(dataset.x_train, dataset.y_train)
    early = EarlyFindings(monitors, epoch=min(CHECK_EPOCH, epochs))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NaN and overflow warnings of the exploding cases
        result = training.fit(model, dataset, seed=0, epochs=epochs, batch_size=case.batch_size,
                              callbacks=[*monitors, early])
        losses = result.history["loss"]
        monitor_class, monitor_why = detect(early.findings)
        error = ""
        try:
            report = diagnose(model, *probe(dataset), history=result.history)
            findings, measures = report.findings, key_measures(report)
        except Exception as failure:  # noqa: BLE001  (a benchmark reports a failure and goes on)
            findings, measures, error = (), {}, f"diagnose: {type(failure).__name__}: {failure}"[:200]
        diagnose_class, diagnose_why = detect(findings)
    seconds = time.perf_counter() - start
    return Row(case.name, case.problem, case.dataset, accuracy(model, dataset.x_test, dataset.y_test),
               monitor_class, monitor_why, diagnose_class, diagnose_why, seconds, measures, losses, error)


def repair_function() -> Any:
    """``relulab.remedies.repair.repair``, or None where this relulab has none."""
    try:
        from relulab.remedies.repair import repair
    except ImportError:
        return None
    return repair


def run_repair(repair: Any, case: Case, row: Row, *, epochs: int, seeds: tuple[int, ...]) -> None:
    """Repair a fresh copy of ``case`` and record the repaired model's test accuracy in ``row``."""
    dataset = datasets.get(case.dataset)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = repair(case.model(dataset), dataset, epochs=epochs, seeds=seeds)
        row.repaired_accuracy = accuracy(result.model, dataset.x_test, dataset.y_test)
        best = getattr(result, "best", None)
        row.repair_best = str(getattr(best, "name", best))
    except Exception as failure:  # noqa: BLE001
        row.error = (row.error + "; " if row.error else "") + f"repair: {type(failure).__name__}: {failure}"[:200]
    row.repair_seconds = time.perf_counter() - start


def judge_repairs(rows: list[Row]) -> None:
    """Set ``repaired``: +REPAIR_MARGIN over the broken run, or within it of the best control on the data."""
    reference = {}
    for row in rows:
        if row.problem == "healthy":
            reference[row.dataset] = max(reference.get(row.dataset, 0.0), row.accuracy)
    for row in rows:
        if row.problem == "healthy" or row.repaired_accuracy is None:
            continue
        level = reference.get(row.dataset)
        row.repaired = (row.repaired_accuracy >= row.accuracy + REPAIR_MARGIN
                        or (level is not None and row.repaired_accuracy >= level - REPAIR_MARGIN))


def overhead(cases: list[Case], epochs: int | None) -> list[tuple[str, float, float, float]]:
    """``(case, plain seconds, monitored seconds, seconds inside the monitors)`` per healthy control, the two fits
    alternating; the last is the monitors' own ``on_train_begin`` and ``on_epoch_end`` time in the monitored fit."""
    timings = []
    for index, case in enumerate(cases):
        dataset = datasets.get(case.dataset)
        seconds, spent = {}, []
        order = ("plain", "monitors") if index % 2 == 0 else ("monitors", "plain")
        for variant in order:
            model = case.model(dataset)
            extra = callbacks.default_monitors(dataset.x_train, dataset.y_train) if variant == "monitors" else []
            for monitor in extra:
                monitor.on_train_begin = timed(monitor.on_train_begin, spent)
                monitor.on_epoch_end = timed(monitor.on_epoch_end, spent)
            gc.collect()
            seconds[variant] = training.fit(model, dataset, seed=0, epochs=epochs or case.epochs,
                                            batch_size=case.batch_size, callbacks=extra).seconds
        timings.append((case.name, seconds["plain"], seconds["monitors"], sum(spent)))
    return timings


def _mean(values: list[float]) -> str:
    return f"{100 * statistics.fmean(values):.1f}" if values else "-"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_cases(rows: list[Row]) -> None:
    print(f"{'case':34} {'planted':9} {'monitors':9} {'diagnose':9} {'acc':>5} {'after':>5} {'s':>5}  why (diagnose)")
    for row in rows:
        after = "-" if row.repaired_accuracy is None else f"{100 * row.repaired_accuracy:.0f}"
        print(f"{row.case:34} {row.problem:9} {row.monitors:9} {row.diagnose:9} {100 * row.accuracy:5.0f} {after:>5} "
              f"{row.seconds:5.1f}  {row.diagnose_why}{'  ERROR ' + row.error if row.error else ''}")


def print_classes(rows: list[Row], repair_missing: str | None) -> None:
    """Per class: recall and precision of both detections, accuracies, repairs; ``repair_missing`` says why
    the repair columns are empty (None: repair ran)."""
    planted = [row.problem for row in rows]
    by_monitors, by_diagnose = [row.monitors for row in rows], [row.diagnose for row in rows]
    print(f"\n{'class':10} {'n':>3}  {'monitors R':>10} {'P':>5}  {'diagnose R':>10} {'P':>5}  "
          f"{'acc before':>10} {'-> after':>8}  {'repaired':>8} {'repair s':>8}")
    for problem in PROBLEMS:
        members = [row for row in rows if row.problem == problem]
        if not members and problem not in by_monitors + by_diagnose:
            continue
        monitor_r, monitor_p = scores(planted, by_monitors, problem)
        diagnose_r, diagnose_p = scores(planted, by_diagnose, problem)
        before = _mean([row.accuracy for row in members])
        if problem == "healthy":
            after, repaired, took = "", "", ""
        elif repair_missing:
            after, repaired, took = "n/a", "n/a", "n/a"
        else:
            tried = [row for row in members if row.repaired is not None]
            after = _mean([row.repaired_accuracy for row in tried])
            repaired = f"{sum(row.repaired for row in tried)}/{len(members)}"
            took = f"{sum(row.repair_seconds or 0 for row in members):.0f}"
        print(f"{problem:10} {len(members):3}  {_ratio(monitor_r):>10} {_ratio(monitor_p):>5}  {_ratio(diagnose_r):>10} "
              f"{_ratio(diagnose_p):>5}  {before:>10} {after:>8}  {repaired:>8} {took:>8}")
    controls = [row for row in rows if row.problem == "healthy"]
    for path in ("monitors", "diagnose"):
        alarms = [f"{row.case} ({getattr(row, path)})" for row in controls if getattr(row, path) != "healthy"]
        print(f"false alarms on the {len(controls)} controls, {path}: {len(alarms)}"
              + (f": {', '.join(alarms)}" if alarms else ""))
    if repair_missing:
        print(f"repair: {repair_missing}")
    else:
        print(f"repair success: test accuracy >= before + {100 * REPAIR_MARGIN:.0f} points, or within "
              f"{100 * REPAIR_MARGIN:.0f} points of the best healthy control on the same dataset")


def print_overhead(timings: list[tuple[str, float, float, float]]) -> None:
    if not timings:
        return
    plain, monitored, inside = (sum(t[i] for t in timings) for i in (1, 2, 3))
    ratios = [t[2] / t[1] for t in timings]
    print(f"\nmonitors' overhead on {len(timings)} controls (plain fit vs default_monitors, fresh model, same "
          f"seed and data): {plain:.1f} s -> {monitored:.1f} s, ratio of sums {monitored / plain:.2f}x, "
          f"median per case {statistics.median(ratios):.2f}x (a shared machine: indicative only)")
    shares = [t[3] / t[1] for t in timings]
    print(f"time inside the monitors (their on_train_begin and on_epoch_end): {inside:.2f} s, {100 * inside / plain:.1f}% "
          f"of the plain fits' time, median per case {100 * statistics.median(shares):.1f}% (not blurred by noise "
          f"in the monitored fits: {1 + inside / plain:.3f}x)")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}; 1 epoch; no repair")
    parser.add_argument("--cases", type=lambda text: [name for name in text.split(",") if name],
                        help="comma-separated case names (default: all)")
    parser.add_argument("--no-repair", action="store_true", help="skip the repair columns")
    parser.add_argument("--no-overhead", action="store_true", help="skip the monitors' overhead on the controls")
    parser.add_argument("--json", type=Path, help="also write every row and timing to this JSON file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        cases = select(list(QUICK) if args.quick and not args.cases else args.cases)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    epochs = 1 if args.quick else None
    repair = None if args.no_repair or args.quick else repair_function()
    repair_missing = ("skipped (--no-repair)" if args.no_repair else "skipped (--quick)" if args.quick
                      else None if repair is not None else "not available (no relulab.remedies.repair in this relulab)")
    start = time.perf_counter()
    rows = []
    for number, case in enumerate(cases, start=1):
        try:
            row = run_case(case, epochs)
        except DataError as error:  # Fashion-MNIST neither on this machine nor downloadable
            print(f"[{number}/{len(cases)}] {case.name}: skipped: {error}", file=sys.stderr, flush=True)
            continue
        if repair is not None and case.problem != "healthy":
            run_repair(repair, case, row, epochs=epochs or case.epochs, seeds=REPAIR_SEEDS)
        rows.append(row)
        print(f"[{number}/{len(cases)}] {case.name}: {row.diagnose} ({time.perf_counter() - start:.0f} s)",
              file=sys.stderr, flush=True)
    judge_repairs(rows)
    trained = {row.case for row in rows}
    controls = [case for case in cases if case.problem == "healthy" and case.name in trained]
    timings = [] if args.no_overhead else overhead(controls[:1] if args.quick else controls, epochs)
    print_cases(rows)
    print_classes(rows, repair_missing)
    print_overhead(timings)
    print(f"\n{len(rows)} cases in {time.perf_counter() - start:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"cases": [case.config() for case in cases],
                                         "rows": [dataclasses.asdict(row) for row in rows],
                                         "overhead": timings, "check_epoch": CHECK_EPOCH,
                                         "repair_margin": REPAIR_MARGIN}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
