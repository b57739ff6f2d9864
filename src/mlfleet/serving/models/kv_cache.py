"""KV cache: bytes per token, what fits beside the weights, and paged blocks.

Each token of each sequence keeps a key and a value vector per layer and KV head:

    kv_bytes_per_token = 2 · L · n_kv · Q · b_kv            (Pope et al. 2022, §2)

(Llama-3-8B at bf16: 2·32·8·128·2 = 131,072 B = 128 KiB.) On a replica sharded over
tp × pp GPUs one GPU holds ⌈L/pp⌉ layers and ⌈n_kv/tp⌉ heads (KV heads are replicated
when tp > n_kv), see :attr:`LlmStepModel.kv_bytes_per_token_per_gpu`.

Capacity follows vLLM (Kwon et al. 2023, "Efficient Memory Management for Large Language
Model Serving with PagedAttention", SOSP): the engine may use ``memory_utilization`` of
each GPU's memory (vLLM's ``gpu_memory_utilization``, default 0.9); what the weights and
the activation workspace leave is cut into blocks of ``block_tokens`` tokens (vLLM's
default block size is 16). A sequence of n tokens takes ⌈n/block⌉ blocks, so at most
block-1 slots per sequence are wasted (internal fragmentation), against the
max_len - n slots a contiguous per-sequence reservation wastes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.checks import (
    FloatArray,
    fraction,
    non_negative,
    non_negative_array,
    positive,
    positive_array,
    whole_array,
)
from mlfleet.errors import ServingInputError
from mlfleet.serving.models.llm_step import LlmStepModel

DEFAULT_MEMORY_UTILIZATION = 0.9
"""vLLM's default ``gpu_memory_utilization`` (vLLM engine arguments documentation)."""

DEFAULT_BLOCK_TOKENS = 16
"""vLLM's default KV block size in tokens (Kwon et al. 2023; vLLM ``--block-size``)."""


def kv_bytes_per_token(*, n_layers: npt.ArrayLike, n_kv_heads: npt.ArrayLike,
                       head_dim: npt.ArrayLike, kv_bytes_per_element: npt.ArrayLike
                       ) -> FloatArray:
    """K and V of one token over all layers: 2·L·n_kv·Q·b (bytes); vectorised."""
    layers = whole_array("n_layers", n_layers, error=ServingInputError)
    kv_heads = whole_array("n_kv_heads", n_kv_heads, error=ServingInputError)
    dim = whole_array("head_dim", head_dim, error=ServingInputError)
    element_bytes = positive_array("kv_bytes_per_element", kv_bytes_per_element,
                                   error=ServingInputError)
    return np.asarray(2.0 * layers * kv_heads * dim * element_bytes)


def blocks_needed(tokens: npt.ArrayLike, block_tokens: npt.ArrayLike = DEFAULT_BLOCK_TOKENS
                  ) -> FloatArray:
    """Paged blocks one sequence of ``tokens`` tokens occupies: ⌈tokens / block⌉."""
    n = non_negative_array("tokens", tokens, error=ServingInputError)
    return np.ceil(n / whole_array("block_tokens", block_tokens, error=ServingInputError))


def paged_waste_fraction(seq_tokens: npt.ArrayLike,
                         block_tokens: int = DEFAULT_BLOCK_TOKENS) -> float:
    """Share of allocated KV slots left empty by paging (the last block of each sequence)."""
    n = non_negative_array("seq_tokens", seq_tokens, error=ServingInputError)
    allocated = float(np.sum(blocks_needed(n, block_tokens) * block_tokens))
    return 0.0 if allocated == 0 else 1.0 - float(np.sum(n)) / allocated


def reservation_waste_fraction(seq_tokens: npt.ArrayLike, max_tokens: float) -> float:
    """Share of KV slots wasted when each sequence reserves ``max_tokens`` contiguously
    (the pre-vLLM practice Kwon et al. 2023 measure at 20-38% useful slots)."""
    n = non_negative_array("seq_tokens", seq_tokens, error=ServingInputError)
    cap = positive("max_tokens", max_tokens, error=ServingInputError)
    if np.any(n > cap):
        raise ServingInputError(f"seq_tokens(={float(n.max()):g}) exceeds max_tokens(={cap:g})")
    return 1.0 - float(np.mean(n)) / cap


