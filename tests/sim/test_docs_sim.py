"""docs/sim.md's worked example runs and prints what the doc says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "sim.md"


def test_the_worked_mmc_example_prints_its_documented_output() -> None:
    text = DOC.read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S)
    expected = re.search(r"Output:\n\n```text\n(.*?)```", text, re.S)
    assert code is not None and expected is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), str(DOC), "exec"), {"__name__": "docs_sim"})
    assert out.getvalue() == expected.group(1)
    assert len(code.group(1).splitlines()) <= 36
