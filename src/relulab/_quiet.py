"""Keep TensorFlow's C++ start-up chatter (oneDNN, CPU feature and CUDA probing lines) off the terminal.

Those lines are written by native code straight to file descriptor 2, before Python's logging or
``TF_CPP_MIN_LOG_LEVEL`` can stop them all, so the only reliable filter is to point descriptor 2 at a
temporary file while Keras imports its backend. If the import fails, what was held back is written out
before the error propagates, so nothing that explains a failure is lost. ``RELULAB_TF_LOGS=1`` shows
everything.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def backend_startup_silenced() -> Iterator[None]:
    """Silence descriptor 2 for the duration, unless the backend is already loaded or logs are wanted."""
    if os.environ.get("RELULAB_TF_LOGS") or "keras" in sys.modules:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except Exception:  # not on Ctrl-C: the user stopped it, start-up lines would only be noise
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
