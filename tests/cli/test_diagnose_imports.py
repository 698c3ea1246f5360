"""``relulab diagnose`` imports nothing that a file names; ``--import MODULE`` is the user's explicit opt-in."""

from __future__ import annotations

import json
import re
import sys

import keras
import numpy as np
import pytest

from relulab.cli import main

LAYER_MODULE = '''
import keras

@keras.saving.register_keras_serializable(package="relulab_test_imports")
class Doubling(keras.layers.Layer):
    def call(self, x):
        return 2 * keras.ops.relu(x)
'''


def _npz(path, features):
    x = np.random.default_rng(0).uniform(0, 1, (30, features))
    np.savez(path, x_train=x, y_train=np.arange(30) % 3, x_test=x[:9], y_test=np.arange(9) % 3)
    return str(path)


@pytest.mark.parametrize("module", ["evil_mod_relulab_test", "this"])
def test_a_module_that_a_file_beside_the_model_names_is_never_imported(tmp_path, monkeypatch, capsys, module):
    """Issue 13's reproduction: config.json beside model.keras names "evil_mod:X" (or an installed module)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)
    keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax")]).save("model.keras")
    (tmp_path / "evil_mod_relulab_test.py").write_text('import pathlib; pathlib.Path("PWNED").write_text("ran")\n')
    (tmp_path / "config.json").write_text(json.dumps({"config": {"activation": f"{module}:X"}}))
    main(["diagnose", "model.keras", "--dataset", _npz(tmp_path / "d.npz", 6)])
    assert not (tmp_path / "PWNED").exists()
    assert module not in sys.modules


@pytest.fixture(params=[".keras", ".h5"])
def custom_model(tmp_path, monkeypatch, request):
    """A model with a custom layer whose module is on the path but not imported (as in a fresh process), saved
    by Keras 3 and in the Keras 2 HDF5 format (whose loader words the unknown class differently)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "relulab_test_layers.py").write_text(LAYER_MODULE)
    import relulab_test_layers

    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu", name="h"),
                              relulab_test_layers.Doubling(name="double"), keras.layers.Dense(3, activation="softmax")])
    model.save(tmp_path / f"custom{request.param}")
    keras.saving.get_custom_objects().pop("relulab_test_imports>Doubling")
    del sys.modules["relulab_test_layers"]
    yield str(tmp_path / f"custom{request.param}")
    keras.saving.get_custom_objects().pop("relulab_test_imports>Doubling", None)
    sys.modules.pop("relulab_test_layers", None)


def test_a_custom_layer_loads_only_with_import_and_the_error_says_so(tmp_path, custom_model, capsys):
    data = _npz(tmp_path / "d.npz", 6)
    assert main(["diagnose", custom_model, "--dataset", data]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "relulab_test_layers" not in sys.modules
    assert re.search(r"'(relulab_test_imports>)?Doubling' is a custom class: pass --import MODULE", err), err
    code = main(["diagnose", custom_model, "--dataset", data, "--import", "relulab_test_layers", "--json"])
    assert code == 0, capsys.readouterr().err
    assert "relulab_test_layers" in sys.modules


@pytest.mark.parametrize("module, message", [
    ("no_such_module_relulab", r"--import no_such_module_relulab: cannot import it \(No module named"),
    ("relulab_test_broken", r"--import relulab_test_broken: importing it failed \(ZeroDivisionError"),
])
def test_an_import_that_fails_is_one_line(tmp_path, monkeypatch, capsys, module, message):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "relulab_test_broken.py").write_text("1 / 0\n")
    keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="relu")]).save(tmp_path / "m.keras")
    assert main(["diagnose", str(tmp_path / "m.keras"), "--dataset", _npz(tmp_path / "d.npz", 6),
                 "--import", module]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert __import__("re").search(message, err), err
