"""Keep TensorFlow's C++ start-up chatter (oneDNN, CPU feature and CUDA probing lines) off the terminal.

Those lines are written by native code straight to file descriptor 2, before Python's logging or
``TF_CPP_MIN_LOG_LEVEL`` can stop them all, so the only reliable filter is to point descriptor 2 at a
temporary file while Keras imports its backend. If the import fails, what was held back is written out
before the error propagates, so nothing that explains a failure is lost. ``RELULAB_TF_LOGS=1`` shows
everything.

A Ctrl-C while the backend loads (the first seconds of every command) ends the process with one line,
``relulab: interrupted``, and exit status 130, not a traceback through TensorFlow's import: see
:func:`interrupt_quietly`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


INTERRUPTED = 130  # the shell's exit status for a process ended by SIGINT (128 + 2)


def interrupt_quietly(interrupt: KeyboardInterrupt) -> None:
    """Make ``interrupt``, if nothing catches it, end the process with one line and exit status 130.

    Python prints an uncaught exception through ``sys.excepthook``; this hook handles ``interrupt``
    only (any other exception, or a Ctrl-C the caller catches, is left as it was).
    """
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, traceback: object) -> None:
        if value is not interrupt:
            previous(kind, value, traceback)
            return
        sys.stderr.write("relulab: interrupted\n")
        sys.stderr.flush()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os._exit(INTERRUPTED)  # the backend's exit handlers would only add noise

    sys.excepthook = hook


@contextlib.contextmanager
def backend_startup_silenced() -> Iterator[None]:
    """Silence descriptor 2 for the duration, unless the backend is already loaded or logs are wanted; a
    Ctrl-C meanwhile ends the process quietly (:func:`interrupt_quietly`) unless the caller catches it."""
    if os.environ.get("RELULAB_TF_LOGS") or "keras" in sys.modules:
        try:
            yield
        except KeyboardInterrupt as interrupt:
            interrupt_quietly(interrupt)
            raise
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except KeyboardInterrupt as interrupt:  # the user stopped it: start-up lines would only be noise
            interrupt_quietly(interrupt)
            raise
        except Exception:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
