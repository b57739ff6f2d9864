"""Feature drift: PSI against its exact binned value for a normal mean shift, detection
rates of planted shifts, and the CSV files the command reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cli_helpers import assert_one_line_error, run_cli
from mlfleet.ops.debug.drift import detection_rate, psi_of_normal_shift, psi_verdict
from mlfleet.ops.debug.log_reader import DebugInputError
from mlfleet.ops.debug.series_file import read_columns

N = 2000
SEEDS = range(200)


@pytest.mark.parametrize("delta", [0.0, 0.3, 0.5, 1.0])
def test_mean_psi_equals_the_binned_divergence_plus_the_sampling_bias(delta: float) -> None:
    got = detection_rate(delta, seeds=SEEDS, n=N)
    # E[PSI] ≈ exact binned PSI + (B - 1)(1/n + 1/m) (its chi-square sampling bias,
    # Yurdakul 2018). Observed: 0.0092 vs 0.0090; 0.0956 vs 0.0951; 0.2474 vs 0.2467;
    # 0.9424 vs 0.9351 (0.8 %).
    expected = psi_of_normal_shift(delta) + 9 * (2 / N)
    assert got.psi_mean == pytest.approx(expected, rel=0.02, abs=0.001)


def test_binned_psi_is_a_little_below_the_unbinned_divergence() -> None:
    for delta in (0.1, 0.3, 0.5, 1.0):  # J-divergence of N(δ,1) vs N(0,1) is δ²
        assert 0.9 * delta**2 < psi_of_normal_shift(delta) < delta**2


@pytest.mark.parametrize(("delta", "psi_rate", "ks_rate"), [
    (0.0, (0.0, 0.0), (0.0, 0.03)),    # observed PSI 0.00, KS 0.020 (alpha 0.01)
    (0.1, (0.0, 0.0), (0.4, 0.7)),     # observed 0.00, 0.56
    (0.3, (0.2, 0.6), (1.0, 1.0)),     # observed 0.38, 1.00: PSI 0.1 sits at δ ≈ 0.32
    (0.5, (1.0, 1.0), (1.0, 1.0)),     # observed 1.00, 1.00
])
def test_detection_rate_of_planted_shifts(delta: float, psi_rate: tuple[float, float],
                                          ks_rate: tuple[float, float]) -> None:
    got = detection_rate(delta, seeds=SEEDS, n=N)
    assert psi_rate[0] <= got.psi_rate <= psi_rate[1]
    assert ks_rate[0] <= got.ks_rate <= ks_rate[1]


def test_verdicts_follow_the_convention() -> None:
    assert [psi_verdict(v) for v in (0.05, 0.1, 0.2, 0.25, 1.0)] == [
        "stable", "moderate", "moderate", "shifted", "shifted"]


def test_csv_errors_name_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("a,b\n1,2\n3,x\n")
    with pytest.raises(DebugInputError, match=r"s.csv:3: b='x' must be a finite number"):
        read_columns(path)
    with pytest.raises(DebugInputError, match="has no column 'c'; it has: a, b"):
        read_columns(path, ["c"])
    path.write_text("")
    with pytest.raises(DebugInputError, match="no header"):
        read_columns(path)


def test_cli_flags_the_shifted_column_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.write_text("a,b\n" + "".join(f"{u},{v}\n" for u, v in rng.normal(size=(2000, 2))))
    cur.write_text("a,b\n" + "".join(f"{u},{v + 0.5}\n" for u, v in rng.normal(size=(2000, 2))))
    import json

    proc = run_cli("ops", "debug", "drift", str(ref), str(cur), "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["column"]: r for r in json.loads(proc.stdout)["columns"]}
    assert not rows["a"]["drifted_psi"] and rows["b"]["drifted_psi"]
    assert rows["b"]["psi_verdict"] == "shifted"
    other = tmp_path / "other.csv"
    other.write_text("c\n1\n")
    assert_one_line_error(run_cli("ops", "debug", "drift", str(ref), str(other)),
                          "has no column 'a'")
