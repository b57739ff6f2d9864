"""Will a simulation fit in memory? Checked up front, before anything is drawn.

The engine keeps every request's columns, so a run's peak memory grows linearly with
its request count; each command states its measured bytes per request and refuses a
count that would exceed the memory available with one line (exit 2) instead of being
killed by the kernel halfway through.
"""

from __future__ import annotations

from mlfleet.errors import InputError


def check_memory(requests: int, available: int, *, bytes_per_request: int) -> None:
    """InputError when ``requests`` × ``bytes_per_request`` exceeds ``available`` bytes."""
    need = requests * bytes_per_request
    if need > available:
        raise InputError(f"requests(={requests:_}) needs about {need / 1e9:.3g} GB "
                         f"({bytes_per_request} bytes per request) and {available / 1e9:.3g} "
                         f"GB is available: at most {available // bytes_per_request:_}")
