"""Run the mlfleet CLI in a real subprocess, as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from mlfleet.cli import main

ENTRY = "import sys; from mlfleet.cli import main; sys.exit(main())"


def run_cli(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``mlfleet ARGS`` in a fresh interpreter; returns the completed process."""
    return subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True, text=True,
                          timeout=timeout_s, check=False)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit 2, exactly one stderr line starting with 'error:', no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``mlfleet ARGS`` in-process; (exit status, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_main_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    """Run ``mlfleet ARGS --json`` in-process, assert success, return the parsed JSON."""
    code, out, err = run_main(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)
