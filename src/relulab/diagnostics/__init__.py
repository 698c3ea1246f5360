"""Diagnostics: are my units dying, saturating, are my gradients vanishing, and what to do about it.

    >>> from relulab.diagnostics import diagnose
    >>> report = diagnose(model, x_probe, y_probe)
    >>> print(report)

``diagnose`` measures one model on one probe set; ``relulab.callbacks`` measures during ``fit``. Both
use the same pieces: :mod:`~relulab.diagnostics.sites` (where the activations are),
:mod:`~relulab.diagnostics.regimes` (the definitions), :mod:`~relulab.diagnostics.recording` (seeing
pre-activations), :mod:`~relulab.diagnostics.activity` and :mod:`~relulab.diagnostics.gradients`
(the measurements), :mod:`~relulab.diagnostics.probe_pass` (one pass over the probe for all of them), :mod:`~relulab.diagnostics.slopes` (dead and saturated through the derivative, for
any activation), :mod:`~relulab.diagnostics.targets` (labels fitted to the loss, a loss inferred from the
output) and :mod:`~relulab.diagnostics.advice` (the findings and remedies).
"""

from __future__ import annotations

from relulab.diagnostics.activity import LayerActivity
from relulab.diagnostics.advice import Advice
from relulab.diagnostics.classify import Activation, classify
from relulab.diagnostics.diagnosis import diagnose
from relulab.diagnostics.gradients import gradient_ratio
from relulab.diagnostics.probe import DEFAULT_PROBE_SIZE, check_probe
from relulab.diagnostics.probe_pass import gradient_norms, measure_activity
from relulab.diagnostics.regimes import SATURATION_TOLERANCE
from relulab.diagnostics.report import LayerRow, Report
from relulab.diagnostics.sites import Site, find_sites
from relulab.diagnostics.targets import fit_labels, infer_loss

__all__ = [
    "DEFAULT_PROBE_SIZE", "SATURATION_TOLERANCE", "Activation", "Advice", "LayerActivity", "LayerRow", "Report",
    "Site", "check_probe", "classify", "diagnose", "find_sites", "fit_labels", "gradient_norms", "gradient_ratio",
    "infer_loss", "measure_activity",
]
