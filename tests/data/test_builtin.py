"""The built-in datasets: digits offline, Fashion-MNIST from Debian, MNIST from Keras or a local copy."""

from __future__ import annotations

import hashlib
import socket

import numpy as np
import pytest

from relulab import data
from relulab.data import builtin
from relulab.errors import DataError, UserError


def test_available_lists_each_builtin_with_one_line():
    names = data.available()
    assert list(names) == ["digits", "fashion_mnist", "mnist"]
    assert all(isinstance(line, str) and line and "\n" not in line for line in names.values())
    assert "offline" in names["digits"]


def test_digits_is_split_into_stratified_train_and_test_sets():
    from sklearn.datasets import load_digits

    ds = data.load("digits")
    assert (ds.name, ds.source) == ("digits", "sklearn.datasets.load_digits")
    assert (ds.n_train, ds.n_test, ds.input_shape, ds.num_classes) == (1347, 450, (64,), 10)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    np.testing.assert_array_equal(np.unique(ds.x_train * 16), np.arange(17))  # pixels 0..16 divided by 16
    target = load_digits().target
    np.testing.assert_array_equal(np.bincount(ds.y_train) + np.bincount(ds.y_test), np.bincount(target))
    for label, count in enumerate(np.bincount(target)):  # each class keeps its share of the test set
        assert abs(np.sum(ds.y_test == label) - count * 0.25) <= 1


def test_digits_split_is_reproducible_for_a_seed_and_differs_between_seeds():
    first, again, other = data.load("digits", seed=3), data.load("digits", seed=3), data.load("digits", seed=4)
    np.testing.assert_array_equal(first.x_train, again.x_train)
    np.testing.assert_array_equal(first.y_test, again.y_test)
    assert not np.array_equal(first.y_train, other.y_train)


def test_digits_unflattened_and_test_fraction():
    ds = data.load("Digits", flatten=False, test_fraction=0.5)
    assert ds.input_shape == (8, 8) and ds.x_train.shape == (898, 8, 8) and ds.n_test == 899


@pytest.mark.skipif(not builtin.DEBIAN_FASHION_DIR.is_dir(),
                    reason=f"{builtin.DEBIAN_FASHION_DIR} missing: apt-get install dataset-fashion-mnist")
def test_fashion_mnist_from_the_debian_files():
    ds = data.load("fashion-mnist")
    assert (ds.name, ds.source) == ("fashion_mnist", str(builtin.DEBIAN_FASHION_DIR))
    assert (ds.n_train, ds.n_test, ds.input_shape, ds.num_classes) == (60000, 10000, (784,), 10)
    assert ds.x_train.dtype == np.float32 and ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    np.testing.assert_array_equal(np.bincount(ds.y_train), [6000] * 10)  # Fashion-MNIST is balanced
    np.testing.assert_array_equal(np.bincount(ds.y_test), [1000] * 10)


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_data_path_to_an_npz_in_keras_layout(name, write_npz, images, offline):
    ds = data.load(name, data_path=write_npz("copy.npz"))
    assert (ds.n_train, ds.n_test, ds.input_shape, ds.num_classes) == (50, 20, (784,), 10)
    np.testing.assert_allclose(ds.x_train[3], images["x_train"][3].reshape(-1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(ds.y_test, images["y_test"])
    assert ds.source.endswith("copy.npz") and offline.attempts == []


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_data_path_to_a_folder_of_idx_files(name, write_idx_folder, images):
    ds = data.load(name, data_path=write_idx_folder(), flatten=False)
    assert (ds.n_train, ds.n_test, ds.input_shape) == (50, 20, (28, 28))
    np.testing.assert_allclose(ds.x_test * 255.0, images["x_test"], atol=1e-4)
    np.testing.assert_array_equal(ds.y_train, images["y_train"])


def test_mnist_offline_fails_fast_with_both_remedies_and_restores_the_socket_timeout(offline):
    socket.setdefaulttimeout(3.0)
    try:
        with pytest.raises(DataError, match=r"^mnist is not available: it is not in Keras' cache .*mnist\.npz.* "
                           r"pass a local copy with --data-path /path/to/mnist\.npz .* or use another dataset "
                           r"such as fashion_mnist or digits$") as caught:
            data.load("mnist")
        assert socket.getdefaulttimeout() == 3.0
    finally:
        socket.setdefaulttimeout(None)
    assert offline.attempts and set(offline.attempts) == {builtin.NETWORK_TIMEOUT_S}
    assert isinstance(caught.value, UserError) and "\n" not in str(caught.value)
    assert not (offline.datasets / "mnist.npz").exists()  # no partial download left behind


def test_mnist_from_keras_cache_uses_the_keras_loader_without_network(offline, write_npz, images, monkeypatch):
    cached = write_npz(offline.datasets / "mnist.npz")
    # Pretend this small file is the published one, for relulab's check and for Keras' own.
    monkeypatch.setattr(builtin, "MNIST_SHA256", hashlib.sha256(cached.read_bytes()).hexdigest())
    monkeypatch.setattr("keras.src.utils.file_utils.validate_file", lambda *args, **kwargs: True)
    ds = data.load("mnist", train_size=10)
    assert ds.source == f"keras.datasets.mnist.load_data ({cached})"
    assert ds.n_train == 10 and offline.attempts == []
    np.testing.assert_allclose(ds.x_train[0], images["x_train"][0].reshape(-1) / 255.0, rtol=1e-6)


def test_a_cached_mnist_that_is_not_the_published_file_is_read_as_is_and_kept(offline, write_npz, images):
    cached = write_npz(offline.datasets / "mnist.npz")
    ds = data.load("mnist")
    assert ds.source.startswith(str(cached)) and "not the published file" in ds.source
    np.testing.assert_array_equal(ds.y_train, images["y_train"])
    assert offline.attempts == [] and cached.exists()  # Keras would have deleted it after a failed download


def test_fashion_mnist_without_debian_files_uses_keras_cache(offline, write_idx_folder, images, monkeypatch):
    monkeypatch.setattr(builtin, "DEBIAN_FASHION_DIR", offline.datasets / "no-debian-here")
    cache = write_idx_folder(offline.datasets / "fashion-mnist")
    ds = data.load("fashion_mnist")
    assert ds.source == f"keras.datasets.fashion_mnist.load_data ({cache})"
    assert (ds.n_train, ds.n_test, offline.attempts) == (50, 20, [])
    np.testing.assert_array_equal(ds.y_test, images["y_test"])


def test_fashion_mnist_without_debian_files_or_network_names_the_remedies(offline, monkeypatch):
    monkeypatch.setattr(builtin, "DEBIAN_FASHION_DIR", offline.datasets / "no-debian-here")
    with pytest.raises(DataError, match=r"^fashion_mnist is not available: .*no-debian-here lacks "
                       r"train-images-idx3-ubyte\.gz, .* \(apt-get install dataset-fashion-mnist\) .* "
                       r"--data-path /path/to/idx-folder or /path/to/fashion_mnist\.npz .* such as digits$"):
        data.load("fashion_mnist")
    assert set(offline.attempts) == {builtin.NETWORK_TIMEOUT_S}
