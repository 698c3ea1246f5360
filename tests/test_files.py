"""Files renamed into place get the mode of any new file: the umask decides, not tempfile's 0600/0700."""

from __future__ import annotations

import os
import stat
import tempfile

import pytest

from relulab._files import as_if_new


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_temporary_files_and_folders_get_the_umask_mode(tmp_path, umask):
    previous = os.umask(umask)
    try:
        handle, file = tempfile.mkstemp(dir=tmp_path)
        os.close(handle)
        folder = tempfile.mkdtemp(dir=tmp_path)
        as_if_new(file)
        as_if_new(folder)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(file).st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o777 & ~umask
