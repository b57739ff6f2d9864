"""Terminal tables: the width they fold to on a terminal, in a pipe, and with ``COLUMNS``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cli_helpers import ENTRY
from mlfleet.report.terminal import MIN_WIDTH, UNFOLDED_WIDTH, print_table, table_width

HEADERS = [f"column number {i}" for i in range(8)]
ROWS = [[f"value {i}-{j}" for j in range(8)] for i in range(3)]
"""A table about 150 characters wide when nothing is folded."""


def _widths(text: str) -> list[int]:
    return [len(line) for line in text.splitlines()]


@pytest.mark.parametrize(("is_tty", "columns_env", "terminal_columns", "expected"), [
    (True, None, 160, 160),
    (True, None, 80, 100),
    (False, "60", 120, 60),
    (False, " 60 ", 120, 60),
    (False, "5", 120, MIN_WIDTH),
    (False, None, 120, UNFOLDED_WIDTH),
    (False, "", 120, UNFOLDED_WIDTH),
    (False, "wide", 120, UNFOLDED_WIDTH),
    (False, "0", 120, UNFOLDED_WIDTH),
    (False, "-3", 120, UNFOLDED_WIDTH),
])
def test_table_width(is_tty: bool, columns_env: str | None, terminal_columns: int,
                     expected: int) -> None:
    assert table_width(is_tty=is_tty, columns_env=columns_env,
                       terminal_columns=terminal_columns) == expected


def test_piped_with_columns_folds_to_it(capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    print_table(HEADERS, ROWS, title="a wide table")
    out = capsys.readouterr().out
    assert max(_widths(out)) <= 60, out
    assert "value" in out


def test_piped_without_columns_is_not_folded(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    print_table(HEADERS, ROWS, title="a wide table")
    out = capsys.readouterr().out
    assert max(_widths(out)) > 120, out
    for cell in (*HEADERS, *ROWS[0]):
        assert cell in out, cell  # every cell on one line: nothing folded


def _piped_cli(*args: str, columns: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    proc = subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_real_command_folds_to_columns_when_piped() -> None:
    args = ("infra", "roofline", "-a", "H100", "-w", "llama3-8b")
    folded = _piped_cli(*args, columns="60")
    assert max(_widths(folded)) <= 60, folded
    whole = _piped_cli(*args, columns=None)
    assert max(_widths(whole)) > 60, whole
    assert "memory/GPU" in whole and "memory/GPU" not in folded
