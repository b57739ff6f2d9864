"""Every ``python`` code block of README.md and docs/*.md runs as written.

A block whose info string is ``python sketch`` is an API outline (signatures, elided
arguments) and is not run; ``python root`` builds network namespaces and runs only when
the tests run as root (the lab tests' rule).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python(?P<info>[^\n]*)\n(?P<code>.*?)^```", re.S | re.M)


def python_blocks() -> list[tuple[str, str, str]]:
    """``(FILE:LINE, info string, code)`` of every python block in the user docs."""
    blocks = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            blocks.append((f"{doc.relative_to(ROOT)}:{line}", match["info"].strip(),
                           match["code"]))
    return blocks


RUNNABLE = [block for block in python_blocks() if block[1] != "sketch"]


def test_every_block_is_runnable_or_marked() -> None:
    assert {info for _, info, _ in python_blocks()} <= {"", "sketch", "root"}
    assert any(where.startswith("docs/communication.md") for where, _, _ in RUNNABLE)


@pytest.mark.parametrize(("where", "info", "code"), RUNNABLE, ids=[b[0] for b in RUNNABLE])
def test_python_block_runs(where: str, info: str, code: str, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    if info == "root" and os.geteuid() != 0:
        pytest.skip("builds network namespaces: needs root")
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("MLFLEET_LAB_STATE_DIR", str(tmp_path / "labs"))
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, where, "exec"), {"__name__": "docs_example"})
