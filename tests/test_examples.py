"""The article's three examples, as current Keras wants them, run without warnings, learn, and the custom
layer of example 3 survives save and load in a fresh process (the article's own version does not)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


# TensorFlow's native start-up lines (absl's "I0000 00:00:... port.cc:153] oneDNN ...", the CUDA probe's
# "E0000 ... failed call to cuInit") and the absl preamble before them.
TF_NOISE = re.compile(r"^([IWEF]\d{4} \d\d:\d\d:|WARNING: All log messages before absl)|oneDNN|cuInit|cuda", re.I | re.M)


def _run(*args: str) -> subprocess.CompletedProcess:
    # as a user runs them: without the test suite's TF_CPP_MIN_LOG_LEVEL, which would hide the noise
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "RELULAB_TF_LOGS")}
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.parametrize("script", ["01_relu_mlp.py", "02_leaky_relu.py", "03_custom_rectifier.py"])
def test_example_learns_the_digits_without_warnings(script):
    result = _run(str(EXAMPLES / script), "--epochs", "3")
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", result.stdout).group(1))
    assert accuracy > 0.85  # chance is 0.10; three epochs of the article's model reach ~0.9 on digits
    python_warnings = re.findall(r"\b[A-Z]\w*Warning\b.*", result.stderr)  # UserWarning, DeprecationWarning, ...
    assert not python_warnings, python_warnings
    assert not TF_NOISE.search(result.stderr), result.stderr  # quiet, as the command line is


def test_custom_rectifier_round_trips_in_a_fresh_process(tmp_path):
    saved = tmp_path / "my_relu.keras"
    result = _run(str(EXAMPLES / "03_custom_rectifier.py"), "--epochs", "1", "--save-to", str(saved))
    assert "largest prediction difference 0" in result.stdout
    x = np.random.default_rng(0).random((5, 64)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    script = (
        "import importlib.util, sys, numpy as np, keras\n"
        f"spec = importlib.util.spec_from_file_location('example', {str(EXAMPLES / '03_custom_rectifier.py')!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))  # registers MyReLU\n"
        f"model = keras.saving.load_model({str(saved)!r})\n"
        f"np.save({str(tmp_path / 'fresh.npy')!r}, model.predict(np.load({str(tmp_path / 'x.npy')!r}), verbose=0))\n"
    )
    _run("-c", script)
    spec = importlib.util.spec_from_file_location("example_03", EXAMPLES / "03_custom_rectifier.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    here = keras.saving.load_model(saved).predict(x, verbose=0)
    np.testing.assert_array_equal(np.load(tmp_path / "fresh.npy"), here)


def test_the_articles_own_layer_cannot_be_loaded_back(tmp_path):
    """Why example 3 exists: no **kwargs and no registration make load_model fail."""
    import tensorflow as tf

    class MyReLU(keras.layers.Layer):
        def __init__(self):
            super().__init__()

        def call(self, x):
            return tf.math.maximum(0.0, x)

    inputs = keras.Input((4,))
    model = keras.Model(inputs, MyReLU()(keras.layers.Dense(3)(inputs)))
    model.save(tmp_path / "article.keras")
    with pytest.raises(TypeError, match=r"Could not locate class 'MyReLU'"):
        keras.saving.load_model(tmp_path / "article.keras")
