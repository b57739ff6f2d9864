import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# A shell without job control starts background commands with SIGINT ignored, and an
# ignored signal stays ignored across exec: every Ctrl-C test would then see its command
# ignore the SIGINT it sends. Give this process, and so every process it starts, the
# default Ctrl-C handling back.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables fold to ``COLUMNS`` when piped, and pytest-xdist's workers inherit
    ``COLUMNS=80``: tests that read a table see it unfolded unless they set it."""
    monkeypatch.delenv("COLUMNS", raising=False)


@pytest.fixture(autouse=True)
def _stop_signal_handlers_restored() -> object:
    """A command run in-process that stops on Ctrl-C ends by ignoring SIGINT and SIGTERM
    (entry._stopped: its clean-up must not be cut short) — right for a process about to
    exit, wrong for a test worker that goes on: every process it started afterwards would
    inherit the ignored signals, and each later Ctrl-C or SIGTERM test would hang or see
    its command finish. Give each test the handlers it started with."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        if signal.getsignal(signum) is not handler and handler is not None:
            signal.signal(signum, handler)
