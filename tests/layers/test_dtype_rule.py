"""One rule for an activation's dtype. The layer itself takes a float dtype or policy only (its Python API);
a spec (``train --activation``, ``compare --activations``, ``get``) takes no ``dtype`` at all: the model's
dtype policy decides, and both commands refuse ``relu(dtype='int32')`` with the same message."""

from __future__ import annotations

import re

import pytest

from relulab import layers
from relulab.cli import main
from relulab.lab.grid import Grid

SPEC_RULE = (r"activation 'relu' got an unknown argument dtype='int32'\. Allowed arguments: negative_slope, "
             r"max_value, threshold\.")


@pytest.mark.parametrize("dtype", ["int32", "uint8", "bool", "no_such_dtype"])
def test_the_layer_refuses_a_dtype_that_is_not_floating(dtype):
    with pytest.raises(ValueError, match=rf"^dtype of ReLU must be a floating-point .* Received: dtype='{dtype}'$"):
        layers.ReLU(dtype=dtype)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64", "mixed_float16", None])
def test_float_dtypes_and_policies_are_accepted(dtype):
    layers.get("relu", dtype=dtype)


def test_a_spec_takes_no_dtype_in_get_and_in_the_grid():
    with pytest.raises(TypeError, match=rf"^{SPEC_RULE}"):
        layers.get("relu(dtype='int32')")
    with pytest.raises(TypeError, match=rf"^{SPEC_RULE}"):
        Grid(activations=("relu(dtype='int32')",))


@pytest.mark.parametrize("command, prefix", [
    (["train"], r"relulab train: error: --activation: "),
    (["compare", "--seeds", "1"], r"relulab compare: error: invalid grid: "),
])
def test_train_and_compare_refuse_an_integer_dtype_alike(command, prefix, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    flag = "--activation" if command[0] == "train" else "--activations"
    try:
        status = main([*command, flag, "relu(dtype='int32')", "--out", "out"])
    except SystemExit as exited:
        status = exited.code
    assert status == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert re.match(prefix + SPEC_RULE, error.strip()), error
    assert list(tmp_path.iterdir()) == []
