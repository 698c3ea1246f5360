"""The ``relulab`` command line: a thin shell over the library.

Each command lives in its own module with ``register(subparsers)`` (its flags) and ``run(args) -> int``
(the work, done by library functions that tests call directly). A :class:`relulab.errors.UserError`
becomes one line on stderr and exit status 2; so does a bad flag. A command module's ``FLAGS`` maps the
library's argument names to its flags, so that "epochs of TrainConfig must be ..." reads "--epochs must be ...".
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Sequence

COMMANDS = ("train", "diagnose", "repair", "compare", "report", "listing")


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: ``relulab train: error: ... (see --help)``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows each flag's default (unless its help already says it, or it has none), and keeps the
    description's line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "(default" in text or action.default is None:
            return text
        return super()._get_help_string(action)


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


# Who the library's checks name as the owner of an argument: "<argument> of <owner> must be ...".
_OWNED = re.compile(r"\b(\w+) of (?:TrainConfig|mlp|the grid|load)\b")


def flag_named(message: str, flags: dict[str, str]) -> str:
    """``message`` with each "<argument> of <owner>" that ``flags`` knows replaced by its flag."""
    return _OWNED.sub(lambda m: flags.get(m.group(1), m.group(0)), message)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``relulab`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    from relulab.errors import UserError

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()  # imports every command's modules: a Ctrl-C here is common, and quiet
    except KeyboardInterrupt:
        print("relulab: interrupted", file=sys.stderr)
        return 130
    args = parser.parse_args(argv)
    args.command_line = ["relulab", *argv]  # saved with results: how to run this again
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except UserError as error:
        flags = getattr(sys.modules[args.run.__module__], "FLAGS", {})
        text = " ".join(flag_named(str(error), flags).splitlines())  # one line, whatever the message holds
        print(f"relulab {args.command}: error: {text}", file=sys.stderr)
        return 2
    except OSError as error:  # a folder that cannot be written, a full disk, ...: one line, not a traceback
        where = f": {error.filename}" if error.filename else ""
        print(f"relulab {args.command}: error: {error.strerror or error}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"relulab {args.command}: interrupted", file=sys.stderr)
        return 130
