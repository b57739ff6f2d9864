"""Inference tables: characteristics and batching strategy by model type.

Every number comes from :mod:`mlfleet.serving.models.tables` (``mlfleet serving tables``):
the outline's cells side by side with the roofline's on one accelerator.
"""

from __future__ import annotations

from typing import Any

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


LLM_LOADS = (5.0, 20.0, 80.0)
"""Mean requests per second of the LLM rows of the capacity table."""
RECSYS_LOADS = (1e4, 5e4, 2e5)
"""Mean requests per second of the recommendation rows."""
LLM_TRAFFIC: dict[str, Any] = {"prompt_tokens": 1000, "output_tokens": 130, "items_per_request": 1,
               "p99_s": None, "ttft_p99_s": 1.0}
"""A chat load: 1,000-token prompts, 130-token answers, TTFT p99 within 1 s."""
RECSYS_TRAFFIC: dict[str, Any] = {"prompt_tokens": None, "output_tokens": None, "items_per_request": 64,
                  "p99_s": 0.01}
"""A ranking load: 64 candidates per request, p99 within 10 ms."""


def capacity() -> BookTable:
    """Replicas and GPUs that meet a latency target at each load (``mlfleet serving replicas``)."""
    from mlfleet.catalog.types import Accelerator, Workload
    from mlfleet.serving.models.capacity import size_serving

    loads = [("Llama-3-8B", q, LLM_TRAFFIC) for q in LLM_LOADS] \
        + [("DLRM-DCNv2", q, RECSYS_TRAFFIC) for q in RECSYS_LOADS]
    body: list[tuple[Cell, ...]] = []
    for name, qps, traffic in loads:
        c = size_serving(workload=Workload.from_name(name),
                         accelerator=Accelerator.from_name(ACCELERATOR), gpus=None,
                         gpus_per_node=8, qps=qps, peak_to_mean=1.0, precision=PRECISION,
                         **traffic)
        target = "TTFT p99 1 s" if name.startswith("Llama") else "p99 10 ms"
        body.append((name, target, qps, c.replicas, c.gpus_needed, c.p50_s * 1e3,
                     c.p99_s * 1e3, None if c.ttft_p99_s is None else c.ttft_p99_s * 1e3,
                     c.slo_met, c.bottleneck))
    return BookTable(
        id="serving.capacity",
        title=f"Serving capacity: replicas and GPUs ({ACCELERATOR}, {PRECISION}) that meet a "
              "latency target, by load",
        columns=(Column(name="workload"), Column(name="target"),
                 Column(name="load", unit="requests/s"),
                 Column(name="replicas", fidelity="model"), Column(name="GPUs", fidelity="model"),
                 Column(name="p50", unit="ms", fidelity="model"),
                 Column(name="p99", unit="ms", fidelity="model"),
                 Column(name="TTFT p99", unit="ms", fidelity="model"),
                 Column(name="target met"), Column(name="bottleneck")),
        rows=tuple(body), inputs=(_inputs()[0], CatalogInput(entry="Llama-3-8B"),
                                  CatalogInput(entry="DLRM-DCNv2")),
        notes=("Model: step times from the roofline step model, queueing by M/M/c (Erlang C) "
               "on batches; LLM: continuous batching with the KV cache bounding the batch "
               "(Kwon et al., vLLM, SOSP 2023) (mlfleet.serving.models.capacity).",
               "– : no time to first token for a ranking model."))
