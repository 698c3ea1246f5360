"""The stacked engine: runs that share an architecture train as one TensorFlow computation.

Modules: ``engine`` (:class:`StackedEngine`: which runs stack, and the fallback), ``stack`` (the stacked
MLP: weights, training step, evaluation), ``activations`` (each run's activation applied to its slice),
``data`` (the dataset and probe as the stack reads them), ``diagnostics`` (dead units, saturation and
gradient flow per run), ``fused`` (one Adam or SGD kernel per stacked variable).
"""

from relulab.lab.stacked.engine import StackedEngine

__all__ = ["StackedEngine"]
