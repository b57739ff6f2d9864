"""Validation provider of the kernel and step models (``mlfleet validate``): every published
GEMM, stream and decode/prefill point predicted from the others (:mod:`.loo`).

Goals (issue 17): within ±15 % for compute-bound GEMMs and prefill, ±25 % for decode steps of
an efficient engine (CUDA graph or a serving framework). Points the issue sets no goal for
(streams, GEMMs that are not compute-bound) are held to the GEMM goal. A point is asserted
unless it is listed in :data:`GOAL_MISSES` with the reason it misses; the list is fixed here,
not decided at run time, so a point that starts missing fails ``mlfleet validate``.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlfleet.infra.accel.loo import LooResult, leave_one_out
from mlfleet.infra.accel.published import load_points, sources
from mlfleet.validate.registry import Check, Context

KERNEL_GOAL = 0.15
"""±15 %: compute-bound GEMMs and prefill (issue 17); streams and other GEMMs held to it too."""
DECODE_GOAL = 0.25
"""±25 %: decode steps of an efficient engine (issue 17)."""
EFFICIENT_ENGINES = ("graph", "framework")

_TILE = ("N = 2145 is not a multiple of the 128-wide tiles cuBLAS uses: the partial last tile "
         "column wastes work the size-only kernel model does not see (it fits the square "
         "GEMMs around it)")
_SKINNY = ("a tall-skinny GEMM (N = 192, K = 768) near the ridge point reaches neither "
           "ceiling; the model's max(compute, memory) assumes the two overlap fully, and no "
           "other point of the part is this shape")
_PREFILL_FP8 = ("a compute-bound FP8 prefill on one GPU: the model runs its GEMMs at the fraction "
                "of large square cuBLASLt FP8 GEMMs (0.68 of peak) and reaches 54 % of the FP8 "
                "peak end to end; TensorRT-LLM reaches 46 % (-15.3 %; the H100 twin is -13.5 %)")
_PREFILL_TP = ("a compute-bound 2048-token prefill with tensor parallelism (tp 4 or 8): the model "
               "charges 160 AllReduces of the 2048 x 8192 activations at NCCL bus bandwidth "
               "(17-36 % of its step) and the sharded GEMMs at the large-square GEMM fraction, and is "
               "17-25 % fast where the tp-1 7B prefills are 8-15 % fast; no point in the set "
               "separates communication from the smaller sharded GEMMs")
_SGEMM = ("cuBLAS SGEMM (FP32 on CUDA cores) on H100 reaches 0.33, 0.68 and 0.75 of the FP32 "
          "peak at 2048^3, 4096^3 and 8192^3: its efficiency climbs with size far more than a "
          "fixed time per kernel expresses (a fit to all three needs 456 µs of it); held out, "
          "the point takes the compute fraction of the other two sizes only, so the smallest "
          "comes out too fast and the largest too slow")
GOAL_MISSES: dict[str, str] = {
    "a100-gemm-fp16-1024": ("the sweep's smallest GEMM (18 µs): held out, its fixed time is "
                            "extrapolated from the larger GEMMs, where it is a few percent of "
                            "the time and poorly determined"),
    "a100-gemm-fp16-1024x2145x1024": _TILE,
    "h100-gemm-fp8-1024x2145x1024": _TILE,
    "h200-gemm-fp8-1024x2145x1024": _TILE,
    "a100-gemm-fp16-802816x192x768": _SKINNY,
    "h100-gemm-fp8-802816x192x768": _SKINNY,
    "h200-gemm-fp8-802816x192x768": _SKINNY,
    "trtllm-a100-llama2-7b-decode-b32": (
        "its GEMMs have 32 rows (class gemm) and are memory-bound; the gemm memory fraction "
        "refitted without it comes from the only memory-bound gemm-class kernel point, the "
        "tall-skinny 802816x192x768 GEMM (itself a listed miss): 0.51 against the stream-derived "
        "0.79 of the defaults, with which this step is +6.6 %"),
    "trtllm-h200-llama2-7b-prefill-2048": _PREFILL_FP8,
    "trtllm-a100-llama2-70b-prefill-2048": _PREFILL_TP,
    "trtllm-h100-llama2-70b-prefill-2048": _PREFILL_TP,
    "trtllm-h200-llama2-70b-prefill-2048": _PREFILL_TP,
    "h100-gemm-fp32-2048": _SGEMM,
    "h100-gemm-fp32-8192": _SGEMM,
}
"""Published point id -> why the leave-one-out prediction misses its goal."""


def goal(result: LooResult) -> float:
    """The relative error bound a point is held to (see the module docstring)."""
    p = result.point
    if p.kind == "decode_step":
        return DECODE_GOAL
    return KERNEL_GOAL


def _quantity(result: LooResult) -> str:
    p = result.point
    shape = ", ".join(f"{k}={v}" for k, v in p.shape.items())
    engine = f" ({p.engine})" if p.engine else ""
    return f"{p.kind.replace('_', ' ')} time on {p.accelerator} {p.precision}{engine}, {shape} (s)"


def _note(result: LooResult) -> str:
    p = result.point
    if p.id in GOAL_MISSES:
        return GOAL_MISSES[p.id]
    if p.kind == "decode_step" and p.engine not in EFFICIENT_ENGINES:
        return ("eager decode: not an efficient engine, the issue's ±25 % goal does not apply; "
                "in sample: eager_issue_s was derived from the one published eager step over the "
                "ops the step model counts for it (mlfleet.infra.accel.eager_ops), and no other "
                "eager step exists to refit it from")
    return ""


def loo_check(result: LooResult) -> Check:
    """One published point, predicted without it, as a check."""
    p = result.point
    held = "goal" if p.id in GOAL_MISSES or (
        p.kind == "decode_step" and p.engine not in EFFICIENT_ENGINES) else "asserted"
    return Check(id=f"infra.accel.loo.{p.id}", chapter="infra", quantity=_quantity(result),
                 model="infra.accel.loo.predict_held_out (kernel model refitted without it)",
                 reference=f"{p.source}: {sources()[p.source]}", reference_kind="published",
                 reference_value=p.measured_s, predicted=result.predicted_s, bound=goal(result),
                 held=held, note=_note(result))


def checks_of(results: Sequence[LooResult]) -> list[Check]:
    return [loo_check(r) for r in results]


def provide(ctx: Context) -> list[Check]:
    """Leave-one-out checks of every published GEMM, stream and step point (about 2 s)."""
    del ctx  # deterministic: no randomness, no constants to override
    return checks_of(leave_one_out(load_points()))
