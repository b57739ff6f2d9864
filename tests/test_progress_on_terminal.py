"""Long commands draw a progress bar with an ETA on a terminal's stderr, and none when piped.

Each command runs for real with stderr on a pseudo-terminal (see :mod:`terminal_helpers`);
sizes are the smallest that still take the command's progress path.
"""

from __future__ import annotations

import re

import pytest

from cli_helpers import run_cli
from live_server import live_server
from terminal_helpers import run_on_a_terminal

RICH_ETA = re.compile(r"100%.{0,40}\d:\d\d:\d\d")
"""rich's bar: the percentage, then the time remaining as H:MM:SS."""

COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "sim mmc": (("sim", "mmc", "--servers", "4", "--utilization", "0.8",
                 "--requests", "200000", "--seed", "1"), "simulating M/M/c"),
    "sim serve": (("sim", "serve", "--requests", "100000", "--seed", "1"), "simulating"),
    "run collective": (("run", "collective", "allreduce", "--ranks", "2", "--sizes", "4K:16K",
                        "--repeats", "2"), "sizes"),
    "run compression": (("run", "compression", "--methods", "dense", "--steps", "20",
                         "--backend", "loopback"), "SGD steps"),
}
"""Command -> (arguments, the bar's label)."""


def _without_styles(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_progress_bar_with_eta_on_a_terminal(name: str) -> None:
    args, label = COMMANDS[name]
    code, out, terminal = run_on_a_terminal(*args)
    assert code == 0, terminal
    shown = _without_styles(terminal)
    assert label in shown and RICH_ETA.search(shown), shown[-2000:]
    assert "\x1b" not in out  # the bar stays on stderr; stdout keeps plain text


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_no_progress_bar_when_stderr_is_piped(name: str) -> None:
    args, label = COMMANDS[name]
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert label not in proc.stderr and "\x1b" not in proc.stderr, proc.stderr


def test_loadgen_progress_bar_with_eta_on_a_terminal() -> None:
    with live_server() as urls:
        code, _, terminal = run_on_a_terminal("loadgen", "--url", urls["rank"], "--rate", "20",
                                              "--duration", "1.5", "--items", "8")
    assert code == 0, terminal
    assert re.search(r"\] +\d+%.*ETA \d", terminal), terminal
