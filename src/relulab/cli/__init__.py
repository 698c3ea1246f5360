"""The ``relulab`` command line: a thin shell over the library.

Each command lives in its own module with ``register(subparsers)`` (its flags) and ``run(args) -> int``
(the work, done by library functions that tests call directly). A :class:`relulab.errors.UserError`
becomes one line on stderr and exit status 2; so does a bad flag.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = ("train", "diagnose", "compare", "report", "listing")


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: ``relulab train: error: ... (see --help)``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows each flag's default, and keeps the description's line breaks."""


def build_parser() -> Parser:
    from relulab import __version__

    parser = Parser(
        prog="relulab", formatter_class=HelpFormatter,
        description="relulab: rectifier activations for Keras 3. Train the article's model with any rectifier, "
                    "diagnose dying units and vanishing gradients, and compare activations with confidence intervals.",
    )
    parser.add_argument("--version", action="version", version=f"relulab {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        module = importlib.import_module(f"relulab.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``relulab`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    from relulab.errors import UserError

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.command_line = ["relulab", *argv]  # saved with results: how to run this again
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except UserError as error:
        print(f"relulab {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"relulab {args.command}: interrupted", file=sys.stderr)
        return 130
