"""`mlfleet run compression`: the compression study from the command line."""

from __future__ import annotations

import json
import re

import pytest

from cli_helpers import assert_one_line_error, run_cli
from terminal_helpers import run_on_a_terminal


@pytest.mark.slow
def test_study_reports_loss_and_bytes_per_method() -> None:
    proc = run_cli("run", "compression", "--methods", "dense,topk,topk+ef", "--steps", "30",
                   "--backend", "socket", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    by_method = {m["method"]: m for m in result["methods"]}
    assert set(by_method) == {"dense", "topk", "topk+ef"}
    assert by_method["topk"]["bytes_sent_per_rank"] < by_method["dense"]["bytes_sent_per_rank"]
    for method in by_method.values():
        assert method["loss_vs_bytes"][-1][0] == method["bytes_sent_per_rank"]


def test_unknown_method_is_one_line_exit_2() -> None:
    assert_one_line_error(run_cli("run", "compression", "--methods", "nope", "--steps", "2"),
                          "nope")


def test_progress_bar_with_eta_on_a_terminal() -> None:
    code, out, terminal = run_on_a_terminal("run", "compression", "--methods", "dense,topk",
                                            "--steps", "20", "--backend", "loopback")
    assert code == 0, terminal
    assert "SGD steps" in terminal and "100%" in terminal, terminal
    assert re.search(r"\d:\d\d:\d\d", terminal), terminal  # the ETA column
    assert "compression study" in out and "\x1b" not in out


def test_no_progress_bar_when_piped() -> None:
    proc = run_cli("run", "compression", "--methods", "dense", "--steps", "5",
                   "--backend", "loopback")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "compression study" in proc.stdout
