"""Everything the lab derives from its store: summary files, plots and the HTML report, all from one
:class:`~relulab.lab.store.Snapshot` (the store read once)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from relulab import _json as strict_json
from relulab.errors import UserError
from relulab.lab.store import Snapshot


def summary_rows(snapshot: Snapshot) -> list[dict[str, Any]]:
    """The summary (one dict per configuration), as the csv/json exports hold it."""
    return [row.to_dict() for row in snapshot.rows]


def csv_text(rows: list[dict[str, Any]]) -> str:
    """The summary rows as CSV text, one line per configuration; a missing value (NaN) is an empty cell."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["activation"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(strict_json.finite_or_none(rows))
    return buffer.getvalue()


def json_text(snapshot: Snapshot) -> str:
    """The experiment, the summary and every run with its per-epoch history (NaN as null)."""
    payload = {
        "experiment": snapshot.experiment,
        "summary": summary_rows(snapshot),
        "runs": [{"spec": r.spec.to_dict(), "test_loss": r.test_loss, "test_accuracy": r.test_accuracy,
                  "seconds": r.seconds, "history": r.history} for r in snapshot.results],
    }
    return strict_json.dumps(payload, indent=1) + "\n"


def check_plain(folder: Path) -> None:
    """Refuse to write through a symbolic link where relulab writes a file of its own: an experiment
    folder from elsewhere must not make relulab overwrite a file outside it.

    Raises:
        UserError: one of ``folder``'s report files, or ``plots/``, is a symbolic link.
    """
    from relulab.lab.figures.captions import FIGURE_NAMES

    names = ["summary.csv", "summary.json", "report.html", "plots", *(f"plots/{n}.png" for n in FIGURE_NAMES)]
    linked = [name for name in names if (folder / name).is_symlink()]
    if linked:
        raise UserError(f"{folder} holds symbolic links where relulab writes its report ({', '.join(linked)}); "
                        f"relulab writes plain files only: remove them.")


def write_all(folder: Path, snapshot: Snapshot) -> dict[str, Path]:
    """summary.csv, summary.json, plots/*.png and report.html in ``folder``; returns name -> path."""
    from relulab.lab import figures, report

    check_plain(folder)
    grid, results, rows = snapshot.grid, snapshot.results, snapshot.rows
    written = {"summary.csv": folder / "summary.csv", "summary.json": folder / "summary.json"}
    written["summary.csv"].write_text(csv_text(summary_rows(snapshot)))
    written["summary.json"].write_text(json_text(snapshot))
    plot_folder = folder / "plots"
    plot_folder.mkdir(exist_ok=True)
    made = figures.make_figures(results, grid, plot_folder) if results else {}
    written.update(made)
    written["report.html"] = report.write_html(
        folder / "report.html", experiment=snapshot.experiment, rows=rows, baseline=grid.baseline,
        figures=made, runs_total=len(grid.runs()), runs_done=len(results),
    )
    return written
