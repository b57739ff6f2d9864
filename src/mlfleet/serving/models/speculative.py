"""Speculative decoding: tokens per target step and the speed-up, vs acceptance rate.

Leviathan, Kalman & Matias 2023 ("Fast Inference from Transformers via Speculative
Decoding", ICML): a draft model proposes k tokens; the target model scores all k + 1
positions in one step and accepts draft token x with probability min(1, p(x)/q(x)),
stopping at the first rejection and emitting one token of its own (a resample from
norm(max(0, p - q)) after a rejection, or a bonus token when all k are accepted). The
output has exactly the target's distribution. With the acceptance of each draft token
i.i.d. with rate α (α = E[Σ_x min(p(x), q(x))], their §3.1):

    E[tokens per target step] = (1 - α^(k+1)) / (1 - α)                  (eq. 1)
    speed-up = (1 - α^(k+1)) / ((1 - α)(k·c + 1))                         (Thm 3.8)

with c the cost of one draft step relative to one target step. With step times from
:mod:`~mlfleet.serving.models.llm_step` the same accounting gives seconds per token:
(k·t_draft + t_verify(k+1 tokens)) / E[tokens], where verifying k + 1 tokens costs
little more than one decode step while decode is memory-bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import (
    FloatArray,
    fraction_array,
    non_negative_array,
    positive_array,
    positive_int,
    whole_array,
)
from mlfleet.errors import ServingInputError
from mlfleet.infra.memory_fit import MemoryFit
from mlfleet.serving.models.llm_step import LlmStepModel
from mlfleet.serving.models.step_memory import smallest_fitting_tp, step_memory


def expected_tokens_per_step(alpha: npt.ArrayLike, k: npt.ArrayLike) -> FloatArray:
    """(1 - α^(k+1)) / (1 - α): tokens one target step yields (k + 1 when α = 1)."""
    a = fraction_array("alpha", alpha, error=ServingInputError)
    n = whole_array("k", k, minimum=0, error=ServingInputError)
    with np.errstate(divide="ignore", invalid="ignore"):
        geometric = (1.0 - a ** (n + 1.0)) / (1.0 - a)
    return np.asarray(np.where(a == 1.0, n + 1.0, geometric))


def speedup(alpha: npt.ArrayLike, k: npt.ArrayLike, draft_cost_ratio: npt.ArrayLike) -> FloatArray:
    """Wall-time speed-up over plain decoding (Leviathan et al. 2023, Thm 3.8)."""
    c = non_negative_array("draft_cost_ratio", draft_cost_ratio, error=ServingInputError)
    n = whole_array("k", k, minimum=0, error=ServingInputError)
    return np.asarray(expected_tokens_per_step(alpha, n) / (n * c + 1.0))


def optimal_k(alpha: npt.ArrayLike, draft_cost_ratio: npt.ArrayLike, *,
              k_max: int = 16) -> tuple[FloatArray, FloatArray]:
    """(best k in 0..k_max, its speed-up) elementwise; k = 0 means "do not speculate"."""
    ks = np.arange(positive_int("k_max", k_max, error=ServingInputError) + 1, dtype=np.float64)
    a = fraction_array("alpha", alpha, error=ServingInputError)[..., None]
    c = non_negative_array("draft_cost_ratio", draft_cost_ratio, error=ServingInputError)[..., None]
    table = speedup(a, ks, c)  # (..., k)
    best = np.argmax(table, axis=-1)
    return ks[best].astype(np.float64), np.take_along_axis(table, best[..., None], -1)[..., 0]


def acceptance_rate(p: npt.ArrayLike, q: npt.ArrayLike) -> float:
    """β = Σ_x min(p(x), q(x)) = 1 - TV(p, q) for one position's target p and draft q."""
    pp = non_negative_array("p", p, error=ServingInputError)
    qq = non_negative_array("q", q, error=ServingInputError)
    return float(np.minimum(pp / pp.sum(), qq / qq.sum()).sum())


