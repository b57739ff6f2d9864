"""Every ``--json`` command prints strict JSON: no ``Infinity`` / ``NaN`` (issue 10 item 11).

The commands come from the CLI tree (``cli_tree.leaf_commands``), so a new command with
``--json`` fails :func:`test_every_json_command_is_covered` until it gets small arguments
in ``cli_cases.CASES`` or a reason to be excluded here.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from typing import Any, NoReturn

import numpy as np
import pytest

from cli_cases import CASES
from cli_helpers import run_main
from cli_tree import has_json_flag, leaf_commands
from live_server import live_server
from mlfleet import strict_json

# Run by test_loadgen_json_is_strict against a real server (tiny models) on a thread.
LOADGEN = ("loadgen",)
EXCLUDED: dict[tuple[str, ...], str] = {
    ("lab", "hosts", "up"): "creates network namespaces (root): its --json is parsed with "
                            "strict_loads in tests/comm/test_lab_root.py, which CI runs as root",
}


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"non-standard JSON constant {name}")


def strict_loads(text: str) -> Any:
    """``json.loads`` that rejects ``Infinity``, ``-Infinity`` and ``NaN``."""
    return json.loads(text, parse_constant=_refuse_constant)


def _cases() -> list[Any]:
    return [pytest.param(path, args, id=" ".join((*path, *args)))
            for path, arg_lists in CASES.items() for args in arg_lists]


def test_every_json_command_is_covered() -> None:
    with_json = {path for path, command in leaf_commands().items() if has_json_flag(command)}
    covered = set(CASES) | set(EXCLUDED) | {LOADGEN}
    assert with_json - covered == set(), "give these --json commands small arguments in CASES"
    assert covered - with_json == set(), "these entries name no --json command"


@pytest.mark.parametrize(("path", "args"), _cases())
def test_json_output_is_strict(capsys: pytest.CaptureFixture[str], path: tuple[str, ...],
                               args: list[str]) -> None:
    code, out, err = run_main(capsys, *path, *args, "--json")
    assert code in (0, 3), err
    strict_loads(out)


def test_roofline_infinite_intensity_is_null_with_its_reason(
        capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_main(capsys, "infra", "roofline", "-a", "H100", "--flop", "1e12",
                         "--bytes", "0", "--json")
    row = strict_loads(out)["rows"][0]
    assert row["arithmetic_intensity"] is None
    assert "0 bytes" in row["arithmetic_intensity_null_reason"]


@pytest.fixture
def rank_url() -> Iterator[str]:
    with live_server() as urls:
        yield urls["rank"]


def test_loadgen_json_is_strict(capsys: pytest.CaptureFixture[str], rank_url: str) -> None:
    code, out, err = run_main(capsys, "loadgen", "--url", rank_url, "--rate", "20",
                              "--duration", "0.3", "--seed", "1", "--json")
    assert code == 0, err
    assert strict_loads(out)["requests"] > 0


@dataclasses.dataclass
class _Row:
    value_s: float
    array: Any


def test_to_strict_turns_every_non_finite_float_into_null_with_a_reason() -> None:
    payload = {"a": math.inf, "b": [1.0, math.nan], "c": np.float64(-np.inf),
               "d": _Row(value_s=math.inf, array=np.array([1.0, np.inf])), "e": (1, 2),
               "f": {"g": np.int64(3)}, "h": math.nan, "h_null_reason": "given by the command"}
    out = strict_loads(strict_json.dumps(payload, null_reasons={"c": "no link"}))
    assert out["a"] is None and "+infinite" in out["a_null_reason"]
    assert out["b"] == [1.0, None] and "NaN" in out["b_null_reason"]
    assert out["c"] is None and out["c_null_reason"] == "no link"
    assert out["d"]["value_s"] is None and out["d"]["array"] == [1.0, None]
    assert {"value_s_null_reason", "array_null_reason"} <= set(out["d"])
    assert out["e"] == [1, 2] and out["f"] == {"g": 3}
    assert out["h"] is None and out["h_null_reason"] == "given by the command"


def test_finite_payloads_are_unchanged() -> None:
    payload = {"x": 1.5, "y": [1, "two", None, True], "z": {"w": 0.0}}
    assert strict_json.to_strict(payload) == payload
    assert "null_reason" not in strict_json.dumps(payload)


def test_emit_json_never_writes_non_standard_constants(
        capsys: pytest.CaptureFixture[str]) -> None:
    from mlfleet.cli import emit_json

    emit_json({"inf": math.inf, "ninf": -math.inf, "nan": math.nan})
    text = capsys.readouterr().out
    assert "Infinity" not in text and "NaN" not in text.replace("(NaN)", "")
    strict_loads(text)


def test_unserialisable_value_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not JSON-serialisable: object"):
        strict_json.dumps({"x": object()})
