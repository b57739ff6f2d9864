"""``mlfleet sim degrade``: JSON output, one-line errors, and every option under bad values."""

from __future__ import annotations

import json

import click
import pytest

from cli_fuzz_args import FLOATS, SMALL_DEFAULTS
from cli_helpers import assert_one_line_error, run_cli, run_main
from mlfleet.reliability.degradation.cli import degrade_group

COMMANDS = sorted(degrade_group.commands)


def test_geo_json_has_model_and_simulation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "sim", "degrade", "geo", "--samples", "2000", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["with_failover"]["model"]["availability"] \
        > data["without_failover"]["model"]["availability"]


def test_llm_inflight_simulated_points(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "sim", "degrade", "llm-inflight", "--output", "20",
                            "--points", "3", "--simulate", "--json")
    assert code == 0
    point = json.loads(out)["points"][-1]
    assert point["simulated_extra_latency_s"]["regenerate"] == pytest.approx(
        point["regenerate"]["extra_latency_s"], rel=1e-6)


@pytest.mark.parametrize(("args", "fragment"), [
    (["feature-fallback", "--store-availability", "1.5"], "1.5"),
    (["geo", "--rtt-ms", "5,60;60"], "5,60;60"),
    (["geo", "--mtbf", "1e999s"], "--mtbf"),
    (["quality", "--delta", "x"], "'x'"),
    (["llm-inflight", "--workload", "nope"], "nope"),
])
def test_bad_input_is_one_line(args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli("sim", "degrade", *args), fragment)


BAD_TEXTS = ["", "x", "-1", "0", "nan", "inf", "1e999", "-1s", "1us", "5,60;60,5", "0.5"]


@pytest.mark.slow
@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_ends_in_0_or_2_without_traceback(
        name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each option of each command alone with each of the fuzz's bad floats and texts."""
    command = degrade_group.commands[name]
    small = SMALL_DEFAULTS.get(("sim", "degrade", name), [])
    for param in command.params:
        if not isinstance(param, click.Option) or param.is_flag or param.name == "help":
            continue
        for value in sorted({*FLOATS, *BAD_TEXTS}):
            code, out, err = run_main(capsys, "sim", "degrade", name, *small,
                                      param.opts[0], value)
            assert code in (0, 2), (param.opts[0], value, err)
            assert "Traceback" not in out + err
            if code == 2:
                assert len(err.strip().splitlines()) == 1, (param.opts[0], value, err)
