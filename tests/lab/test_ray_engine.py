"""The Ray engine on a real local Ray head: the store it fills matches a local run of the same grid."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from relulab.lab import Grid, run_experiment
from relulab.lab.ray_engine import work_units
from relulab.lab.store import opened

ray = pytest.importorskip("ray", reason="Ray is not installed here (pip install 'relulab[ray]')")

GRID = Grid(dataset="digits", train_size=200, test_size=80, activations=("relu", "tanh", "leaky_relu(0.1)"),
            architectures=((16,), (16, 16)), seeds=(0, 1), epochs=2)


def test_work_units_group_what_can_be_stacked_and_respect_the_size():
    units = work_units(GRID.runs(), unit_size=4)
    assert sorted(spec.key for unit in units for spec in unit) == sorted(spec.key for spec in GRID.runs())
    assert all(len(unit) <= 4 and len({spec.hidden for spec in unit}) == 1 for unit in units)


@pytest.fixture(scope="module")
def ray_head():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ray_cli = str(Path(sys.executable).parent / "ray")
    started = subprocess.run([ray_cli, "start", "--head", f"--port={port}", "--num-cpus=2", "--node-ip-address=127.0.0.1",
                              "--include-dashboard=false", "--disable-usage-stats"],
                             capture_output=True, text=True, timeout=180)
    assert started.returncode == 0, started.stderr[-2000:]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        ray.shutdown()
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, timeout=120)


def test_a_grid_through_a_ray_head_fills_the_store_like_a_local_run(ray_head, tmp_path):
    remote = run_experiment(GRID, tmp_path / "ray", engine="ray", address=ray_head)
    local = run_experiment(GRID, tmp_path / "local", engine="stacked")
    assert remote.trained == local.trained == len(GRID.runs())
    with opened(tmp_path / "ray" / "results.db") as a, opened(tmp_path / "local" / "results.db") as b:
        ray_results, local_results = a.results(), b.results()
        assert a.experiment()["fingerprint"] == b.experiment()["fingerprint"]
    assert [r.spec for r in ray_results] == [r.spec for r in local_results]
    for ours, theirs in zip(ray_results, local_results):
        assert ours.test_accuracy == pytest.approx(theirs.test_accuracy, abs=1e-6)
        assert ours.history.keys() == theirs.history.keys()
        assert ours.history["loss"] == pytest.approx(theirs.history["loss"], rel=1e-5)
    assert (tmp_path / "ray" / "report.html").is_file()