@dataclass(frozen=True, kw_only=True)
class KvCapacity:
    """What KV cache fits on one replica (all numbers per GPU unless named otherwise)."""

    hbm_bytes: float
    """Memory of one GPU."""
    usable_bytes: float
    """memory_utilization · hbm_bytes."""
    weight_bytes: float
    """Weights one GPU holds."""
    workspace_bytes: float
    """Activation / workspace memory set aside."""
    kv_budget_bytes: float
    """max(0, usable - weights - workspace): memory left for the KV cache."""
    shortfall_bytes: float
    """max(0, weights + workspace + one block - usable): what is missing for the replica to
    hold its weights and one KV block (0 when it fits)."""
    min_tp_to_fit: int | None
    """Smallest tp (a divisor of the heads, pp unchanged) that fits; None if none does."""
    kv_bytes_per_token_per_gpu: float
    """KV bytes of one token on one GPU."""
    block_tokens: int
    blocks: int
    """KV blocks on each GPU (every GPU of the replica holds the same number)."""
    max_tokens: int
    """KV tokens the replica can hold: blocks · block_tokens."""

    @property
    def fits(self) -> bool:
        """Whether the weights and at least one block fit."""
        return self.blocks >= 1

    def max_batch(self, context_tokens: npt.ArrayLike) -> FloatArray:
        """Sequences of ``context_tokens`` tokens that fit at once: ⌊blocks / ⌈n/block⌉⌋."""
        context = positive_array("context_tokens", context_tokens, error=ServingInputError)
        need = np.maximum(blocks_needed(context, self.block_tokens), 1.0)
        return np.floor(self.blocks / need)

    def max_context(self, batch: npt.ArrayLike) -> FloatArray:
        """Longest context each of ``batch`` sequences can reach: ⌊blocks/batch⌋·block."""
        seqs = whole_array("batch", batch, error=ServingInputError)
        return np.floor(self.blocks / seqs) * self.block_tokens

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["fits"] = self.fits
        return out


def kv_capacity(model: LlmStepModel, *, hbm_bytes: float,
                memory_utilization: float = DEFAULT_MEMORY_UTILIZATION,
                workspace_bytes: float = 0.0,
                block_tokens: int = DEFAULT_BLOCK_TOKENS) -> KvCapacity:
    """KV capacity of a replica described by ``model`` on GPUs of ``hbm_bytes``.

    Raises ServingInputError for a utilisation outside (0, 1] or a bad block size;
    a replica whose weights do not fit is an ordinary result with ``fits`` False.
    """
    util = fraction("memory_utilization", memory_utilization, open_low=True,
                    error=ServingInputError)
    hbm = positive("hbm_bytes", hbm_bytes, error=ServingInputError)
    block = int(whole_array("block_tokens", block_tokens, error=ServingInputError))
    usable = util * hbm
    workspace = non_negative("workspace_bytes", workspace_bytes, error=ServingInputError)
    budget = _budget_bytes(model, usable, workspace)
    per_token = model.kv_bytes_per_token_per_gpu
    blocks = max(0, int(budget // (per_token * block)))
    return KvCapacity(hbm_bytes=hbm, usable_bytes=usable, weight_bytes=model.weight_bytes_per_gpu,
                      workspace_bytes=float(workspace_bytes), kv_budget_bytes=max(0.0, budget),
                      shortfall_bytes=max(0.0, per_token * block - budget),
                      min_tp_to_fit=_min_tp(model, usable, workspace, block),
                      kv_bytes_per_token_per_gpu=per_token, block_tokens=block, blocks=blocks,
                      max_tokens=blocks * block)


def _budget_bytes(model: LlmStepModel, usable: float, workspace: float) -> float:
    """Usable memory left after the weights and the workspace (negative: they do not fit)."""
    return usable - model.weight_bytes_per_gpu - workspace


def _min_tp(model: LlmStepModel, usable: float, workspace: float, block: int) -> int | None:
    """Smallest tp dividing the heads whose GPUs hold their weights and one KV block."""
    heads = model.shape.n_heads
    for tp in (d for d in range(1, heads + 1) if heads % d == 0):
        sharded = dataclasses.replace(model, tp=tp)
        if _budget_bytes(sharded, usable, workspace) >= sharded.kv_bytes_per_token_per_gpu * block:
            return tp
    return None
