"""Fuzz every command and option: each run ends in exit 0, 2 or 3, never a traceback.

Argument lists come from the CLI tree by click introspection (``cli_fuzz_args``), so a new
command or option is fuzzed without editing this file. CI runs 1,000 lists; the benchmark
(``benchmarks/bench_cli_fuzz.py``) runs 10,000 through ``MLFLEET_FUZZ_EXAMPLES``.
``loadgen`` runs against a real server (tiny models) on a background thread; commands that
start processes get small bounded values; ``serve`` and ``lab hosts up/down`` run their real
validation in a sandbox (``cli_fuzz_sandbox``) that records the server or namespaces they
would start instead of starting them. (``tests/test_scenario_fuzz.py`` fuzzes scenario files.)
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from cli_fuzz_args import (
    BOUNDED,
    COMMANDS,
    GENERATE_URL,
    SANDBOXED,
    SMALL_DEFAULTS,
    URL,
    argv_lists,
    pool_key,
    populate,
)
from cli_fuzz_sandbox import SENTINEL, WouldStart, sandbox, untouched_machine
from live_server import live_server
from mlfleet.cli import main

EXAMPLES = int(os.environ.get("MLFLEET_FUZZ_EXAMPLES", "1000"))


@pytest.fixture(scope="module")
def server_urls() -> Iterator[dict[str, str]]:
    """The placeholders' URLs on a real server (tiny models) on a background thread."""
    with live_server() as urls:
        yield {URL: urls["rank"], GENERATE_URL: urls["generate"]}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A scratch working directory: every path the fuzz names is relative to it (or under
    /proc), so a command that writes files writes nothing in the repository."""
    path = tmp_path_factory.mktemp("fuzz")
    before = Path.cwd()
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(before)


@pytest.fixture(scope="module")
def would_start(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WouldStart]:
    """The sandbox for the whole fuzz; afterwards no namespace is gone and none was made."""
    state_dir = tmp_path_factory.mktemp("labs")
    with untouched_machine(state_dir), sandbox(state_dir) as record:
        yield record


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(argv=argv_lists())
def test_every_command_ends_in_0_2_or_3_without_traceback(
        argv: list[str], server_urls: dict[str, str], workdir: Path,
        would_start: WouldStart) -> None:
    populate(workdir)
    argv = [server_urls.get(token, token) for token in argv]
    code, out, err = run(argv)
    assert code in (0, 2, 3), (argv, code, err)
    assert "Traceback" not in out + err, (argv, err)
    if code in (2, 3):
        lines = [line for line in err.splitlines() if not line.startswith("warning: ")]
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)


def test_bounded_pools_name_real_parameters() -> None:
    """A renamed option must not silently lose its bound (a 10-day loadgen run)."""
    for path, pools in BOUNDED.items():
        keys = {pool_key(param) for param in COMMANDS[path].params}
        assert set(pools) <= keys, (path, set(pools) - keys)
    for path, defaults in SMALL_DEFAULTS.items():
        flags = {flag for param in COMMANDS[path].params for flag in param.opts}
        assert {token for token in defaults if token.startswith("--")} <= flags, path


def test_sandboxed_commands_validate_for_real_and_start_nothing(tmp_path: Path) -> None:
    """Good values reach the recorded start; bad ones are refused by the real checks; the
    machine's namespaces are untouched (we may run as root: a real ``down --all --force``
    would delete other runs' labs)."""
    with untouched_machine(tmp_path), sandbox(tmp_path) as record:
        assert run(["serve", "--port", "0", "--torch-threads", "2"])[0] == 0
        assert [c.port for c in record.servers] == [0] and record.torch_threads == [2]
        code, _, err = run(["serve", "--torch-threads", "0"])
        assert code == 2 and "--torch-threads(=0)" in err, err
        assert run(["serve", "--device", "tpu"])[0] == 2
        assert run(["lab", "hosts", "up", "--hosts", "2", "--name", "fuzz-a"])[0] == 0
        assert record.labs == ["fuzz-a"]
        assert run(["lab", "hosts", "up", "--hosts", "65"])[0] == 2
        assert run(["lab", "hosts", "down", "--name", "fuzz-a"])[0] == 0
        assert len(record.deleted_namespaces) == 3, record.deleted_namespaces  # 2 hosts, switch
        assert run(["lab", "hosts", "up", "--hosts", "3", "--name", "fuzz-b"])[0] == 0
        record.deleted_namespaces.clear()
        assert run(["lab", "hosts", "down", "--all", "--force"])[0] == 0
        assert len(record.deleted_namespaces) == 4, record.deleted_namespaces
        assert SENTINEL not in record.deleted_namespaces  # listing is sandboxed too
        assert len(record.servers) == 1 and record.labs == ["fuzz-a", "fuzz-b"]


def test_sandboxed_commands_are_in_the_fuzz() -> None:
    """A renamed command must not silently leave the fuzz (or the sandbox)."""
    assert set(SANDBOXED) <= set(COMMANDS), set(SANDBOXED) - set(COMMANDS)
