"""Fuzz every command and option: each run ends in exit 0, 2 or 3, never a traceback.

Argument lists come from the CLI tree by click introspection (``cli_fuzz_args``), so a new
command or option is fuzzed without editing this file. CI runs 1,000 lists; the benchmark
(``benchmarks/bench_cli_fuzz.py``) runs 10,000 through ``MLFLEET_FUZZ_EXAMPLES``.
``loadgen`` runs against a real server (tiny models) on a background thread; commands that
start processes get small bounded values; see ``cli_fuzz_args`` for the few that only run
with an unknown option. (``tests/test_scenario_fuzz.py`` fuzzes scenario files.)
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
    SMALL_DEFAULTS,
    URL,
    argv_lists,
    pool_key,
    populate,
)
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


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(argv=argv_lists())
def test_every_command_ends_in_0_2_or_3_without_traceback(
        argv: list[str], server_urls: dict[str, str], workdir: Path) -> None:
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
