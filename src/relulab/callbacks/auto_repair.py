"""``AutoRepair``: a callback that detects a broken training in its first epochs and repairs it in place."""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any

import keras
import numpy as np

from relulab.diagnostics.probe import DEFAULT_PROBE_SIZE, check_probe, subset
from relulab.diagnostics.sites import find_sites

DEAD_FRACTION = 0.7  # a layer with at least this fraction of dead units is dying (AUTOTRAINER's rule)
VANISHING_RATIO = 1e-3  # first/last kernel gradient norm below this: vanishing
EXPLODING_NORM = 1e3  # any kernel gradient norm above this (or non-finite): exploding
LOSS_GROWTH = 10.0  # the epoch's running loss above this multiple of its first batch's: exploding
LEARNING_RATE_FACTOR = 0.1
CLIPNORM = 1.0


class AutoRepairWarning(UserWarning):
    """AutoRepair found a problem that it can only partly repair in place."""


class AutoRepair(keras.callbacks.Callback):
    """Watch a ``fit``; on a dying, collapsed, vanishing, exploding or NaN training, repair the model in place.

    Detection, in the first ``patience`` epochs only (later, nothing is checked and nothing changes):

    * NaN or infinite loss: after every batch (the running loss of the epoch);
    * exploding: the running loss grows past ``LOSS_GROWTH`` (10) times the epoch's first batch loss, or, at
      the end of an epoch, a kernel gradient norm on the probe above ``EXPLODING_NORM`` (1e3) or non-finite;
    * collapsed signal: :func:`relulab.diagnose`'s "collapsed" finding on the probe (end of epoch);
    * dying units: a zero-slope rectifier or custom activation layer with >= 70% of its units dead on the
      probe (AUTOTRAINER's rule; end of epoch);
    * vanishing gradients: first/last kernel gradient norm ratio below ``VANISHING_RATIO`` (1e-3).

    Remedies (all in place on ``self.model``; the optimizer's moments and iteration count are reset after each):

    * NaN / exploding: the weights the model had when ``fit`` began are restored, the learning rate is
      multiplied by 0.1 and, if the optimizer clips nothing yet, ``clipnorm=1.0`` is set (the training step
      is traced again so that the clipping takes effect).
    * dying / collapsed: every kernel is redrawn He normal and every bias set to zero, then
      :func:`relulab.remedies.revive` redraws units still dead on the probe. If the units were alive when
      ``fit`` began (training killed them, typically a too-large step), the learning rate is also x0.1.
    * vanishing: the same He re-initialisation, with an :class:`AutoRepairWarning`: an activation cannot be
      swapped in place; for a sigmoid/tanh stack use ``relulab.remedies.repair`` or ``swap_activation``.

    Training is not restarted from epoch 0: the same ``fit`` call continues with the repaired weights from
    the next batch, and its remaining epochs run as asked (the epochs spent before the repair count).
    At most ``max_repairs`` (5) repairs. Each is appended to ``autorepair.actions`` (a dict: epoch, batch or
    None, problem, evidence, remedy), printed to stderr when ``verbose``, and the count is logged every epoch
    as ``autorepair_actions``.

    Example:
        >>> autorepair = AutoRepair(x_train, y_train)
        >>> model.fit(x_train, y_train, epochs=10, callbacks=[autorepair])
        >>> autorepair.actions

    Args:
        x, y: probe data (training data; ``probe_size`` examples spread over it). Without ``y`` only the dead
            units, the collapsed output and the loss are watched.
        patience: epochs watched, default 2. probe_size: default 1024. loss: for the gradient norms; default the
            model's compiled loss. seed: of the re-initialisations. max_repairs: default 5. verbose: default True.
    """

    def __init__(self, x: Any, y: Any = None, *, patience: int = 2, probe_size: int = DEFAULT_PROBE_SIZE,
                 loss: Any = None, seed: int = 0, max_repairs: int = 5, verbose: bool = True) -> None:
        super().__init__()
        from relulab import _validate

        self.patience = _validate.positive_int(patience, name="patience", owner="AutoRepair")
        self.max_repairs = _validate.positive_int(max_repairs, name="max_repairs", owner="AutoRepair")
        size = _validate.positive_int(probe_size, name="probe_size", owner="AutoRepair")
        self.x, self.y = subset(np.asarray(x), None if y is None else np.asarray(y), size)
        self.loss, self.seed, self.verbose = loss, seed, verbose
        self.actions: list[dict[str, Any]] = []
        self._initial: list[np.ndarray] = []
        self._dead_at_start = False
        self._epoch, self._first_loss = 0, None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.x, self.y = check_probe(self.model, self.x, self.y, owner="AutoRepair")
        self._initial = [np.array(w) for w in self.model.get_weights()]
        self._dead_at_start = self._measure()[0] in ("dying", "collapsed")

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch, self._first_loss = epoch, None

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or not self._watching():
            return
        loss = float(loss)
        if not math.isfinite(loss):
            self._repair("nan", f"loss {loss} at batch {batch + 1}", batch)
        elif self._first_loss is None:
            self._first_loss = loss
        elif self._first_loss > 0 and loss > LOSS_GROWTH * self._first_loss:
            self._repair("exploding", f"running loss {loss:.3g} > {LOSS_GROWTH:g} x first batch's "
                         f"{self._first_loss:.3g}", batch)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._watching():
            loss = (logs or {}).get("loss")
            problem, evidence = ("nan", f"epoch loss {loss}") if loss is not None and not math.isfinite(
                float(loss)) else self._measure()
            if problem is not None:
                self._repair(problem, evidence, None)
        if logs is not None:
            logs["autorepair_actions"] = float(len(self.actions))

    def _watching(self) -> bool:
        return self._epoch < self.patience and len(self.actions) < self.max_repairs

    def _measure(self) -> tuple[str | None, str]:
        """The first problem the probe shows (nan, exploding, collapsed, dying, vanishing) and its evidence."""
        from relulab.diagnostics import diagnose

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                report = diagnose(self.model, self.x, self.y, loss=self.loss)
        except Exception as error:  # non-finite weights break the measurement
            return "nan", f"the probe could not be measured ({type(error).__name__})"
        norms = report.grad_norms or {}
        if any(not math.isfinite(v) or v > EXPLODING_NORM for v in norms.values()):
            return "exploding", f"largest kernel gradient norm {max(norms.values()):.3g} (> {EXPLODING_NORM:g})"
        if any(f.kind == "collapsed" for f in report.findings):
            return "collapsed", next(f.text for f in report.findings if f.kind == "collapsed")
        zero_slope = {s.name for s in find_sites(self.model)
                      if s.activation.zero_slope or s.activation.kind == "custom"}
        dying = [r for r in report.rows if r.name in zero_slope and (r.dead_fraction or 0.0) >= DEAD_FRACTION]
        if dying:
            return "dying", ", ".join(f"{r.name}: {100 * r.dead_fraction:.0f}% dead" for r in dying)
        if report.grad_ratio is not None and report.grad_ratio < VANISHING_RATIO:
            return "vanishing", f"first/last kernel gradient ratio {report.grad_ratio:.1e} (< {VANISHING_RATIO:g})"
        return None, ""

    def _repair(self, problem: str, evidence: str, batch: int | None) -> None:
        from relulab.remedies import revive
        from relulab.remedies.candidates import he_reinitialise

        optimizer, done = self.model.optimizer, []
        if problem in ("nan", "exploding"):
            self.model.set_weights(self._initial)
            done += ["restored the initial weights", self._lower_learning_rate(optimizer), self._clip(optimizer)]
        else:
            he_reinitialise(self.model, self.seed + len(self.actions))
            done.append("redrew every kernel He normal, biases zero")
            if problem in ("dying", "collapsed"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    revived = sum(revive(self.model, self.x, seed=self.seed + len(self.actions)).values())
                done.append(f"revived {revived} unit(s) still dead")
                if not self._dead_at_start:
                    done.append(self._lower_learning_rate(optimizer))
            else:
                warnings.warn(AutoRepairWarning(
                    "AutoRepair: vanishing gradients; kernels redrawn He normal, but an activation cannot be swapped "
                    "in place: for a sigmoid/tanh stack use relulab.remedies.repair or swap_activation"), stacklevel=2)
        self._reset_optimizer(optimizer)
        for metric in self.model.metrics:
            metric.reset_state()
        self._first_loss = None
        action = {"epoch": self._epoch + 1, "batch": None if batch is None else batch + 1, "problem": problem,
                  "evidence": evidence, "remedy": "; ".join(d for d in done if d)}
        self.actions.append(action)
        if self.verbose:
            where = f"epoch {action['epoch']}" + ("" if batch is None else f", batch {batch + 1}")
            print(f"AutoRepair: {where}: {problem} ({evidence}) -> {action['remedy']}", file=sys.stderr)

    @staticmethod
    def _lower_learning_rate(optimizer: Any) -> str:
        try:
            rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
            optimizer.learning_rate = rate * LEARNING_RATE_FACTOR
        except (TypeError, ValueError, AttributeError):
            return "learning rate left as is (a schedule)"
        return f"learning rate {rate:g} -> {rate * LEARNING_RATE_FACTOR:g}"

    def _clip(self, optimizer: Any) -> str:
        if any(getattr(optimizer, name, None) is not None for name in ("clipnorm", "global_clipnorm", "clipvalue")):
            return ""
        optimizer.clipnorm = CLIPNORM
        self.model.make_train_function(force=True)  # the clipping is traced into the training step
        return f"clipnorm={CLIPNORM:g}"

    @staticmethod
    def _reset_optimizer(optimizer: Any) -> None:
        keep = {id(getattr(optimizer, "_learning_rate", None))}
        for variable in optimizer.variables:
            if id(variable) not in keep:
                variable.assign(np.zeros(tuple(variable.shape), dtype=variable.dtype))
