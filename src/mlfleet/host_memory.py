"""How much memory this machine can still give: one reading for every up-front check
(``sim serve``'s request count, ``run collective``'s buffers)."""

from __future__ import annotations

import os


def available_bytes() -> int:
    """Memory the machine can still give (Linux ``MemAvailable``; else all of RAM)."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
