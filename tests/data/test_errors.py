"""Every bad input raises one DataError line that names the file or argument, the problem and the rule."""

from __future__ import annotations

import gzip
from types import SimpleNamespace

import numpy as np
import pytest

from relulab import data
from relulab.errors import DataError, UserError

X = np.zeros((4, 3))
Y = np.array([0, 1, 0, 1])


def npz(t, **arrays):
    return data.load(t.write_npz("bad.npz", **{"x_train": X, "y_train": Y, "x_test": X, "y_test": Y, **arrays}))


def csv(t, text):
    return data.load(t.write_text("bad.csv", text))


def idx(t, **replace):
    return data.load("fashion_mnist", data_path=t.write_idx_folder(**replace))


def truncated_npz(t):
    path = t.write_npz("whole.npz")
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    return data.load(path)


def corrupt_gzip(t):
    folder = t.write_idx_folder()
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"this is not gzip at all")
    return data.load("mnist", data_path=folder)


def cut_gzip(t):
    folder = t.write_idx_folder()
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:500])
    return data.load("mnist", data_path=folder)


def missing_idx_file(t):
    folder = t.write_idx_folder()
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    return data.load("fashion_mnist", data_path=folder)


def single_array(t):
    path = t.tmp_path / "one.npz"
    with path.open("wb") as stream:
        np.save(stream, X)
    return data.load(path)


def images_bytes(t, n=50, drop=0, extra=b""):
    """The IDX bytes of the first ``n`` training images, less ``drop`` bytes at the end, plus ``extra``."""
    content = t.idx_bytes(t.images["x_train"][:n])
    return content[: len(content) - drop] + extra


def case(name, make, match):
    return pytest.param(make, match, id=name)


def mnist_copy_of_32x32_images(t):
    arrays = {"x_train": np.zeros((5, 32, 32)), "y_train": np.zeros(5), "x_test": np.zeros((2, 32, 32)),
              "y_test": np.zeros(2)}
    return data.load("mnist", data_path=t.write_npz("c.npz", **arrays))


def binary_csv(t):
    path = t.tmp_path / "b.csv"
    path.write_bytes(b"\xff\xfe\x00")
    return data.load(path)


ARGUMENTS = [
    case("unknown-name", lambda t: data.load("mnits"),
         r"^name_or_path of load must be one of 'digits', 'fashion_mnist', 'mnist', or a path to an existing "
         r"\.npz/\.csv file or IDX folder\. Received: name_or_path='mnits'$"),
    case("name-type", lambda t: data.load(7), r"name_or_path of load must be one of .* Received: name_or_path=7$"),
    case("scaling", lambda t: data.load("digits", scaling="minmax"),
         r"^scaling of load must be one of 'unit', 'standard', 'none'\. Received: scaling='minmax'$"),
    case("flatten", lambda t: data.load("digits", flatten="yes"),
         r"^flatten of load must be True or False\. Received: flatten='yes'$"),
    case("seed", lambda t: data.load("digits", seed=-1),
         r"^seed of load must be an integer in \[0, 2\*\*32\)\. Received: seed=-1$"),
    case("train-size-zero", lambda t: data.load("digits", train_size=0),
         r"^train_size of load must be an integer >= 1\. Received: train_size=0$"),
    case("test-size-float", lambda t: data.load("digits", test_size=1.5),
         r"^test_size of load must be an integer >= 1\. Received: test_size=1\.5$"),
    case("train-size-too-big", lambda t: data.load("digits", train_size=5000),
         r"^train_size of load must be <= 1347, the number of training examples of digits\. "
         r"Received: train_size=5000$"),
    case("test-fraction", lambda t: data.load("digits", test_fraction=1.0),
         r"^test_fraction of load must be a finite number > 0 and < 1\. Received: test_fraction=1\.0$"),
    case("data-path-for-digits", lambda t: data.load("digits", data_path="/x.npz"),
         r"^data_path of load is only for fashion_mnist, mnist \(a local copy of their files\); digits ships with "
         r"its library\. Received: data_path='/x\.npz'$"),
    case("data-path-for-a-file", lambda t: data.load("own.csv", data_path="/x.npz"),
         r"^data_path of load is only for the built-in mnist and fashion_mnist"),
    case("data-path-missing", lambda t: data.load("mnist", data_path=t.tmp_path / "nowhere.npz"),
         r"^data_path of load does not exist: .*nowhere\.npz; for mnist pass an \.npz in Keras' layout"),
    case("data-path-wrong-images", mnist_copy_of_32x32_images,
         r"^x_train in .*c\.npz has examples of shape \(32, 32\); mnist examples are 28x28 images$"),
    case("data-path-label-out-of-range",
         lambda t: data.load("mnist", data_path=t.write_npz("c.npz", **{**t.images, "y_test": np.full(20, 12)})),
         r"^labels of mnist in .*c\.npz must lie in \[0, 9\]; found 12$"),
]

