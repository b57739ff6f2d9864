import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables fold to ``COLUMNS`` when piped, and pytest-xdist's workers inherit
    ``COLUMNS=80``: tests that read a table see it unfolded unless they set it."""
    monkeypatch.delenv("COLUMNS", raising=False)
