"""The tables in docs/infrastructure-tco.md are what the commands print today (COLUMNS=130).

A change to a model or a catalog price that moves a number fails here until the doc is
regenerated: ``COLUMNS=130 mlfleet infra tco ...`` for each ``$`` line of a console block.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from cli_helpers import run_main

DOC = Path(__file__).resolve().parents[3] / "docs" / "infrastructure-tco.md"
CONSOLE = re.compile(r"^```console\n(?P<body>.*?)^```", re.S | re.M)


def _runs() -> list[tuple[str, str]]:
    """(command line, its output as written) for each ``$ mlfleet infra tco`` line that is
    followed by output in the doc's console blocks."""
    runs = []
    for block in CONSOLE.finditer(DOC.read_text(encoding="utf-8")):
        parts = re.split(r"^\$ (mlfleet infra tco .*)$", block["body"], flags=re.M)
        for command, output in zip(parts[1::2], parts[2::2], strict=True):
            if output.strip() and "\\" not in command:
                runs.append((command, output))
    return runs


def test_the_doc_shows_every_table_command() -> None:
    shown = {shlex.split(command)[3] for command, _ in _runs()}
    assert shown == {"compare", "breakeven", "sensitivity", "scale", "scaling", "hybrid"}


@pytest.mark.parametrize(("command", "written"), _runs(), ids=[c for c, _ in _runs()])
def test_doc_table_is_current(capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch, command: str,
                              written: str) -> None:
    monkeypatch.setenv("COLUMNS", "130")
    code, out, err = run_main(capsys, *shlex.split(command)[1:])
    assert code == 0, err
    printed = "\n".join(line.rstrip() for line in out.splitlines())
    assert printed.strip() == written.strip()