NPZ = [
    case("missing-npz", lambda t: data.load(t.tmp_path / "none.npz"),
         r"none\.npz does not exist; expected a \.npz \(keys x_train, y_train, x_test, y_test\) or \.csv"),
    case("empty-npz", lambda t: data.load(t.write_text("empty.npz", "")), r"empty\.npz is empty; expected a \.npz"),
    case("corrupt-npz", lambda t: data.load(t.write_text("junk.npz", "PK\x03\x04 not really a zip")),
         r"junk\.npz is not a readable \.npz archive \(corrupt or truncated\): BadZipFile"),
    case("truncated-npz", truncated_npz, r"whole\.npz is not a readable \.npz archive \(corrupt"),
    case("single-array", single_array, r"one\.npz holds a single array \(\.npy\); expected an \.npz archive"),
    case("missing-keys", lambda t: data.load(t.write_npz("half.npz", x_train=X, y_train=Y)),
         r"half\.npz lacks the keys x_test, y_test \(found: x_train, y_train\); an \.npz needs x_train, y_train, "
         r"x_test, y_test \(Keras' mnist\.npz layout\) or x, y$"),
    case("fractional-labels", lambda t: npz(t, y_train=np.array([0, 1, 1.5, 0])),
         r"^y_train in .*bad\.npz: labels must be integer class indices >= 0; found 1\.5 in example 2$"),
    case("nan-labels", lambda t: npz(t, y_test=np.array([0, np.nan, 1, 0])),
         r"^y_test in .*: labels must be integer class indices >= 0; found nan in example 1$"),
    case("string-labels", lambda t: npz(t, y_train=np.array(["cat", "dog", "cat", "dog"])),
         r"^y_train in .*: labels must be integer class indices >= 0; found values of dtype <U3 such as 'cat'$"),
    case("negative-labels", lambda t: npz(t, y_test=np.array([0, 1, -1, 0])),
         r"^y_test in .*: labels must be integer class indices >= 0; found -1 in example 2$"),
    case("two-d-labels", lambda t: npz(t, y_train=np.zeros((4, 2))), r"^y_train in .* must be one label per example"),
    case("all-labels-zero", lambda t: npz(t, y_train=np.zeros(4), y_test=np.zeros(4)),
         r"labels in .*bad\.npz are all 0; a classifier needs at least 2 classes"),
    case("nan-features", lambda t: npz(t, x_test=np.where(np.eye(4, 3) > 0, np.nan, 0.0)),
         r"^x_test in .*bad\.npz has NaN or infinite values \(first nan in example 0\); features must be finite"),
    case("inf-features", lambda t: npz(t, x_train=np.full((4, 3), np.inf)),
         r"^x_train in .* has NaN or infinite values \(first inf"),
    case("string-features", lambda t: npz(t, x_train=np.full((4, 3), "a")),
         r"^x_train in .* must hold numbers \(features\); found values of dtype <U1$"),
    case("one-d-features", lambda t: npz(t, x_train=np.zeros(4)), r"^x_train in .* must have one example per row"),
    case("no-examples", lambda t: npz(t, x_test=np.zeros((0, 3)), y_test=np.zeros(0)),
         r"^x_test in .* has no examples; at least 1 is needed$"),
    case("length-mismatch", lambda t: npz(t, y_train=np.array([0, 1, 0])),
         r"^x_train in .*bad\.npz has 4 examples but y_train in .*bad\.npz has 3 labels; each example needs "
         r"exactly one label$"),
    case("huge-label", lambda t: npz(t, y_test=np.array([0, 1, 10**9, 0])),
         r"^y_test in .*bad\.npz: labels must be class indices 0\.\.K-1 with K at most 1,000 here \(the number of "
         r"examples, or 1,000 if that is more\); found 1000000000 in example 2, which would make 1000000001 classes: "
         r"their output layer alone would need at least 29\.8 GiB \(this machine has "),
    case("huge-unsigned-label", lambda t: npz(t, y_train=np.array([0, 1, 2**64 - 1, 0], dtype=np.uint64)),
         r"found 18446744073709551615 in example 2, which would make 18446744073709551616 classes"),
    case("shape-mismatch", lambda t: npz(t, x_test=np.zeros((4, 5))),
         r"x_test in .* has examples of shape \(5,\) but x_train in .* has \(3,\); train and test"),
]

