"""``mlfleet chaos``: bad input is one line and exit 2, before anything starts."""

from __future__ import annotations

import pytest

from cli_helpers import assert_one_line_error, run_cli


@pytest.mark.parametrize(("args", "fragment"), [
    (["--fault", "explode@5s"], "(='explode') is unknown; known: kill"),
    (["--duration", "10s", "--fault", "kill@12s,restart@14s"], "beyond the run"),
    (["--replicas", "0"], "--replicas(=0) must be an integer >= 1"),
    (["--replicas", "2", "--fault", "2:stop@1s"], "allowed: 0..1"),
    (["--balance", "nope"], "--balance(='nope') is unknown; known: random2"),
    (["--rate", "0"], "--rate(=0)"),
    (["--duration", "0s"], "--duration(='0s') must be a duration > 0"),
    (["--slow-factor", "0.5"], "--slow-factor(=0.5) must be >= 1"),
    (["--slo", "1"], "--slo(=1) must be a fraction in (0, 1)"),
    (["--client-retries", "always"], "--client-retries(='always') is unknown"),
    (["--fault", "cont@1s"], "cont needs an earlier stop"),
    (["--fault", "restart@1s"], "restart needs an earlier kill or drain"),
    (["--haproxy-retries", "-1"], "--haproxy-retries(=-1) must be an integer >= 0"),
])
def test_bad_input_is_one_line_exit_2(args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli("chaos", *args), fragment)
