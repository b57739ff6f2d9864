"""``mlfleet validate`` end to end: the quick run passes on main and renders the committed
page; a broken model constant fails it; regressions and bad input are reported."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import ENTRY, assert_one_line_error, run_cli, run_main
from mlfleet import catalog
from mlfleet.validate.cli import DOCS_COMMAND
from mlfleet.validate.results import RESULTS_SCHEMA

REPO = Path(__file__).resolve().parents[2]
QUICK_CHECKS_AT_LEAST = 40


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """``mlfleet validate --quick --write-docs`` once, in a real process (exit, stdout, dir)."""
    out = tmp_path_factory.mktemp("quick")
    proc = run_cli("validate", "--quick", "--write-docs", str(out / "validation.md"),
                   "--results", str(out / "latest.json"), timeout_s=600)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, out


@pytest.mark.slow
def test_quick_passes_on_main(quick_run: tuple[int, str, Path]) -> None:
    code, stdout, out = quick_run
    assert code == 0, stdout[-3000:]
    results = json.loads((out / "latest.json").read_text())
    assert results["schema"] == RESULTS_SCHEMA and results["ok"] and results["quick"]
    assert len(results["checks"]) >= QUICK_CHECKS_AT_LEAST
    chapters = {c["chapter"] for c in results["checks"]}
    assert {"infra", "storage", "comm", "reliability", "serving", "ops", "sim"} <= chapters
    assert all(c["status"] in ("pass", "miss") for c in results["checks"])


@pytest.mark.slow
def test_the_committed_page_is_the_generated_one(quick_run: tuple[int, str, Path]) -> None:
    """Regenerate with the command below; never edit docs/validation.md by hand."""
    _, _, out = quick_run
    committed = (REPO / "docs" / "validation.md").read_text(encoding="utf-8")
    assert committed == (out / "validation.md").read_text(encoding="utf-8"), \
        f"docs/validation.md is stale: run `{DOCS_COMMAND}`"


def test_a_broken_model_constant_fails_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The catalog's H100 dense BF16 peak 10 % too high: MFU implied by MosaicML's H100 runs
    drops ~4 points, far outside 0.1 pp, and the run exits 3 naming the checks."""
    entry = catalog.get("H100-SXM", kind="accelerator")
    peak = entry.values["flops_per_s.bf16"]
    monkeypatch.setitem(entry.values, "flops_per_s.bf16",
                        dataclasses.replace(peak, value=peak.value * 1.1))
    code, out, err = run_main(capsys, "validate", "--only", "infra.roofline", "--results",
                              str(tmp_path / "r.json"))
    assert code == 3, err
    assert "infra.roofline.mfu.MPT-7b-8xH100" in out and "FAIL" in out
    assert err.startswith("error: ") and "checks failed" in err and len(err.splitlines()) == 1
    assert "infra.roofline.mfu.PaLM-540B-6144xTPUv4" not in err  # TPU runs are untouched


def _edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data["checks"])
    path.write_text(json.dumps(data))


def test_regressions_against_the_stored_results(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "latest.json"
    args = ("validate", "--only", "comm", "--results", str(results))
    assert run_main(capsys, *args)[0] == 0
    assert run_main(capsys, *args)[0] == 0  # against itself: nothing regressed

    def regress(checks: list[dict[str, Any]]) -> None:
        zero2 = next(c for c in checks if c["id"] == "comm.zero.memory.7.5b-64gpu.zero2")
        zero2["error"] = 0.0  # now +0.041 of a 0.05 bound: grew by more than a quarter
        checks.append({**zero2, "id": "comm.zero.gone"})

    _edit(results, regress)
    code, out, err = run_main(capsys, *args)
    assert code == 3, err
    assert "REGRESSION error-grew: comm.zero.memory.7.5b-64gpu.zero2" in out
    assert "REGRESSION disappeared: comm.zero.gone" in out
    assert "2 regressions" in err


def test_json_output_is_the_results_document(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "validate", "--only", "ops.peeking.armitage", "--json",
                            "--results", str(tmp_path / "r.json"),
                            "--save-baseline", str(tmp_path / "b.json"))
    assert code == 0
    payload = json.loads(out)
    assert payload == json.loads((tmp_path / "b.json").read_text())
    assert {c["id"] for c in payload["checks"]} == {f"ops.peeking.armitage.k{k}" for k in
                                                    (1, 2, 3, 4, 5, 10, 20, 50, 100)}


def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    results = tmp_path / "r.json"
    other = tmp_path / "other.json"
    other.write_text('{"schema": "mlfleet.sweep/1"}')
    cases: list[tuple[list[str], str]] = [
        (["--only", "nope"], "--only 'nope' matches no provider"),
        (["--baseline", str(other)], "has schema 'mlfleet.sweep/1'"),
        (["--baseline", str(tmp_path / "none.json")], "is not a readable results file"),
        (["--save-baseline", "/proc/nope/b.json"], "--save-baseline '/proc/nope/b.json'"),
        (["--write-docs", str(tmp_path / "v.md"), "--only", "comm"], "cannot be combined"),
    ]
    for extra, fragment in cases:
        proc = run_cli("validate", "--results", str(results), *extra)
        assert_one_line_error(proc, fragment)
        assert not results.exists() and not (tmp_path / "v.md").exists()
    proc = run_cli("validate", "--only", " ", "--results", str(tmp_path / "new" / "r.json"))
    assert_one_line_error(proc, "--only ' ' is empty")
    assert not (tmp_path / "new").exists()  # refused before anything is created


def test_an_unwritable_results_path_exits_2(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "validate", "--only", "comm", "--results", str(tmp_path))
    assert code == 2 and "is a directory" in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_ctrl_c_stops_the_run_and_writes_nothing(tmp_path: Path) -> None:
    """SIGINT while the providers run: exit 130, one line, no results file."""
    results = tmp_path / "made-by-the-command" / "r.json"
    proc = subprocess.Popen([sys.executable, "-c", ENTRY, "validate", "--only", "infra",
                             "--results", str(results)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not results.parent.exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # the command creates it once its arguments are checked
        assert results.parent.exists(), "the command never started running providers"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.strip() == "interrupted" and not results.exists()
    assert list(results.parent.iterdir()) == []
