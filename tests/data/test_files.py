"""A user's own .npz/.csv, IDX folders, scaling, slicing, and the Dataset itself."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from relulab import data
from relulab.data import Dataset
from relulab.errors import DataError

TABLE = np.array([  # label, then two features; feature a is constant
    [0, 5, 1], [1, 5, 3], [0, 5, 2], [1, 5, 9], [0, 5, 4], [1, 5, 6], [0, 5, 0], [1, 5, 7],
])


def csv_text(header: str | None, rows: np.ndarray = TABLE, order=(0, 1, 2)) -> str:
    lines = [header] if header else []
    lines += [",".join(str(row[i]) for i in order) for row in rows]
    return "\n".join(lines) + "\n"


def test_own_npz_is_read_as_is_without_split(write_npz):
    x_train, x_test = np.array([[0.0, 10.0], [2.0, 10.0], [4.0, 10.0]]), np.array([[6.0, 12.0]])
    labels = {"y_train": np.array([0.0, 2.0, 1.0]), "y_test": np.array([3])}  # integer-valued floats are fine
    path = write_npz("mine.npz", x_train=x_train, x_test=x_test, **labels)
    ds = data.load(str(path))
    assert (ds.name, ds.source, ds.num_classes, ds.input_shape) == ("mine", str(path), 4, (2,))
    # per-feature min-max over the training set; the constant feature is only shifted; test may leave [0, 1]
    np.testing.assert_allclose(ds.x_train, [[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(ds.x_test, [[1.5, 2.0]])
    np.testing.assert_array_equal(ds.y_train, [0, 2, 1])
    assert ds.y_train.dtype == np.int64


def test_own_npz_with_x_and_y_is_split(write_npz):
    x = np.arange(40, dtype=np.float64).reshape(20, 2)
    ds = data.load(write_npz("xy.npz", x=x, y=np.arange(20) % 2), seed=1)
    assert (ds.n_train, ds.n_test) == (15, 5)
    assert sorted(np.concatenate([ds.x_train, ds.x_test])[:, 0] * 38) == pytest.approx(list(range(0, 40, 2)))


@pytest.mark.parametrize(
    ("header", "order"),
    [("y_label_is_first,a,b", (0, 1, 2)),  # header without a 'label' column: the first column
     ("a,LABEL,b", (1, 0, 2)),  # the column named label, wherever it is
     (None, (0, 1, 2))],  # no header: the first column
    ids=["header-first-column", "header-label-column", "no-header"],
)
def test_csv_label_column_and_header(header, order, write_text):
    path = write_text("table.csv", csv_text(header, order=order))
    ds = data.load(path, test_fraction=0.25, seed=0)
    assert (ds.name, ds.n_train, ds.n_test, ds.input_shape, ds.num_classes) == ("table", 6, 2, (2,), 2)
    x = np.concatenate([ds.x_train, ds.x_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    # feature b (all values distinct) is min-max scaled over the training rows: an increasing map, so
    # sorting by it must give the labels in the order of the table sorted by b
    assert (ds.x_train[:, 1].min(), ds.x_train[:, 1].max()) == (0.0, 1.0)
    np.testing.assert_array_equal(y[np.argsort(x[:, 1])], TABLE[np.argsort(TABLE[:, 2]), 0])
    np.testing.assert_array_equal(x[:, 0], 0.0)  # the constant feature a
    assert set(np.bincount(ds.y_test)) == {1}  # stratified: one of each class in the 2 test rows


def test_csv_accepts_integer_valued_float_labels_quotes_and_blank_lines(write_text):
    path = write_text("floats.csv", 'label,"f"\n0.0,1\n\n1.0,2\n  \n0.0,3\n1.0,4\n')
    ds = data.load(path, test_fraction=0.5)
    assert ds.num_classes == 2 and ds.n_train + ds.n_test == 4
    assert sorted(np.concatenate([ds.y_train, ds.y_test]).tolist()) == [0, 0, 1, 1]


def test_an_existing_file_without_a_known_suffix_is_read_by_its_content(write_text, write_npz, tmp_path):
    assert data.load(write_text("table.txt", csv_text(None)), test_fraction=0.5).n_test == 4
    npz = write_npz("archive.npz")
    renamed = npz.rename(tmp_path / "archive.bin")
    assert data.load(renamed).n_train == 50


def test_a_folder_of_idx_files_is_a_dataset(write_idx_folder, images):
    ds = data.load(write_idx_folder("my-idx"))
    assert (ds.name, ds.n_train, ds.n_test, ds.input_shape) == ("my-idx", 50, 20, (784,))
    np.testing.assert_array_equal(ds.y_test, images["y_test"])


def test_standard_scaling_uses_training_statistics_and_survives_constant_features():
    ds = data.load("digits", scaling="standard")
    std = ds.x_train.std(axis=0)
    varying = std > 0
    assert (~varying).any()  # digits has pixels that are always 0
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(std[varying], 1.0, rtol=1e-4)
    np.testing.assert_array_equal(ds.x_train[:, ~varying], 0.0)
    assert np.isfinite(ds.x_test).all()
    assert abs(ds.x_test.mean()) < 0.2  # the test set is scaled with the same, not its own, statistics


def test_scaling_none_keeps_the_values_as_stored():
    assert data.load("digits", scaling="none").x_train.max() == 16.0
    assert data.load("digits").x_train.max() == 1.0


def test_train_size_and_test_size_take_the_first_examples():
    full = data.load("digits")
    small = data.load("digits", train_size=100, test_size=30)
    assert (small.n_train, small.n_test, small.num_classes) == (100, 30, 10)
    np.testing.assert_array_equal(small.x_train, full.x_train[:100])
    np.testing.assert_array_equal(small.y_test, full.y_test[:30])


def test_num_classes_counts_labels_of_the_test_set_too(write_npz):
    x = np.ones((3, 2))
    ds = data.load(write_npz("t.npz", x_train=x, y_train=[0, 1, 1], x_test=x, y_test=[0, 4, 1]))
    assert ds.num_classes == 5


def test_dataset_is_frozen_and_describes_itself():
    ds = data.load("digits", train_size=10, test_size=5)
    assert ds.describe() == (
        "digits: 10 train + 5 test examples of shape (64,), 10 classes, from sklearn.datasets.load_digits"
    )
    assert repr(ds) == f"Dataset({ds.describe()})"
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.num_classes = 3


def _dataset(**change):
    x, y = np.zeros((4, 3), np.float32), np.array([0, 1, 0, 1])
    fields = dict(name="t", source="test", x_train=x, y_train=y, x_test=x, y_test=y, num_classes=2, input_shape=(3,))
    return Dataset(**{**fields, **change})


@pytest.mark.parametrize(
    ("change", "match"),
    [({"x_train": np.zeros((4, 3))}, r"x_train of Dataset must be a float32 array of shape \(N, \*\(3,\)\)\. "
                                     r"Received: x_train of dtype float64 and shape \(4, 3\)"),
     ({"input_shape": (4,)}, r"x_train of Dataset must be a float32 array of shape \(N, \*\(4,\)\)"),
     ({"y_test": np.array([0, 1, 0], np.int64)}, r"y_test of Dataset must be an int64 array of shape \(4,\)"),
     ({"num_classes": 1}, r"num_classes of Dataset must be >= 2 and every label must lie in \[0, num_classes\)\. "
                          r"Received: num_classes=1, labels in \[0, 1\]"),
     ({"num_classes": "2"}, r"num_classes of Dataset must be an integer >= 2\. Received: num_classes='2'")],
    ids=["x-dtype", "input-shape", "y-length", "label-above-num-classes", "num-classes-type"],
)
def test_dataset_checks_its_arrays(change, match):
    assert _dataset().n_train == 4
    with pytest.raises(DataError, match=match):
        _dataset(**change)
