"""The callback path: relulab's monitors during ``fit``, their numbers read by relulab's own advice rules.

:class:`EarlyFindings` sits after ``default_monitors(x, y)`` in the callback list; after epoch ``epoch``
it turns the monitors' latest measurements (``DeadUnitMonitor.last``, ``GradientFlowMonitor.last``) and the
training loss per epoch so far (against ``GradientFlowMonitor.chance``) into relulab findings with
``relulab.diagnostics.advice.find_all`` -- the rules ``diagnose`` applies -- with the output spread over
the monitors' probe, from the outputs of their own pass (``DeadUnitMonitor.measurement``; the monitors do not
log it, and the collapsed-signal rule needs it).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import keras

from relulab.callbacks import DeadUnitMonitor, GradientFlowMonitor
from relulab.diagnostics.advice import find_all
from relulab.diagnostics.diagnosis import layer_facts
from relulab.diagnostics.gradients import gradient_ratio
from relulab.diagnostics.sites import find_sites, output_site


def findings_from(model: keras.Model, activity: dict[str, Any], norms: dict[str, float] | None,
                  spread: float | None, losses: Sequence[float] = (), chance: float | None = None) -> list[Any]:
    """relulab's findings for measured ``activity`` (per site), gradient ``norms`` of ``model`` and the training
    ``losses`` so far (judged against the probe's ``chance`` loss)."""
    sites = find_sites(model)
    last = output_site(model, sites)
    facts = [layer_facts(site, activity[site.name], output=site.name == last) for site in sites if site.name in activity]
    ratio = gradient_ratio(norms) if norms else None
    return find_all(facts, ratio, norms, spread=spread, losses=losses, chance=chance)


class EarlyFindings(keras.callbacks.Callback):
    """After epoch ``epoch`` (1-based), ``findings`` and ``losses`` hold what the monitors saw so far."""

    def __init__(self, monitors: list[keras.callbacks.Callback], *, epoch: int) -> None:
        super().__init__()
        self.dead = next(m for m in monitors if isinstance(m, DeadUnitMonitor))
        self.flow = next((m for m in monitors if isinstance(m, GradientFlowMonitor)), None)
        self.epoch = epoch
        self.findings: list[Any] = []
        self.losses: list[float] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.findings, self.losses = [], []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 > self.epoch:
            return
        self.losses.append(float((logs or {}).get("loss", math.nan)))
        if epoch + 1 == self.epoch:
            spread = self.dead.measurement.spread
            norms, chance = (None, None) if self.flow is None else (dict(self.flow.last), self.flow.chance)
            self.findings = findings_from(self.model, dict(self.dead.last), norms, spread, self.losses, chance)


def timed(method: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    """``method`` that appends the seconds each call takes to ``spent`` (to time a callback from inside)."""
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)
    return wrapper
