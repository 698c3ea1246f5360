"""The benchmark's case set is well-formed, and its detection mapping reads relulab's findings right.

Fast: models are built, never trained (except two tiny hand-made ones, which are only diagnosed).
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from broken_models import CASES, PROBLEMS, QUICK, Case, select  # noqa: E402
from broken_models import datasets  # noqa: E402
from broken_models.detection import detect, scores  # noqa: E402

from relulab.diagnostics import diagnose  # noqa: E402


def test_the_set_has_enough_cases_of_every_class():
    counts = collections.Counter(case.problem for case in CASES)
    assert len(CASES) >= 40
    assert counts["healthy"] >= 10
    assert set(counts) == set(PROBLEMS)
    assert all(counts[problem] >= 5 for problem in PROBLEMS)


def test_cases_are_uniquely_named_small_and_described():
    assert len({case.name for case in CASES}) == len(CASES)
    for case in CASES:
        assert case.name.startswith(case.problem), case.name
        assert case.dataset in datasets.NAMES
        assert 1 <= case.epochs <= 5 and case.learning_rate > 0 and case.how
    assert set(QUICK) <= {case.name for case in CASES}


class _Shapes:
    """A stand-in dataset with the right shapes, so building needs no data on disk."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.input_shape = datasets.input_shape(name)
        self.num_classes = datasets.num_classes(name)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_every_builder_returns_a_compiled_model_for_its_dataset(case):
    shapes = _Shapes(case.dataset)
    model = case.model(shapes)
    assert model.compiled
    assert tuple(model.input_shape[1:]) == shapes.input_shape
    out = model.output_shape[-1]
    assert out in (1, shapes.num_classes)
    x = np.zeros((2, *shapes.input_shape), "float32")
    assert tuple(model(x, training=False).shape) == (2, out)


def test_a_case_names_its_problem_and_select_names_the_cases():
    with pytest.raises(ValueError, match="problem of Case must be one of dying, vanishing"):
        Case("x", "broken", "digits", lambda *a, **k: None, 1, 0.1)
    with pytest.raises(ValueError, match="cases must name benchmark cases: dying-digits-lr"):
        select(["no-such-case"])
    assert [case.name for case in select(["healthy-digits-relu"])] == ["healthy-digits-relu"]


def _tiny(bias: float) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(16, activation="relu", kernel_initializer="he_normal",
                           bias_initializer=keras.initializers.Constant(bias)),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def _probe():
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (64, 4)).astype("float32"), rng.integers(0, 3, 64)


def test_detection_calls_a_shifted_relu_layer_dying_and_a_plain_one_healthy():
    x, y = _probe()
    model = _tiny(bias=0.0)
    model.layers[0].bias.assign(np.r_[np.full(12, -10.0), np.zeros(4)].astype("float32"))  # 12 of 16 units dead
    assert detect(diagnose(model, x, y).findings) == ("dying", "relulab dead")
    assert detect(diagnose(_tiny(bias=0.5), x, y).findings) == ("healthy", "")


def test_the_loss_rules_are_relulabs_a_non_finite_loss_is_exploding_an_overshoot_names_the_state_it_left():
    from relulab.diagnostics.advice import loss_findings

    assert detect(loss_findings([2.3, float("nan")])) == ("exploding", "relulab exploding")
    assert detect(loss_findings([2.3, 1.2], 2.3)) == ("healthy", "")
    diverging = loss_findings([14.8, 2.3], 2.3)
    assert detect(diverging) == ("exploding", "relulab diverging")
    finding = collections.namedtuple("Finding", "kind")
    assert detect([*diverging, finding("dead")]) == ("dying", "relulab dead")
    assert detect([finding("collapsed"), *diverging]) == ("collapsed", "relulab collapsed")
    left = collections.namedtuple("Finding", "kind cause")("collapsed", "diverging")  # relulab's attribution
    assert detect([*diverging, left, finding("dead")]) == ("exploding", "relulab collapsed after diverging")


def test_priority_and_scores():
    finding = collections.namedtuple("Finding", "kind")
    assert detect([finding("small_slope")]) == ("healthy", "")
    assert detect([finding("dead"), finding("collapsed"), finding("saturated")])[0] == "collapsed"
    assert detect([finding("saturated")]) == ("vanishing", "relulab saturated")
    assert scores(["dying", "dying", "healthy"], ["dying", "healthy", "dying"], "dying") == (0.5, 0.5)
    assert scores(["healthy"], ["healthy"], "dying") == (None, None)


def test_a_repair_succeeds_by_the_margin_or_by_reaching_the_control():
    import bench_repair

    def row(case, problem, before, after=None):
        return bench_repair.Row(case, problem, "digits", before, "", "", "", "", 0.0, repaired_accuracy=after)

    rows = [row("control", "healthy", 0.94), row("gain", "dying", 0.10, 0.16), row("small", "dying", 0.10, 0.13),
            row("level", "dying", 0.91, 0.92), row("none", "dying", 0.50)]
    bench_repair.judge_repairs(rows)
    assert [r.repaired for r in rows] == [None, True, False, True, None]


def test_the_callback_path_reads_the_monitors_numbers_with_relulabs_rules():
    from broken_models.measure import findings_from

    from relulab.diagnostics import find_sites, gradient_norms, measure_activity
    from relulab.diagnostics.probe_pass import output_spread

    x, y = _probe()
    for bias, expected in ((-10.0, "dying"), (0.5, "healthy")):
        model = _tiny(bias=0.5)
        model.layers[0].bias.assign(np.r_[np.full(12, bias), np.full(4, 0.5)].astype("float32"))  # -10: 12 dead
        activity = measure_activity(model, x, find_sites(model))
        norms = gradient_norms(model, x, y, keras.losses.get("sparse_categorical_crossentropy"))
        assert detect(findings_from(model, activity, norms, output_spread(model, x)))[0] == expected


def test_run_repair_measures_the_repaired_model_and_records_a_failure():
    import types

    import bench_repair

    case = select(["dying-digits-bias"])[0]
    row = bench_repair.Row(case.name, case.problem, case.dataset, 0.1, "", "", "", "", 0.0)
    calls = []

    def stand_in(model, dataset, *, epochs, seeds):  # returns the model untouched, as "repaired"
        calls.append((epochs, seeds))
        return types.SimpleNamespace(model=model, best=types.SimpleNamespace(name="he_init"))

    bench_repair.run_repair(stand_in, case, row, epochs=2, seeds=(0, 1, 2))
    assert calls == [(2, (0, 1, 2))] and row.repair_best == "he_init"
    assert 0.0 <= row.repaired_accuracy <= 1.0 and row.repair_seconds >= 0 and not row.error

    def failing(model, dataset, **_):
        raise RuntimeError("no candidate trained")

    bench_repair.run_repair(failing, case, row, epochs=2, seeds=(0,))
    assert row.error == "repair: RuntimeError: no candidate trained"
