"""Holding the stop signals while child processes are killed and reaped."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while inside, so a second Ctrl-C cannot cut the children's
    clean-up short; one that came is raised afterwards, unless we are already unwinding
    from one (then it is the same request to stop, already being honoured). Outside the
    main thread (where handlers cannot be set) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {signum: signal.signal(signum, lambda s, _f: held.append(s))
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        if held and not isinstance(sys.exc_info()[1], KeyboardInterrupt):
            signal.raise_signal(held[0])
