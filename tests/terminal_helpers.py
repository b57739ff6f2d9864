"""Run the mlfleet CLI with stderr on a pseudo-terminal, as a user at a terminal would."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import tempfile

from cli_helpers import ENTRY


def run_on_a_terminal(*args: str, timeout_s: float = 120) -> tuple[int, str, str]:
    """Run ``mlfleet ARGS`` with stderr on a pseudo-terminal (TERM=xterm, 120 columns) and
    stdout in a file: (exit status, stdout, everything written to the terminal)."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([sys.executable, "-c", ENTRY, *args], stdout=out, stderr=slave,
                                stdin=subprocess.DEVNULL, env=env)
        os.close(slave)
        try:
            terminal = _read_until_closed(master)
        finally:
            os.close(master)
        code = proc.wait(timeout=timeout_s)
        out.seek(0)
        return code, out.read(), terminal


def _read_until_closed(master: int) -> str:
    """Everything written to the terminal until the child closes it (read as it comes, so a
    full pty buffer never blocks the child)."""
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every process holding the terminal has closed it
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")
