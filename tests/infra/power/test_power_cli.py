"""``mlfleet infra accelerators`` and ``mlfleet infra power ...``: tables, JSON, bad input."""

from __future__ import annotations

import json

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main


def test_accelerators_table_has_sources_as_footnotes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "infra", "accelerators")
    assert code == 0
    for fragment in ("B200", "2.25", "H100-SXM", "1.41", "TPU-v4", "1.43", "n/p", "[1] "):
        assert fragment in out


def test_accelerators_json_rows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "infra", "accelerators", "--json", "-a", "H100", "-a", "A100")
    rows = {r["name"]: r for r in json.loads(out)["rows"]}
    assert code == 0 and set(rows) == {"H100-SXM", "A100-80GB"}
    assert rows["H100-SXM"]["flops_per_w"] == pytest.approx(989.5e12 / 700)


def test_facility_json_for_a_catalog_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "infra", "power", "facility", "--cluster",
                            "H100-1k-fat-tree", "--json")
    fac = json.loads(out)["facility"]
    assert code == 0 and fac["racks"] == 32 and fac["node_power_basis"] == "given"
    assert fac["facility_power_w"] == pytest.approx(128 * 10_200 * 1.58)
    energy = json.loads(out)["energy_usd_per_year_at_full_power"]
    assert energy == pytest.approx(128 * 10_200 * 1.58 * 8760 * 0.0806 / 1000)


def test_facility_rack_kw_and_pue_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "infra", "power", "facility", "--gpus", "64", "-a", "H100",
                            "--rack-kw", "20.4", "--pue", "1.2", "--json")
    fac = json.loads(out)["facility"]
    assert code == 0 and (fac["nodes_per_rack"], fac["racks"], fac["pue"]) == (2, 4, 1.2)


def test_cap_nextgen_bandwidth_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "infra", "power", "cap", "-a", "H100", "--cap", "0.7",
                            "--json")
    assert code == 0 and 0.7 < json.loads(out)["cap"]["speed_ratio"] < 1
    code, out, _ = run_main(capsys, "infra", "power", "nextgen", "--from", "H100-SXM", "--to",
                            "B200", "--facility-mw", "20", "--json")
    assert code == 0 and json.loads(out)["nextgen"]["old_nodes"] == 1241
    code, out, _ = run_main(capsys, "infra", "power", "bandwidth", "--json")
    kinds = {r["model_type"] for r in json.loads(out)["rows"]}
    assert code == 0 and kinds == {"llm-train", "llm-decode", "cnn-conv", "recsys-embedding"}


def test_deep_cap_warns_outside_the_validated_range(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "infra", "power", "cap", "-a", "H100", "--cap", "0.5")
    assert code == 0 and "43.2%" in out and "warning: caps below 70 %" in err
    code, _, err = run_main(capsys, "infra", "power", "cap", "-a", "H100", "--cap", "0.8")
    assert code == 0 and "warning" not in err


@pytest.mark.parametrize(("args", "fragments"), [
    (["infra", "power", "facility", "--gpus", "8", "-a", "H10"], ["H10", "closest: H100-SXM"]),
    (["infra", "power", "facility", "--gpus", "8", "-a", "H100", "--pue", "0.9"], ["pue(=0.9)"]),
    (["infra", "power", "facility", "--gpus", "8", "-a", "H100", "--node-power", "-5kW"],
     ["--node-power"]),
    (["infra", "power", "facility", "--gpus", "8"], ["--accelerator"]),
    (["infra", "power", "facility", "--cluster", "DGX-H100", "--price", "$-0.1/kWh"],
     ["--price(=-0.1)", ">= 0"]),
    (["infra", "power", "cap", "-a", "H100", "--cap", "0"], ["cap(=0)", "(0, 1]"]),
    (["infra", "power", "cap", "-a", "H100", "--cap", "1.5"], ["cap(=1.5)"]),
    (["infra", "power", "nextgen", "--from", "H100", "--to", "B200", "--facility-mw", "-20"],
     ["--facility-mw(=-20)"]),
    (["infra", "accelerators", "-a", "B2000"], ["B2000", "closest"]),
])
def test_bad_input_is_one_line_exit_2(args: list[str], fragments: list[str]) -> None:
    assert_one_line_error(run_cli(*args), *fragments)


def test_node_over_the_rack_limit_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "infra", "power", "facility", "--gpus", "72", "-a", "B200",
                            "--gpus-per-node", "72", "--cooling", "air")
    assert code == 3 and "rack limit" in err
