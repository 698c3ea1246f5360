"""``relulab report FOLDER``: rebuild the plots and report of an experiment from its database alone,
or export its results as CSV or JSON. It reads the stored numbers only: the database is opened read-only
(a read-only folder works) and nothing that the stored grid names is imported."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from relulab.cli import HelpFormatter

    parser = subparsers.add_parser("report", help="rebuild an experiment's report, or export it",
                                   formatter_class=HelpFormatter, description=__doc__.strip())
    parser.add_argument("folder", type=Path, help="an experiment folder written by relulab compare")
    parser.add_argument("--format", choices=["html", "csv", "json"], default="html",
                        help="html: rebuild plots and report.html; csv/json: print the results to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from relulab.errors import UserError
    from relulab.lab import exports
    from relulab.lab.runner import rebuild
    from relulab.lab.store import FILENAME, opened

    with opened(args.folder / FILENAME, read_only=True) as store:  # writes nothing into results.db
        snapshot = store.snapshot()
        if args.format == "html":
            if not os.access(args.folder, os.W_OK | os.X_OK):
                raise UserError(f"{args.folder} is read-only: report.html, the summary files and the plots cannot "
                                f"be written there; --format csv or --format json prints the results instead.")
            written = rebuild(args.folder, snapshot)
            print(f"wrote {len(written)} files; report: {written['report.html']}")
        elif args.format == "csv":
            sys.stdout.write(exports.csv_text(exports.summary_rows(snapshot)))
        else:
            sys.stdout.write(exports.json_text(snapshot))
    return 0
