"""How many PyTorch ops eager mode issues for each fused kernel of the step model.

A serving engine runs one fused kernel where an eager PyTorch model issues several ops, and an
eager engine's host pays per op it issues, not per fused kernel. The counts below are the
kernel-launching ATen ops (views, splits and selects launch nothing and are left out) that the
reference implementation behind the eager step in the gpt-fast blog issues for one decode
step: pytorch-labs/gpt-fast ``model.py`` and ``generate.py`` at commit 9ac48bc5 (2023-11,
the code the blog's 25.5 tok/s "Starting Point" ran without ``torch.compile``), with the
decode loop's attention forced to SDPA's math path (``generate.py``, ``decode_n_tokens``).

Per layer (55 ops):

- ``add_rmsnorm`` 9: the residual add, then ``RMSNorm``: float cast, x·x, mean, + eps, rsqrt,
  multiply, ``type_as``, multiply by the weight (twice per layer).
- ``qkv_proj`` 1 (one fused ``wqkv`` linear); ``o_proj`` 1; ``down_proj`` 1.
- ``rope`` 18: ``apply_rotary_emb`` on q and on k, 9 each: float cast, four multiplies, a
  subtract, an add, ``stack``, ``type_as``.
- ``kv_cache_write`` 2: one ``index_put_`` for K, one for V.
- ``attention`` 10: two ``repeat_interleave`` copies (GQA expansion, a copy even at 1), SDPA's
  math path (the boolean mask turned additive by ``where``, q and k scaled, two batched
  matmuls, the mask added, softmax: 7), and the ``contiguous`` copy of the output.
- ``gate_up_proj`` 2 (``w1`` and ``w3`` are separate linears); ``silu_mul`` 2.

Once per step (24 ops): ``embedding_gather`` 3 (the causal-mask row and the RoPE table row
indexed by the position, the embedding lookup), ``final_rmsnorm`` 8, ``lm_head`` 1 and
``sampling`` 12 (divide by the temperature, top-k, compare, ``where``, softmax, the
exponential draw, divide, argmax, cast; the loop's position increment and two clones).

Llama-2-7B: 32 × 55 + 24 = 1,784 ops per decode step. A tensor-parallel AllReduce is one op.
The per-op counts of the RMSNorm, RoPE, KV write, repeat_interleave, linear, embedding and
sampling blocks were checked by counting the ATen ops torch 2.13 dispatches for them on this
CPU (tests/infra/accel/test_eager_ops.py); SDPA's math path is counted from
``_scaled_dot_product_attention_math`` (aten/src/ATen/native/transformers/attention.cpp) and
checked the same way without the bf16 casts only its CPU path issues.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mlfleet.errors import InputError

EAGER_OPS: Mapping[str, int] = MappingProxyType({
    "add_rmsnorm": 9,
    "qkv_proj": 1,
    "rope": 18,
    "kv_cache_write": 2,
    "attention": 10,
    "o_proj": 1,
    "gate_up_proj": 2,
    "silu_mul": 2,
    "down_proj": 1,
    "allreduce": 1,
    "embedding_gather": 3,
    "final_rmsnorm": 8,
    "lm_head": 1,
    "sampling": 12,
})
"""Kernel name of :mod:`mlfleet.infra.accel.kernels` -> ops eager PyTorch issues for it."""

REFERENCE = "pytorch-labs/gpt-fast model.py and generate.py at commit 9ac48bc5"
"""The implementation the counts were read from."""


def eager_ops(kernel_name: str) -> int:
    """Ops eager PyTorch issues to produce the fused kernel ``kernel_name``; InputError
    naming the known kernels otherwise."""
    if kernel_name not in EAGER_OPS:
        raise InputError(f"kernel {kernel_name!r} has no eager op count; known: "
                         f"{', '.join(EAGER_OPS)}")
    return EAGER_OPS[kernel_name]
