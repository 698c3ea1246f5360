"""Helpers for the data tests: small files in the layouts relulab reads, and a machine without network."""

from __future__ import annotations

import gzip
import socket
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


def image_arrays(n_train: int = 50, n_test: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
    """Random 28x28 uint8 images with labels 0..9, every class present in the training set."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8) in the IDX format: magic 0x0000 08 <ndim>, big-endian dims, then the bytes."""
    return bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


@pytest.fixture
def write_npz(tmp_path):
    """``write_npz(name="data.npz", **arrays)`` -> an .npz under tmp_path (or at an absolute
    ``name``), holding :func:`image_arrays` unless arrays are given."""

    def write(name: str | Path = "data.npz", **arrays: np.ndarray) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **(arrays or image_arrays()))
        return path

    return write


@pytest.fixture
def write_idx_folder(tmp_path):
    """``write_idx_folder(folder="idx", **raw_bytes)`` -> a folder (under tmp_path, or absolute) of
    the four gzipped IDX files of
    :func:`image_arrays`; a keyword ``x_train=b"..."`` replaces that file's uncompressed content."""

    def write(folder: str | Path = "idx", **replace: bytes) -> Path:
        path = tmp_path / folder
        path.mkdir(parents=True, exist_ok=True)
        for part, array in image_arrays().items():
            (path / IDX_NAMES[part]).write_bytes(gzip.compress(replace.get(part, idx_bytes(array))))
        return path

    return write


@pytest.fixture
def write_text(tmp_path):
    """``write_text(name, text)`` -> path of a text file in tmp_path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """A machine without network and with an empty Keras cache (under tmp_path).

    Every attempt to resolve a host or connect fails at once and records the socket default timeout
    in force, so a test can check that downloads are bounded without waiting for one.
    """
    import keras.src.backend.config as keras_config

    attempts: list[float | None] = []

    def refuse(*args, **kwargs):
        attempts.append(socket.getdefaulttimeout())
        raise socket.gaierror(socket.EAI_NONAME, "network disabled by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    home = tmp_path / "keras_home"
    home.mkdir()
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(home))
    return SimpleNamespace(attempts=attempts, datasets=home / "datasets")


@pytest.fixture
def images():
    """The arrays that :func:`write_npz` and :func:`write_idx_folder` write by default."""
    return image_arrays()


@pytest.fixture(name="idx_bytes")
def idx_bytes_fixture():
    return idx_bytes
