"""Where a book table sets a model beside a reference, the two agree (numbers in docs/book.md)."""

from __future__ import annotations

from mlfleet.book.registry import TABLES


def test_peeking_simulation_exact_and_armitage_agree() -> None:
    """Simulated vs exact within 3 standard errors; exact vs Armitage et al. (1969, Table 2)
    within the published rounding (0.0005)."""
    rows = TABLES["ops.peeking"].build().rows
    for looks, simulated, se, exact, armitage, msprt in rows:
        assert isinstance(simulated, float) and isinstance(se, float)
        assert isinstance(exact, float) and isinstance(armitage, float)
        assert abs(simulated - exact) <= 3 * se, looks
        assert abs(exact - armitage) <= 0.0005, looks
        assert isinstance(msprt, float) and msprt <= 0.05, looks  # always valid


def test_tco_hardware_per_gpu_within_5_percent_of_the_published_sheet() -> None:
    """The TCO model's GPUs + hosts + network per GPU against the H100 cluster cost sheet
    (catalog h100-cluster-sheet) where it publishes a figure: +4.3 % at 4,096, +1.2 % at 16,384."""
    checked = 0
    for row in TABLES["infra.tco-by-scale"].build().rows:
        model, published = row[2], row[3]
        if published is not None:
            assert isinstance(model, float) and isinstance(published, float)
            assert abs(model / published - 1.0) <= 0.05, row[0]
            checked += 1
    assert checked == 2


def test_sample_sizes_reach_their_power() -> None:
    """The achieved power of the rounded-up sample size is the requested 0.8 (exact inverse)."""
    for row in TABLES["ops.experiment-sample-size"].build().rows:
        assert isinstance(row[3], float) and 0.8 <= row[3] < 0.8001, row[0]


def test_bus_bandwidth_never_exceeds_the_link() -> None:
    for row in TABLES["comm.bus-bandwidth"].build().rows:
        assert isinstance(row[5], float) and 0.0 < row[5] <= 1.0, row[0]


def test_goodput_simulation_within_its_confidence_interval_of_daly() -> None:
    """Simulated wall time / Daly's eq. 20 within 95 % half-widths at every interval (the
    table's worst: 0.985 at 4 x the optimum, half-width 0.028)."""
    for row in TABLES["reliability.goodput-vs-interval"].build().rows:
        ratio, half = row[4], row[5]
        assert isinstance(ratio, float) and isinstance(half, float)
        assert abs(ratio - 1.0) <= half, row[0]
