"""``relulab list activations|datasets``: what the registry and the data layer offer."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    from relulab.cli import HelpFormatter

    parser = subparsers.add_parser("list", help="list activations or datasets", formatter_class=HelpFormatter,
                                   description=__doc__.strip())
    parser.add_argument("what", choices=["activations", "datasets"], help="what to list")
    parser.set_defaults(run=run)


def activation_rows() -> list[tuple[str, str, str, str]]:
    """(name, kind, parameters with defaults, formula) for every registered activation."""
    from relulab import activations

    rows = []
    for name in activations.available():
        entry = activations.lookup(name)
        params = ", ".join(f"{k}={p.default!r}" + (f" (or {p.layer_argument})" if p.layer_argument else "")
                           for k, p in entry.params.items())
        aliases = f" (aliases: {', '.join(entry.aliases)})" if entry.aliases else ""
        rows.append((name, entry.kind, params or "-", entry.summary + aliases))
    return rows


def run(args: argparse.Namespace) -> int:
    if args.what == "activations":
        rows = activation_rows()
        width = max(len(r[0]) for r in rows)
        pwidth = max(len(r[2]) for r in rows)
        for name, kind, params, summary in rows:
            print(f"{name:<{width}}  {kind:<10}  {params:<{pwidth}}  {summary}")
    else:
        from relulab import data

        for name, description in data.available().items():
            print(f"{name:<14}  {description}")
    return 0
