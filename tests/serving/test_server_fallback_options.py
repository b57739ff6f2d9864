"""The ``mlfleet serve`` options of the rank fallback and the injected fault: parsed into
a :class:`RankFallbackConfig`, bad values refused in one line naming the flag."""

from __future__ import annotations

from typing import Any

import click
import pytest

from mlfleet.entry import run_command
from mlfleet.serving.server.resilience_config import FaultSpec, RankFallbackConfig
from mlfleet.serving.server.resilience_options import (
    rank_fallback_from_options,
    resilience_options,
)

SEEN: list[RankFallbackConfig] = []


@click.command("serve-like")
@resilience_options
def serve_like(**resilience: Any) -> None:
    SEEN.append(rank_fallback_from_options(resilience))


def test_defaults_leave_fallback_off_and_no_fault() -> None:
    SEEN.clear()
    assert run_command(serve_like, [], prog_name="x") == 0
    assert SEEN[0] == RankFallbackConfig() and len(SEEN) == 1


def test_options_build_the_config() -> None:
    SEEN.clear()
    argv = ["--fallback", "--fault", "slow", "--fault-delay-ms", "50", "--fault-fraction", "0.25"]
    assert run_command(serve_like, argv, prog_name="x") == 0
    assert SEEN[0].enabled
    assert SEEN[0].fault == FaultSpec(mode="slow", delay_s=0.05, fraction=0.25)


@pytest.mark.parametrize(("argv", "message"), [
    (["--fault-fraction", "1.5"], "--fault-fraction(=1.5) must be a fraction in [0, 1]"),
    (["--fault-delay-ms", "-1"], "--fault-delay-ms(=-1) must be a finite number >= 0"),
    (["--fault", "explode"], "'explode' is not one of"),
])
def test_bad_values_are_one_line(argv: list[str], message: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command(serve_like, argv, prog_name="x") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
