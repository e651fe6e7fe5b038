"""How many cores this process may use (for sizing thread pools)."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """Cores in this process's CPU affinity mask (a container or ``taskset`` may allow fewer
    than the machine has), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity API (macOS, Windows)
        return os.cpu_count() or 1