CSV = [
    case("missing-csv", lambda t: data.load(str(t.tmp_path / "none.csv")), r"none\.csv does not exist;"),
    case("empty-csv", lambda t: csv(t, ""), r"bad\.csv is empty; expected"),
    case("csv-non-numeric", lambda t: csv(t, "label,f1,f2\n0,1,2\n1,abc,3\n"),
         r"bad\.csv line 3, column 'f1': 'abc' is not a number; feature columns must be numeric$"),
    case("csv-empty-cell", lambda t: csv(t, "0,1,2\n1,,3\n"),
         r"bad\.csv line 2, column 'column 2': '' is not a number"),
    case("csv-string-labels", lambda t: csv(t, "f,label\n1,cat\n2,dog\n"),
         r"^labels \(column 'label'\) of .*bad\.csv must be integer class indices >= 0; found 'cat' on line 2$"),
    case("csv-fractional-labels", lambda t: csv(t, "0.5,1\n1,2\n"),
         r"^labels \(column 'column 1'\) of .*bad\.csv: labels must be integer .*; found 0\.5 in example 0$"),
    case("csv-huge-label", lambda t: csv(t, "0,1\n1,2\n1000000000,3\n"),
         r"^labels \(column 'column 1'\) of .*bad\.csv: labels must be class indices 0\.\.K-1 with K at most 1,000 "
         r"here .*; found 1000000000 in example 2, which would make 1000000001 classes"),
    case("csv-float-label-1e300", lambda t: csv(t, "0,1\n1,2\n1e300,3\n"),
         r"; found 1e\+300 in example 2, which would make 1e\+300 classes: their output layer alone would need "
         r"at least [0-9.e+]+ YiB"),
    case("csv-ragged", lambda t: csv(t, "label,a,b\n0,1,2\n1,2\n"),
         r"bad\.csv line 3 has 2 fields, expected 3 like line 1$"),
    case("csv-header-only", lambda t: csv(t, "label,a\n"), r"bad\.csv has a header but no data rows"),
    case("csv-blank", lambda t: csv(t, "\n  \n"), r"bad\.csv has no rows; a csv needs one example per line"),
    case("csv-one-column", lambda t: csv(t, "0\n1\n"),
         r"bad\.csv has 1 column; a csv needs a label column and at least one feature column$"),
    case("csv-nan", lambda t: csv(t, "0,1\n1,nan\n0,2\n1,3\n"), r"^features of .*bad\.csv has NaN or infinite values"),
    case("csv-binary", binary_csv, r"b\.csv is not a UTF-8 text file, so not a csv"),
    case("csv-too-small-to-split", lambda t: csv(t, "1,5\n"),
         r"bad\.csv has 1 example, too few to split with test_fraction=0\.25; both the training and the test set"),
]

IDX = [
    case("idx-truncated", lambda t: idx(t, x_train=images_bytes(t, drop=10)),
         r"train-images-idx3-ubyte\.gz is truncated: 39206 bytes, but its IDX header \(50, 28, 28\) of uint8 "
         r"needs 39216$"),
    case("idx-trailing", lambda t: idx(t, x_train=images_bytes(t, extra=b"\0")),
         r"train-images-idx3-ubyte\.gz has trailing bytes: 39217 bytes"),
    case("idx-short-header", lambda t: idx(t, y_test=b"\0\0\x08\x01\0"),
         r"t10k-labels-idx1-ubyte\.gz is truncated: 5 bytes, shorter than its 8-byte IDX header$"),
    case("idx-magic", lambda t: idx(t, y_train=b"\x1f\x8b\x08\x00" + bytes(60)),
         r"train-labels-idx1-ubyte\.gz is not an IDX file: its magic number is 0x1f8b0800, expected 0x0000"),
    case("idx-dimensions", lambda t: idx(t, y_train=images_bytes(t)),
         r"train-labels-idx1-ubyte\.gz has 3 dimensions in its IDX header; expected 1 for labels"),
    case("idx-empty", lambda t: idx(t, x_test=b""), r"t10k-images-idx3-ubyte\.gz is empty; expected an IDX file"),
    case("idx-corrupt-gzip", corrupt_gzip,
         r"train-labels-idx1-ubyte\.gz is not a readable gzip file \(corrupt or truncated\)"),
    case("idx-cut-gzip", cut_gzip, r"t10k-images-idx3-ubyte\.gz is not a readable gzip file \(corrupt or truncated\)"),
    case("idx-missing-file", missing_idx_file,
         r"idx lacks t10k-labels-idx1-ubyte\.gz; an IDX folder needs train-images"),
    case("idx-count-mismatch", lambda t: idx(t, x_train=images_bytes(t, n=49)),
         r"train-images-idx3-ubyte\.gz holds 49 images but .*train-labels-idx1-ubyte\.gz holds 50 labels; "
         r"each image needs exactly one label$"),
]


@pytest.fixture
def t(tmp_path, write_npz, write_text, write_idx_folder, idx_bytes, images, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative names such as "own.csv" resolve inside the test's folder
    return SimpleNamespace(tmp_path=tmp_path, write_npz=write_npz, write_text=write_text,
                           write_idx_folder=write_idx_folder, idx_bytes=idx_bytes, images=images)


@pytest.mark.parametrize(("make", "match"), ARGUMENTS + NPZ + CSV + IDX)
def test_bad_input_raises_one_clear_data_error(make, match, t):
    with pytest.raises(DataError, match=match) as caught:
        make(t)
    assert isinstance(caught.value, UserError) and isinstance(caught.value, ValueError)
    assert "\n" not in str(caught.value)


def test_the_idx_writer_round_trips_so_the_idx_cases_test_the_reader(t):
    ds = data.load("mnist", data_path=t.write_idx_folder(x_train=images_bytes(t)), flatten=False, scaling="unit")
    np.testing.assert_array_equal(np.rint(ds.x_train * 255).astype(np.uint8), t.images["x_train"])
    assert gzip.decompress((t.tmp_path / "idx" / "t10k-labels-idx1-ubyte.gz").read_bytes())[:4] == b"\0\0\x08\x01"
