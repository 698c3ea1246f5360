"""How much memory this machine has, and sizes in words, for refusing work that cannot fit before it starts.

A size that cannot fit (a width of 20,000,000, a label of 10**9 that makes a billion classes) is refused
with its value and the memory it would need, instead of ending in an out-of-memory traceback (or the
kernel's OOM killer) after minutes of work.
"""

from __future__ import annotations

import os
from pathlib import Path

# Training one float32 parameter with Adam keeps 4 numbers: the weight, its gradient, and Adam's two moments.
BYTES_PER_PARAMETER = 16
BYTES_PER_FLOAT = 4
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def available_bytes() -> int:
    """This machine's physical memory, or the container's memory limit when that is lower.

    Physical memory, not what is free right now: a size above it can never fit, while what is free changes
    from moment to moment. ``RELULAB_MEMORY_BYTES`` overrides it (for tests, or to leave room for others).
    """
    override = os.environ.get("RELULAB_MEMORY_BYTES")
    if override:
        return int(override)
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: no bound known
        total = 2**63 - 1
    for path in _CGROUP_LIMITS:
        try:
            limit = int(Path(path).read_text().strip())
        except (OSError, ValueError):  # absent, or "max"
            continue
        total = min(total, limit)
    return total


def describe_bytes(count: float) -> str:
    """``count`` bytes in words: ``"512 MiB"``, ``"7.3 TiB"``, ``"1.1e+288 YiB"`` for absurd ones."""
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
    value, unit = float(count), 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    if unit == 0:
        return f"{int(value)} bytes"
    return f"{value:.3g} {units[unit]}" if value < 1e6 else f"{value:.2g} {units[unit]}"
