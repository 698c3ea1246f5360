"""relulab: the rectifier family of activations for Keras 3, with diagnostics, remedies and a lab."""

__version__ = "0.1.0"

from relulab import activations, layers  # noqa: E402  (version first: the build reads it)

__all__ = ["__version__", "activations", "layers"]
