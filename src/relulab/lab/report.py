"""The lab's report: one self-contained HTML file (the CSV and JSON exports live in ``exports``).

The HTML embeds its figures as base64 ``data:`` URIs and its style inline, loads nothing from the
network and needs no JavaScript, so it opens offline, survives e-mail and archives with its results.
Every string that comes from the user (activation specs, the command line, paths, versions) is
escaped with :func:`html.escape`.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import math
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from relulab.lab.figures.captions import CAPTIONS
from relulab.lab.figures.data import architecture_title
from relulab.lab.stats import Estimate, SummaryRow

MIME_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;max-width:1180px;
margin:2em auto;padding:0 1.2em}
h1{font-size:1.6em;margin-bottom:.1em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#555}.notice{background:#fff4d6;border:1px solid #e5c56b;padding:.6em .9em;border-radius:4px}
.wide{overflow-x:auto}table{border-collapse:collapse;font-size:13px;margin:.6em 0}
th,td{padding:.28em .5em;border-bottom:1px solid #e4e4e4;vertical-align:top}
th{background:#f3f3f5;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:nth-child(even){background:#fafafa}.better{color:#0a6b2e;font-weight:600}.worse{color:#a31515;font-weight:600}
figure{margin:1.4em 0}figure img{max-width:100%;height:auto;border:1px solid #e4e4e4}
figcaption{color:#444;font-size:.93em;max-width:60em}pre{background:#f6f6f8;padding:.7em;overflow-x:auto}
code{font-family:ui-monospace,Menlo,Consolas,monospace}
"""
_SUMMARY_HEADER = ("activation", "hidden", "learning rate", "initializer", "seeds", "test accuracy", "test loss",
                   "dead fraction", "gradient ratio", "Δ accuracy vs {baseline} (95% CI)", "time per run (s)")


