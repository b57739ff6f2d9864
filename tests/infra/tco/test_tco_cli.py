"""``mlfleet infra tco ...``: tables, JSON and one-line refusals of bad input."""

from __future__ import annotations

import json

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main, run_main_json


def test_compare_json_matches_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "infra", "tco", "compare", "--accelerator", "H100-SXM",
                        "--gpus", "1024", "--utilization", "0.6", "--electricity", "$0.08/kWh",
                        "--pue", "1.3", "--years", "4")
    owned = doc["owned"]
    assert owned["inputs"]["pue"] == 1.3 and owned["inputs"]["electricity_usd_per_kwh"] == 0.08
    assert owned["years"] == pytest.approx(4.0)
    tiers = {t["tier"]: t for t in doc["tiers"]}
    assert set(tiers) == {"on-demand", "reserved-1y", "reserved-3y", "spot"}
    assert tiers["on-demand"]["breakeven_utilization"] == pytest.approx(
        owned["usd_per_year"] / (1024 * 365.2425 * 24 * tiers["on-demand"]["usd_per_gpu_h"]))


def test_compare_table_names_its_sources(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "infra", "tco", "compare", "--gpus", "64",
                            "--offer", "lambda-h100")
    assert code == 0
    for fragment in ("accelerators", "CNBC", "Cushman", "fabric_bill", "on-demand", "spot",
                     "lambda-h100"):
        assert fragment in out


@pytest.mark.parametrize("command", [
    ["breakeven"], ["breakeven", "--cloud-prices", "$2/h,$8/h"], ["sensitivity"],
    ["scale", "--scales", "8,1024"], ["scaling", "--gpus", "1,64,4096"],
    ["hybrid", "--gpus", "64", "--hours", "48"],
])
def test_each_command_prints_a_table_and_json(capsys: pytest.CaptureFixture[str],
                                              command: list[str]) -> None:
    code, out, err = run_main(capsys, "infra", "tco", *command)
    assert code == 0 and out.strip(), err
    code, out, err = run_main(capsys, "infra", "tco", *command, "--json")
    assert code == 0, err
    assert json.loads(out)["fidelity"] == "model"


def test_scaling_reports_the_knee(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_main_json(capsys, "infra", "tco", "scaling", "--workload", "Llama-3-8B")
    s = doc["scaling"]
    assert s["cheapest_gpus"] == 1 and 1 < s["knee_gpus"] < 16384
    assert s["points"][-1]["efficiency"] < 0.5


@pytest.mark.parametrize(("args", "fragments"), [
    (["compare", "--electricity", "$-0.1/kWh"], ["--electricity", "-0.1"]),
    (["compare", "--utilization", "1.5"], ["--utilization(=1.5)", "(0, 1]"]),
    (["compare", "--utilization", "0"], ["--utilization(=0)"]),
    (["compare", "--accelerator", "H900"], ["unknown accelerator name 'H900'"]),
    (["compare", "--years", "0"], ["--years(=0) must be > 0"]),
    (["compare", "--years", "-2"], ["--years(=-2)"]),
    (["compare", "--cloud-price", "$-3/h"], ["--cloud-price"]),
    (["compare", "--pue", "0.9"], ["pue(=0.9)"]),
    (["compare", "--offer", "aws-p4d"], ["prices A100-40GB, not H100-SXM"]),
    (["breakeven", "--cloud-prices", "$2/h,,"], ["--cloud-prices"]),
    (["sensitivity", "--pues", "0.5"], ["--pues"]),
    (["scale", "--scales", "0,8"], ["--scales"]),
    (["scaling", "--gpus", "65536"], ["gpus(=65536)"]),
    (["scaling", "--workload", "nope"], ["unknown workload name 'nope'"]),
    (["hybrid", "--amplitude", "1.5"], ["--amplitude(=1.5)"]),
    (["compare", "--gpus-per-admin", "0"], ["--gpus-per-admin(=0)"]),
    (["compare", "--maintenance", "2"], ["--maintenance(=2)"]),
    (["scale", "--storage-per-gpu", "-1TB"], ["--storage-per-gpu"]),
    (["hybrid", "--mean-gpus", "-3"], ["--mean-gpus(=-3)"]),
])
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], args: list[str],
                                      fragments: list[str]) -> None:
    code, out, err = run_main(capsys, "infra", "tco", *args)
    lines = err.strip().splitlines()
    assert code == 2 and not out and len(lines) == 1 and lines[0].startswith("error: "), err
    assert all(f in lines[0] for f in fragments), (fragments, lines[0])


def test_bad_input_from_a_real_process_has_no_traceback() -> None:
    assert_one_line_error(run_cli("infra", "tco", "compare", "--electricity", "$-0.1/kWh"),
                          "--electricity")
    assert_one_line_error(run_cli("infra", "tco", "scale", "--years", "0"), "--years(=0)")


def test_assumptions_are_options(capsys: pytest.CaptureFixture[str]) -> None:
    base = run_main_json(capsys, "infra", "tco", "compare", "--gpus", "64")["owned"]
    lean = run_main_json(capsys, "infra", "tco", "compare", "--gpus", "64", "--gpus-per-admin",
                         "1000", "--maintenance", "0", "--storage-per-gpu", "0")["owned"]
    assert lean["opex"]["staff_usd_per_year"] == pytest.approx(
        base["opex"]["staff_usd_per_year"] / 2)
    assert lean["opex"]["maintenance_usd_per_year"] == 0.0
    assert lean["opex"]["storage_usd_per_year"] == 0.0
    assert lean["owned_usd_per_gpu_h"] < base["owned_usd_per_gpu_h"]
