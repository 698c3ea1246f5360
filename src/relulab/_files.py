"""Files and folders made under a temporary name, then renamed into place.

``tempfile`` creates them private (mode 0600 for files, 0700 for folders), which is right for secrets
and wrong for results: a run folder or a ``results.db`` renamed into place should have the mode any new
file of the user gets. :func:`as_if_new` gives it that mode, from the process' umask.
"""

from __future__ import annotations

import os
from pathlib import Path


def as_if_new(path: str | os.PathLike[str]) -> None:
    """Set ``path``'s permissions to what ``open``/``mkdir`` would give it: 0666 (files) or 0777
    (folders) less the umask."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if Path(path).is_dir() else 0o666) & ~mask)
