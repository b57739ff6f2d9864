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


def test_collective_patterns_match_the_outline_and_a_hand_count() -> None:
    """The outline's table (model type -> primary collective, gradient type, volume words),
    and two volumes counted by hand from the published shapes: Llama-3-8B's gradients,
    8,030,261,248 params (8.03 B published) x 2 B = 16,060 MB; Mixtral-8x7B's routed tokens, 32,768 tokens x 4,096 x
    top-2 x 2 (dispatch + combine) x 32 layers x 2 (fwd + bwd) x 2 B = 68,719 MB."""
    rows = {row[1]: row for row in TABLES["comm.collective-by-model-type"].build().rows}
    outline = {"Llama-3-8B": ("allreduce", "dense", "High"),
               "ResNet-50": ("allreduce", "dense", "Moderate"),
               "DLRM-DCNv2": ("alltoall", "sparse (embeddings)", None),
               "Mixtral-8x7B": ("alltoall", "selective (routed tokens)", None),
               "GraphSAGE-products": ("neighbour_exchange", "irregular", None)}
    for name, (primary, gradient, volume) in outline.items():
        assert rows[name][2:4] == (primary, gradient), name
        if volume is not None:
            assert rows[name][5] == volume, name
    assert rows["Llama-3-8B"][4] == 8_030_261_248 * 2 / 1e6  # the catalog's exact count
    moe = rows["Mixtral-8x7B"][4]
    assert isinstance(moe, float) and abs(moe - 32768 * 4096 * 2 * 2 * 32 * 2 * 2 / 1e6) < 1e-6
