"""relulab: the rectifier family of activations for Keras 3, with diagnostics, remedies and a lab.

``import relulab`` registers every relulab layer with Keras (so ``keras.saving.load_model`` finds them)
while keeping TensorFlow's native start-up messages off the terminal (``RELULAB_TF_LOGS=1`` shows them).
Other submodules load on first use: ``relulab.data``, ``relulab.lab``, ...
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = (
    "activations", "callbacks", "data", "diagnostics", "initializers", "lab", "layers", "models",
    "remedies", "training",
)
__all__ = ["__version__", "diagnose", *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"relulab.{name}")
    if name == "diagnose":  # relulab.diagnose(model, x, y=None): the one-call check
        return importlib.import_module("relulab.diagnostics").diagnose
    raise AttributeError(f"module 'relulab' has no attribute {name!r}")


def _register_keras_objects() -> None:
    """Import the modules that register Keras objects, so ``load_model`` finds them after
    ``import relulab``."""
    from relulab._quiet import backend_startup_silenced

    with backend_startup_silenced():
        import keras

        if keras.backend.backend() == "tensorflow":  # device probing logs on first use: do it now
            import tensorflow as tf

            tf.config.list_physical_devices()
    importlib.import_module("relulab.layers")
    importlib.import_module("relulab.initializers")


_register_keras_objects()
