"""Train the lab's runs as Ray tasks on a cluster; the driver alone writes the results store.

The grid is cut into work units: runs that can be trained together (same architecture, learning rate,
epochs and batch size), at most ``unit_size`` runs each. Every unit becomes one Ray task that trains
its runs with the stacked engine on a worker and returns their :class:`RunResult` s. The driver takes
results as tasks finish and hands them to ``on_result``, which stores each in its own transaction, so
resume and crash safety are those of a local run: a task lost with its worker is simply not stored,
and the next run of the same command trains it again.

Point it at a cluster with ``relulab compare --engine ray --address ray://HEAD:10001`` (Ray client)
or ``--address HEAD:6379`` from a cluster node; without an address it starts a local Ray. Workers
need relulab installed (the same version as the driver), and the dataset travels through Ray's object
store once per cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from relulab.errors import UserError
from relulab.lab.engine import RunResult
from relulab.lab.grid import RunSpec

DEFAULT_UNIT_SIZE = 16


def work_units(runs: Sequence[RunSpec], unit_size: int = DEFAULT_UNIT_SIZE) -> list[list[RunSpec]]:
    """Runs grouped by what they can share (architecture, learning rate, epochs, batch size), each
    group cut into chunks of at most ``unit_size``, in the order the runs came."""
    from relulab.lab.stacked.engine import stack_key

    groups: dict[tuple, list[RunSpec]] = {}
    for spec in runs:
        groups.setdefault(stack_key(spec), []).append(spec)
    return [group[i:i + unit_size] for group in groups.values() for i in range(0, len(group), unit_size)]


def train_unit(unit: list[RunSpec], dataset: Any, diagnostics: bool) -> list[RunResult]:
    """What a Ray worker runs: the stacked engine on one work unit."""
    from relulab.lab.stacked.engine import StackedEngine

    results: list[RunResult] = []
    StackedEngine().train(unit, dataset, on_result=results.append, diagnostics=diagnostics)
    return results


class RayEngine:
    """Runs work units as Ray tasks on the cluster at ``address`` (or a local Ray when None)."""

    name = "ray"

    def __init__(self, address: str | None = None, *, unit_size: int = DEFAULT_UNIT_SIZE,
                 cpus_per_task: float = 1.0) -> None:
        self.address = address
        self.unit_size = unit_size
        self.cpus_per_task = cpus_per_task

    def _connect(self) -> Any:
        try:
            import ray
        except ImportError:
            raise UserError("--engine ray needs Ray: pip install 'relulab[ray]'.") from None
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, log_to_driver=False, include_dashboard=False,
                         ignore_reinit_error=True, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise UserError(f"--address {self.address}: cannot connect to a Ray cluster ({error}).") from None
        return ray

    def train(
        self,
        runs: Sequence[RunSpec],
        dataset: Any,
        *,
        on_result: Callable[[RunResult], None],
        on_progress: Callable[[int], None] = lambda steps: None,
        diagnostics: bool = True,
    ) -> None:
        ray = self._connect()
        task = ray.remote(num_cpus=self.cpus_per_task, max_retries=2)(train_unit)
        data = ray.put(dataset)
        pending = {task.remote(unit, data, diagnostics): unit for unit in work_units(runs, self.unit_size)}
        while pending:
            (ready,), _ = ray.wait(list(pending), num_returns=1)
            unit = pending.pop(ready)
            for result in ray.get(ready):
                on_result(result)
            on_progress(sum(spec.steps(len(dataset.x_train)) for spec in unit))
