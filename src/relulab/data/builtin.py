"""The built-in datasets: MNIST, Fashion-MNIST and scikit-learn's digits, offline first.

- ``mnist``: ``data_path`` (an ``mnist.npz`` in Keras' layout, or a folder of the four IDX files), else
  Keras' own loader ``keras.datasets.mnist.load_data()``, which reads its cache
  (``~/.keras/datasets/mnist.npz``) or downloads.
- ``fashion_mnist``: ``data_path`` as for mnist, else the IDX files of Debian's ``dataset-fashion-mnist``
  package (:data:`DEBIAN_FASHION_DIR`), else ``keras.datasets.fashion_mnist.load_data()``.
- ``digits``: ``sklearn.datasets.load_digits()``, bundled with scikit-learn: always offline.

A download gets :data:`NETWORK_TIMEOUT_S` per blocking socket operation (``socket.setdefaulttimeout``,
restored afterwards), so a machine without internet fails in seconds, with a :class:`DataError` that
names the remedies. Name resolution is the operating system's and is not bounded by that timeout.

A cached ``mnist.npz`` whose SHA-256 differs from the published file is read as it is, never handed to
Keras: Keras would try to download the published file over it and delete it when that fails.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

from relulab.data import files, idx
from relulab.data.dataset import Raw
from relulab.errors import DataError

NETWORK_TIMEOUT_S = 10.0  # seconds per blocking socket operation of a download
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")  # apt-get install dataset-fashion-mnist
# SHA-256 of the published mnist.npz, as in keras/src/datasets/mnist.py
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


@dataclasses.dataclass(frozen=True)
class Builtin:
    """One built-in dataset: what ``relulab list datasets`` shows, and how to read it."""

    description: str
    reader: Callable[[Path | None], Raw]
    maximum: float  # the largest pixel value, for scaling="unit"
    num_classes: int
    example_shape: tuple[int, int]
    takes_data_path: bool = True


def read(name: str, data_path: str | Path | None) -> Raw:
    """The raw arrays of the built-in dataset ``name`` (a key of :data:`BUILTINS`)."""
    entry = BUILTINS[name]
    if data_path is not None and not entry.takes_data_path:
        raise DataError(
            f"data_path of load is only for {', '.join(n for n, e in BUILTINS.items() if e.takes_data_path)} "
            f"(a local copy of their files); {name} ships with its library. Received: data_path={str(data_path)!r}"
        )
    raw = entry.reader(None if data_path is None else Path(data_path).expanduser())
    raw.name = name
    raw.maximum, raw.num_classes, raw.example_shape = entry.maximum, entry.num_classes, entry.example_shape
    return raw


def available() -> dict[str, str]:
    """Each built-in dataset's name and one line about it."""
    return {name: entry.description for name, entry in BUILTINS.items()}


@contextlib.contextmanager
def bounded_network(seconds: float = NETWORK_TIMEOUT_S) -> Iterator[None]:
    """Give every new socket a ``seconds`` timeout inside the block; restore the previous default after.

    The default is process-wide: sockets that other threads open meanwhile get it too.
    """
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def keras_datasets_dir() -> Path:
    """Where Keras' ``get_file`` caches datasets: ``$KERAS_HOME/datasets`` (``~/.keras/datasets``), or
    ``/tmp/.keras/datasets`` when the Keras home is not writable, as ``get_file`` decides."""
    import os

    from keras.src.backend import config

    home = Path(config.keras_home()).expanduser()
    if not os.access(home, os.W_OK):
        home = Path("/tmp/.keras")
    return home / "datasets"


def _mnist(data_path: Path | None) -> Raw:
    if data_path is not None:
        return _local_copy("mnist", data_path)
    cached = keras_datasets_dir() / "mnist.npz"
    if cached.is_file() and _sha256(cached) != MNIST_SHA256:
        raw = files.read_npz(cached, name="mnist")
        raw.source = f"{cached} (in Keras' cache but not the published file; read as it is)"
        return raw
    try:
        import keras

        with bounded_network():
            (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # noqa: BLE001 - Keras raises a bare Exception for a failed download
        raise DataError(
            f"mnist is not available: it is not in Keras' cache ({cached}) and downloading it failed "
            f"({files.one_line(error)}); pass a local copy with --data-path /path/to/mnist.npz (data_path= in "
            f"Python), or use another dataset such as fashion_mnist or digits"
        ) from error
    return Raw("mnist", f"keras.datasets.mnist.load_data ({cached})", x_train, y_train, x_test, y_test)


def _fashion_mnist(data_path: Path | None) -> Raw:
    if data_path is not None:
        return _local_copy("fashion_mnist", data_path)
    _, missing = idx.find(DEBIAN_FASHION_DIR)
    if not missing:
        return idx.read_folder(DEBIAN_FASHION_DIR, name="fashion_mnist")
    cached = keras_datasets_dir() / "fashion-mnist"
    try:
        import keras

        with bounded_network():
            (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    except Exception as error:  # noqa: BLE001 - Keras raises a bare Exception for a failed download
        raise DataError(
            f"fashion_mnist is not available: {DEBIAN_FASHION_DIR} lacks {', '.join(missing)} (apt-get install "
            f"dataset-fashion-mnist) and Keras could neither read its cache ({cached}) nor download it "
            f"({files.one_line(error)}); pass a local copy with --data-path /path/to/idx-folder or "
            f"/path/to/fashion_mnist.npz (data_path= in Python), or use another dataset such as digits"
        ) from error
    source = f"keras.datasets.fashion_mnist.load_data ({cached})"
    return Raw("fashion_mnist", source, x_train, y_train, x_test, y_test)


def _digits(data_path: Path | None) -> Raw:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return Raw("digits", "sklearn.datasets.load_digits", bunch.images, bunch.target)


def _local_copy(name: str, data_path: Path) -> Raw:
    """``data_path`` for ``name``: a folder of the four IDX files, or an .npz in Keras' layout."""
    if data_path.is_dir():
        return idx.read_folder(data_path, name=name)
    if not data_path.exists():
        raise DataError(
            f"data_path of load does not exist: {data_path}; for {name} pass an .npz in Keras' layout "
            f"(x_train, y_train, x_test, y_test) or a folder of the four IDX files"
        )
    return files.read_npz(data_path, name=name)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


BUILTINS: dict[str, Builtin] = {
    "digits": Builtin(
        "scikit-learn's 8x8 handwritten digits, 1,797 images, 10 classes; bundled, works offline (the default)",
        _digits, maximum=16.0, num_classes=10, example_shape=(8, 8), takes_data_path=False,
    ),
    "fashion_mnist": Builtin(
        "Zalando's 28x28 clothing images, 60,000 train + 10,000 test, 10 classes; Debian's "
        "dataset-fashion-mnist, a --data-path copy, or a Keras download",
        _fashion_mnist, maximum=255.0, num_classes=10, example_shape=(28, 28),
    ),
    "mnist": Builtin(
        "28x28 handwritten digits, 60,000 train + 10,000 test, 10 classes; Keras' cache or download, or "
        "--data-path mnist.npz",
        _mnist, maximum=255.0, num_classes=10, example_shape=(28, 28),
    ),
}
