"""``mlfleet infra cases ...``: tables, JSON, and one-line errors for bad input."""

from __future__ import annotations

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main, run_main_json

PRICES = ["--peak-price", "$0.30/kWh", "--off-peak-price", "$0.12/kWh"]


def test_recsys_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "infra", "cases", "recsys")
    assert code == 0
    for fragment in ("memory capacity", "memory bandwidth", "compute", "cpu-only", "gpu-only",
                     "hybrid", "NO (2 needed)"):
        assert fragment in out


def test_recsys_json(capsys: pytest.CaptureFixture[str]) -> None:
    payload = run_main_json(capsys, "infra", "cases", "recsys", "--batch", "64", "--json")
    assert [s["split"] for s in payload["splits"]] == ["cpu-only", "gpu-only", "hybrid"]
    assert payload["workload"]["embedding_bytes"] == 104_542_509_056
    assert all(s["usd_per_million_samples"] > 0 for s in payload["splits"])


def test_gpu_fallacy_json(capsys: pytest.CaptureFixture[str]) -> None:
    payload = run_main_json(capsys, "infra", "cases", "gpu-fallacy", "--tables", "48TB",
                            "--rates", "1e6", "--core-rate", "500", "--gpu-rates", "3000",
                            "--json")
    (row,) = payload["fleet"]
    assert {f["split"]: f["gpus"] for f in row}["gpu-only"] == 600
    assert payload["preprocessing"]["rows"] == [{"gpu_samples_per_s": 3000.0,
                                                 "cores_per_gpu": 6.0}]


def test_gpu_fallacy_measures_this_host(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "infra", "cases", "gpu-fallacy", "--tables", "1TB",
                            "--rates", "1e5")
    assert code == 0 and "measured on this host" in out


def test_dojo(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "infra", "cases", "dojo")
    assert code == 0 and "0.905" in out and "0.600" in out and "0.560" in out
    payload = run_main_json(capsys, "infra", "cases", "dojo", "--defects-per-cm2", "0", "--json")
    assert payload["yield"]["die_yield"] == 1.0


def test_electricity(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "infra", "cases", "electricity", *PRICES)
    assert code == 0 and "$164,250" in out and "solar PPA" in out
    payload = run_main_json(capsys, "infra", "cases", "electricity", *PRICES, "--json")
    assert payload["tariff"]["peak_hours"] == 5.0          # PG&E 4-9 p.m.
    assert payload["shift"]["saving_usd_per_day"] == pytest.approx(450.0)


@pytest.mark.parametrize(("args", "fragments"), [
    (["electricity", "--peak-price", "$-0.3/kWh", "--off-peak-price", "$0.1/kWh"],
     ["--peak-price(=-0.3)", ">= 0"]),
    (["electricity", *PRICES, "--deferrable", "1.5"], ["deferrable(=1.5)", "[0, 1]"]),
    (["electricity", *PRICES, "--capacity", "0.5MW"], ["capacity", "load"]),
    (["electricity", *PRICES, "--peak-hours", "30"], ["peak hours(=30", "[0, 24]"]),
    (["recsys", "--gpu", "B2000"], ["B2000", "closest"]),
    (["recsys", "--workload", "Llama-3-8B"], ["not a recommendation model"]),
    (["recsys", "--gpu", "MI300X"], ["MI300X", "purchase price"]),
    (["recsys", "--cpu", "H100"], ["do not fit"]),
    (["gpu-fallacy", "--tables", "0TB", "--core-rate", "1"], ["--tables(=0)"]),
    (["gpu-fallacy", "--rates", "1e6,x", "--core-rate", "1"], ["--rates", "numbers"]),
    (["gpu-fallacy", "--core-rate", "-5"], ["--core-rate(=-5"]),
    (["dojo", "--defects-per-cm2", "-1"], ["--defects-per-cm2(=-1"]),
])
def test_bad_input_is_one_line_exit_2(args: list[str], fragments: list[str]) -> None:
    assert_one_line_error(run_cli("infra", "cases", *args), *fragments)
