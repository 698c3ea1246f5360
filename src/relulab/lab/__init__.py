"""The comparison lab: grids of runs, a crash-safe results store, statistics, plots and a report.

    >>> from relulab import lab
    >>> grid = lab.Grid(dataset="digits", activations=("relu", "tanh"), seeds=(0, 1, 2), epochs=3)
    >>> lab.run_experiment(grid, Path("lab/first"))

Modules: ``grid`` (what is trained), ``user_model`` (``--model``: the user's own architecture),
``engine``/``ray_engine`` and the package ``stacked`` (how runs are trained), ``store`` (SQLite results) and
``lock`` (one writer per folder), ``stats`` (confidence intervals, paired differences), the package
``figures`` and ``report`` (plots and the HTML page), ``exports`` (what is rebuilt from the store),
``presets`` (named experiments), ``runner`` (the whole pipeline).
"""

from relulab.lab.engine import RunResult, SequentialEngine
from relulab.lab.grid import Grid, RunSpec, epoch_order
from relulab.lab.presets import PRESETS, preset
from relulab.lab.runner import Outcome, run_experiment
from relulab.lab.stacked.engine import StackedEngine

__all__ = ["PRESETS", "Grid", "Outcome", "RunResult", "RunSpec", "SequentialEngine", "StackedEngine", "epoch_order",
           "preset", "run_experiment"]