@dataclass(frozen=True, kw_only=True)
class SpeculativeTime:
    """Seconds per generated token with and without speculation (broadcast arrays)."""

    time_per_token_s: FloatArray
    baseline_time_per_token_s: FloatArray
    """One target decode step per token."""
    draft_s: FloatArray
    """k draft decode steps."""
    verify_s: FloatArray
    """One target step over k + 1 tokens per sequence."""
    tokens_per_step: FloatArray
    """Expected tokens per draft-and-verify round."""

    @property
    def speedup(self) -> FloatArray:
        return np.asarray(self.baseline_time_per_token_s / self.time_per_token_s)


def speculative_time(target: LlmStepModel, draft: LlmStepModel, *, batch: npt.ArrayLike,
                     context_len: npt.ArrayLike, alpha: npt.ArrayLike,
                     k: npt.ArrayLike) -> SpeculativeTime:
    """Per-token time of speculative decoding with step times from the two models.

    Verification of k + 1 tokens for each of ``batch`` sequences is a chunked prefill
    of k + 1 tokens after a prefix of ``context_len`` tokens on the target.
    """
    b = positive_array("batch", batch, error=ServingInputError)
    ctx = non_negative_array("context_len", context_len, error=ServingInputError)
    n = whole_array("k", k, minimum=0, error=ServingInputError)
    e = expected_tokens_per_step(alpha, n)
    baseline = target.decode(batch=b, context_len=ctx).time_s
    draft_s = n * draft.decode(batch=b, context_len=ctx).time_s
    chunk = n + 1.0
    verify = target.iteration(prefill_tokens=b * chunk,
                              prefill_pairs=b * (chunk * ctx + chunk * (chunk + 1.0) / 2.0),
                              prefill_prefix_tokens=b * ctx).time_s
    return SpeculativeTime(time_per_token_s=np.asarray((draft_s + verify) / e),
                           baseline_time_per_token_s=np.asarray(baseline * np.ones_like(e)),
                           draft_s=np.asarray(draft_s), verify_s=np.asarray(verify),
                           tokens_per_step=e)


def speculative_memory(target: LlmStepModel, draft: LlmStepModel, *, batch: npt.ArrayLike,
                       context_len: npt.ArrayLike, k: npt.ArrayLike) -> MemoryFit | None:
    """Memory of the busiest GPU: one target shard at the verify step (KV of context + k + 1
    tokens per sequence) plus the whole draft (the draft runs on one of the target's GPUs,
    KV of context + k tokens); activations are the larger of the two, since the models run
    in turn. ``smallest_fit`` is the smallest target tp that fits with the draft beside it;
    None when the device's memory is unknown."""
    device_bytes = target.device.hbm_bytes
    if device_bytes is None:
        return None
    b = positive_array("batch", batch, error=ServingInputError)
    ctx = non_negative_array("context_len", context_len, error=ServingInputError)
    n = whole_array("k", k, minimum=0, error=ServingInputError)
    drafted = draft_memory(draft, batch=b, context_len=ctx, k=n)
    verified = step_memory(target, prefill_tokens=b * (n + 1.0), decode_context_tokens=b * ctx)
    assert drafted is not None and verified is not None  # same device, memory known
    room = float(device_bytes) - drafted.weight_bytes - drafted.kv_cache_bytes
    tp = smallest_fitting_tp(target, tokens=np.asarray(b * (n + 1.0)),
                             cached=np.asarray(b * (ctx + n + 1.0)),
                             microbatches=np.ones(()), device_bytes=room)
    return MemoryFit(
        weight_bytes=verified.weight_bytes + drafted.weight_bytes, optimizer_bytes=np.zeros(()),
        kv_cache_bytes=verified.kv_cache_bytes + drafted.kv_cache_bytes,
        activation_bytes=np.maximum(verified.activation_bytes, drafted.activation_bytes),
        device_bytes=float(device_bytes), smallest_fit=tp)


def draft_memory(draft: LlmStepModel, *, batch: FloatArray, context_len: FloatArray,
                 k: FloatArray) -> MemoryFit | None:
    """The draft's last decode step: context + k tokens cached per sequence after it."""
    return step_memory(draft, decode_seqs=batch,
                       decode_context_tokens=batch * np.maximum(context_len + k - 1.0, 0.0))
