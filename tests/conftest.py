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
