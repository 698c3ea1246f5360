"""Errors in what a user asked for. The command line prints their message on one line and exits 2."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class UserError(Exception):
    """A problem with the user's input (a flag, a file, a folder), not a bug in relulab."""


class DataError(UserError, ValueError):
    """A dataset that cannot be loaded or is not usable as given (missing, corrupt, bad labels)."""


class SizeError(UserError, ValueError):
    """A size that cannot fit in this machine's memory (a model too wide, too many classes): refused before
    anything is allocated, naming the value and the memory it would need."""


@contextlib.contextmanager
def user_input(what: str) -> Iterator[None]:
    """Turn the ``ValueError``/``TypeError`` that a check raises into a ``UserError`` about ``what``
    (a flag such as ``--activation``), so the command line reports it as the user's mistake."""
    try:
        yield
    except UserError:
        raise
    except (ValueError, TypeError) as error:
        raise UserError(f"{what}: {error}") from error
