"""Inference tables: characteristics and batching strategy by model type.

Every number comes from :mod:`mlfleet.serving.models.tables` (``mlfleet serving tables``):
the outline's cells side by side with the roofline's on one accelerator.
"""

from __future__ import annotations

from mlfleet.book.table import BookTable, CatalogInput, Cell, Column

ACCELERATOR = "H100-SXM"
PRECISION = "bf16"


def _inputs() -> tuple[CatalogInput, ...]:
    from mlfleet.serving.models.tables import WORKLOADS

    return (CatalogInput(entry=ACCELERATOR, paths=(f"flops_per_s.{PRECISION}",
                                                   "hbm_bw_bytes_per_s", "hbm_bytes")),
            *(CatalogInput(entry=w) for w in WORKLOADS))


_NOTE = ("Model: roofline of one request on one chip, time = max(FLOP / peak, bytes / "
         "bandwidth) (Williams et al. 2009); LLM rows: prefill of a 512-token prompt and one "
         "decode step (Pope et al. 2022) at the smallest tensor-parallel degree whose HBM holds "
         "the weights (mlfleet.serving.models.tables).")


def inference_characteristics() -> BookTable:
    """The outline's latency target, volume and bottleneck beside the computed ones."""
    from mlfleet.serving.models.tables import characteristics

    rows = characteristics(accelerator=ACCELERATOR, precision=PRECISION)
    body: list[tuple[Cell, ...]] = [
        (r.workload, r.family, r.spec_latency_target, r.spec_bottleneck,
         r.latency_batch1_s * 1e3, r.intensity_flop_per_byte, r.compute_bound_from_batch,
         r.computed_bottleneck) for r in rows]
    return BookTable(
        id="serving.inference-characteristics",
        title=f"Inference characteristics by model type on one {ACCELERATOR} ({PRECISION})",
        columns=(Column(name="workload"), Column(name="family"),
                 Column(name="outline: latency target"), Column(name="outline: bottleneck"),
                 Column(name="latency at batch 1", unit="ms", fidelity="model"),
                 Column(name="arithmetic intensity at batch 1", unit="FLOP/B",
                        fidelity="model"),
                 Column(name="compute-bound from batch", fidelity="model"),
                 Column(name="computed bottleneck")),
        rows=tuple(body), inputs=_inputs(),
        notes=(_NOTE, "– : memory-bound at any batch, or not computed (LLM, speech)."))


def batching_strategy() -> BookTable:
    """The outline's batching strategy per model type and the computed reason for it."""
    from mlfleet.serving.models.tables import batching

    rows = batching(accelerator=ACCELERATOR, precision=PRECISION)
    body = [(r.workload, r.family, r.spec_strategy, r.recommended, r.computed_reason)
            for r in rows]
    return BookTable(
        id="serving.batching-strategy",
        title=f"Batching strategy by model type, with the computed reason ({ACCELERATOR})",
        columns=(Column(name="workload"), Column(name="family"),
                 Column(name="outline: strategy"), Column(name="recommended"),
                 Column(name="computed reason", fidelity="model")),
        rows=tuple(body), inputs=_inputs(),
        notes=(_NOTE, "Static-batch waste: with exponential output lengths a batch of B idles "
               "1 - 1/H_B of its slot-steps (H_B the harmonic number)."))