def write_html(path: Path, *, experiment: Mapping[str, Any], rows: Sequence[SummaryRow], baseline: str,
               figures: Mapping[str, Path], runs_total: int, runs_done: int) -> Path:
    """Write the experiment's report as one self-contained HTML file at ``path`` and return ``path``.

    Args:
        path: the file to write (its folder must exist); replaced if present.
        experiment: ``Store.experiment()``: ``grid`` (dict), ``command`` (list of str), ``versions``
            (dict), ``created`` (Unix time) and ``fingerprint``; missing keys are shown as unknown.
        rows: the summary, one row per configuration (``relulab.lab.stats.summarise``).
        baseline: the activation that paired differences are taken against.
        figures: figure name -> image file (PNG, JPEG or SVG), embedded in this order; captions come
            from ``relulab.lab.figures.captions.CAPTIONS``.
        runs_total, runs_done: the grid's number of runs and how many have finished.

    Raises:
        ValueError: a figure file whose suffix is not an image type listed in :data:`MIME_TYPES`.
        FileNotFoundError: a figure file that does not exist.
    """
    grid = experiment.get("grid") or {}
    title = f"relulab comparison on {grid.get('dataset', 'unknown data')}, {_date(experiment.get('created'))}"
    body = [
        f"<h1>{_e(title)}</h1>", _meta(experiment, runs_total, runs_done),
        "<h2>Summary</h2>", _summary_table(rows, baseline), _how_to_read(baseline),
        "<h2>Figures</h2>", *(_figure(name, file) for name, file in figures.items()),
        "" if figures else "<p>(no figures: no run has finished yet)</p>",
        "<h2>Configuration</h2>", _key_value_table({k: json.dumps(v) for k, v in grid.items()}),
        "<h2>Command line</h2>", f"<pre><code>{_e(_command(experiment.get('command')))}</code></pre>",
        "<h2>Library versions</h2>", _key_value_table(experiment.get("versions") or {}),
    ]
    head = (f'<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style>")
    document = f'<!DOCTYPE html>\n<html lang="en"><head>{head}</head>\n<body>\n' + "\n".join(body) + "\n</body></html>\n"
    path = Path(path)
    path.write_text(document, encoding="utf-8")
    return path


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _date(created: object, form: str = "%Y-%m-%d") -> str:
    """The experiment's start (Unix time) as UTC text; "unknown date" where it was not recorded."""
    if not isinstance(created, (int, float)):
        return "unknown date"
    return datetime.datetime.fromtimestamp(created, datetime.timezone.utc).strftime(form)


def _meta(experiment: Mapping[str, Any], runs_total: int, runs_done: int) -> str:
    when = _date(experiment.get("created"), "%Y-%m-%d %H:%M UTC")
    text = (f'<p class="meta">Experiment started {_e(when)} · {runs_done} of {runs_total} runs finished · '
            f"fingerprint <code>{_e(experiment.get('fingerprint', 'unknown'))}</code></p>")
    if runs_done < runs_total:
        text += (f'<p class="notice">Partial results: {runs_total - runs_done} run(s) have not finished. Run the '
                 "same command again to resume; the numbers below cover the finished runs only.</p>")
    return text


def _summary_table(rows: Sequence[SummaryRow], baseline: str) -> str:
    """The summary; the initializer column only where configurations differ in it (``auto``)."""
    initializers = len({row.initializer for row in rows}) > 1
    names = [h for h in _SUMMARY_HEADER if initializers or h != "initializer"]
    header = "".join(f"<th>{_e(h.format(baseline=baseline))}</th>" for h in names)
    body = "\n".join("<tr>" + "".join(_summary_cells(row, initializers)) + "</tr>" for row in rows)
    return f'<div class="wide"><table><thead><tr>{header}</tr></thead><tbody>\n{body}\n</tbody></table></div>'


def _summary_cells(row: SummaryRow, initializer: bool) -> list[str]:
    """One table row's cells: text left-aligned, numbers right-aligned, the paired difference coloured."""
    record, est = row.to_dict(), row.estimates
    text = [record["activation"], architecture_title(row.hidden), f"{row.learning_rate:g}"]
    text += [row.initializer] if initializer else []
    numbers = [str(record["seeds"]), est["test_accuracy"].format(), est["test_loss"].format(),
               est["dead_fraction"].format(3), _significant(est["grad_ratio"])]
    return ([f"<td>{_e(t)}</td>" for t in text] + [f'<td class="num">{_e(n)}</td>' for n in numbers]
            + [_difference(row.accuracy_vs_baseline, row.is_baseline),
               f'<td class="num">{_e(est["seconds"].format(1))}</td>'])


def _significant(estimate: Estimate) -> str:
    """A ratio that may span orders of magnitude: its geometric mean to three significant digits, and its
    (asymmetric) interval."""
    if math.isnan(estimate.mean):
        return "-"
    return f"{estimate.mean:.3g}" if math.isnan(estimate.low) else f"{estimate.mean:.3g} [{estimate.low:.2g}, {estimate.high:.2g}]"


def _difference(diff: Estimate | None, is_baseline: bool) -> str:
    """The paired difference with its interval, coloured when the interval excludes 0."""
    if is_baseline:
        return '<td class="num">(baseline)</td>'
    if diff is None:
        return '<td class="num">-</td>'
    if math.isnan(diff.low):
        return f'<td class="num">{_e(diff.format())}</td>'
    css = "better" if diff.low > 0 else "worse" if diff.high < 0 else ""
    return f'<td class="num {css}">{diff.mean:+.4f}<br><small>[{diff.low:+.4f}, {diff.high:+.4f}]</small></td>'


def _how_to_read(baseline: str) -> str:
    b = _e(baseline)
    return (
        "<h3>How to read this</h3><p>Each row is one configuration trained with several seeds. "
        "<b>mean ± h</b> is the mean over seeds and the half-width of its 95% Student-t confidence interval: "
        "intervals built this way contain the true mean in 95% of repeated experiments (no interval with one seed). "
        f"<b>Δ accuracy vs {b}</b> is paired: for each seed it subtracts the {b} run with the same seed, "
        "architecture and learning rate (same data order, same initial weights where shapes agree), then "
        "averages; it removes the luck that seeds share, so it is sharper than comparing two intervals. "
        'A <span class="better">green</span> or <span class="worse">red</span> interval excludes 0: a difference '
        "at the 5% level on this data and budget (with many rows, about one in twenty does so by chance). "
        "<b>Dead fraction</b> is the share of hidden units whose pre-activation stays on the flat (or "
        "small-slope) side of the kink for every probed example after the last epoch, averaged over the hidden "
        "layers; a dead ReLU unit passes no gradient to its weights and stops learning (a leaky one still "
        "passes its small slope). <b>Gradient ratio</b> "
        "is the norm of the loss gradient for the first layer's kernel over that for the last (output) layer's, "
        "after the last epoch: far below 1 means the gradient vanishes on its way back to the input and the "
        "first layers hardly learn; far above 1, that it explodes. Time is wall-clock seconds per run; runs "
        "that the stacked engine trains together share their stack's time equally, so there it compares "
        "architectures, not activations.</p>"
    )


def _figure(name: str, file: Path) -> str:
    file = Path(file)
    mime = MIME_TYPES.get(file.suffix.lower())
    if mime is None:
        raise ValueError(f"figure {name!r} must be one of {sorted(MIME_TYPES)}. Received: {str(file)!r}")
    data = base64.b64encode(file.read_bytes()).decode("ascii")
    caption = CAPTIONS.get(name, name.replace("_", " "))
    return (f'<figure id="{_e(name)}"><img src="data:{mime};base64,{data}" alt="{_e(name.replace("_", " "))}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _key_value_table(values: Mapping[str, Any]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in values.items())
    return f"<table><tbody>{rows}</tbody></table>" if rows else "<p>(not recorded)</p>"


def _command(command: object) -> str:
    if isinstance(command, (list, tuple)):
        return shlex.join(str(part) for part in command)
    return str(command) if command else "(not recorded)"
