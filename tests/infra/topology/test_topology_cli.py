"""``mlfleet infra topology``: every sub-command's JSON, and one-line errors (exit 2)."""

from __future__ import annotations

import json

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    code, out, err = run_main(capsys, "infra", "topology", *args, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert isinstance(payload, dict)
    return payload


def test_build_and_bisection(capsys: pytest.CaptureFixture[str]) -> None:
    built = _json(capsys, "build", "--k", "4")
    counts = built["counts"]
    assert isinstance(counts, dict) and counts["nodes: core"] == 4
    assert counts["bisection (max-flow), B/s"] == 16 * 50e9 / 2
    report = _json(capsys, "bisection", "--k", "8", "-o", "2")
    values = {m["method"]: m["bisection_bw_bytes_per_s"] for m in report["methods"]}  # type: ignore[attr-defined]
    assert set(values.values()) == {128 * 50e9 / 2 / 2}
    assert len(values) == 3


def test_route_names_the_bottleneck(capsys: pytest.CaptureFixture[str]) -> None:
    report = _json(capsys, "route", "--k", "4", "-o", "2", "--placement", "strided",
                   "--size", "16MB", "--latency", "0")
    assert report["bottleneck"]["tier"] == "edge-agg"  # type: ignore[index]
    assert report["time_s"] == pytest.approx(30 * 1e6 / 25e9)


def test_case_studies_and_cost(capsys: pytest.CaptureFixture[str]) -> None:
    superpod = _json(capsys, "case-study", "superpod", "--sus", "4")
    rows = {r["quantity"]: r for r in superpod["rows"]}  # type: ignore[attr-defined]
    assert rows["spine switches"]["published"] == rows["spine switches"]["computed"] == 16
    tpu = _json(capsys, "case-study", "tpu-v4")
    assert {r["quantity"] for r in tpu["rows"]} >= {"chips", "optical circuit switches"}  # type: ignore[attr-defined]
    bill = _json(capsys, "cost", "--endpoints", "1024", "--kind", "rail-optimized", "--rails", "8")
    assert bill["switches_by_tier"] == {"leaf": 32, "spine": 16}


def test_compare_tables(capsys: pytest.CaptureFixture[str]) -> None:
    rail = _json(capsys, "compare", "--table", "rail", "--nodes", "4")
    assert rail["columns"] == ["top-of-rack", "rail-optimized"]
    comm = _json(capsys, "compare", "--table", "comm", "--nodes", "2")
    assert [r["metric"] for r in comm["rows"]][:3] == [  # type: ignore[attr-defined]
        "ring", "double_binary_tree", "hierarchical"]


@pytest.mark.parametrize(("args", "fragment"), [
    (["build", "--k", "5"], "k(=5) must be an even integer"),
    (["bisection", "-o", "0.5"], "oversubscription(=0.5)"),
    (["cost", "--endpoints", "64", "--switch", "QM9999"], "'QM9999'"),
    (["build", "--kind", "torus", "--dims", "4x0x4"], "torus dims(=4x0x4)"),
    (["route", "--kind", "torus", "--dims", "64x64x64"], "262,144 chips"),
])
def test_bad_input_is_one_line_exit_2(args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli("infra", "topology", *args), fragment)
