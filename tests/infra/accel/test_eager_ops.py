"""The eager op counts (mlfleet.infra.accel.eager_ops) against the ATen ops torch dispatches.

Each block below issues the ops gpt-fast's eager ``model.py``/``generate.py`` (commit 9ac48bc5)
issues for it, at a small size; a dispatch mode counts the ops that launch work (views and
pure allocations left out) and the count must equal the table's. SDPA's math path is counted
from torch's source and checked here without its CPU-only bf16 casts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

from mlfleet.errors import InputError
from mlfleet.infra.accel.defaults import kernel_model
from mlfleet.infra.accel.eager_ops import EAGER_OPS, eager_ops
from mlfleet.infra.accel.step import transformer_step
from mlfleet.infra.roofline import TransformerShape

SDPA_MATH_OPS = 7
"""``_scaled_dot_product_attention_math`` with a boolean mask: where (mask to additive), q and k
scaled, q·kᵀ, + mask, softmax, ·v (aten/src/ATen/native/transformers/attention.cpp)."""
NO_KERNEL = frozenset({"empty_like", "scalar_tensor", "lift_fresh", "_unsafe_view"})
"""Dispatched ops that launch nothing: an allocation, a wrapped Python scalar, and
``_unsafe_view`` (a view whose schema does not declare that it aliases)."""

D, HEADS, HEAD_DIM, SEQ = 64, 4, 16, 32


class _Count(TorchDispatchMode):
    """Counts dispatched ATen ops that are not views (a view's result aliases its input),
    leaving out those named in ``skip``."""

    def __init__(self, skip: frozenset[str] = NO_KERNEL) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.ops = 0
        self.skip = skip

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (),
                           kwargs: Any = None) -> Any:
        returns = func._schema.returns
        view = any(r.alias_info is not None and not r.alias_info.is_write for r in returns)
        if not view and func.overloadpacket.__name__ not in self.skip:
            self.ops += 1
        return func(*args, **(kwargs or {}))


def dispatched(fn: Callable[[], object], skip: frozenset[str] = NO_KERNEL) -> int:
    with torch.no_grad(), _Count(skip) as mode:
        fn()
    ops: int = mode.ops
    return ops


def _rmsnorm(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    xf = x.float()
    normed = xf * torch.rsqrt(torch.mean(xf * xf, dim=-1, keepdim=True) + 1e-5)
    return normed.type_as(x) * weight


def _rope(x: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    pairs = x.float().reshape(*x.shape[:-1], -1, 2)
    f = freqs.view(1, pairs.size(1), 1, pairs.size(3), 2)
    real = pairs[..., 0] * f[..., 0] - pairs[..., 1] * f[..., 1]
    imag = pairs[..., 1] * f[..., 0] + pairs[..., 0] * f[..., 1]
    return torch.stack([real, imag], -1).flatten(3).type_as(x)


def _sample(logits: torch.Tensor, pos: torch.Tensor) -> None:
    scaled = logits[0, -1] / 0.8
    top, _ = torch.topk(scaled, 20)
    scaled = torch.where(scaled < top.select(-1, -1).unsqueeze(-1), -float("inf"), scaled)
    probs = F.softmax(scaled, dim=-1)
    draw = torch.empty_like(probs).exponential_(1)
    token = torch.argmax(probs / draw, dim=-1, keepdim=True).to(dtype=torch.int)
    pos += 1
    token.clone(), probs.clone()


@pytest.fixture(scope="module")
def counted() -> dict[str, int]:
    """Per kernel name, the ops the blocks dispatch on this CPU (bf16 activations)."""
    torch.manual_seed(0)
    bf = torch.bfloat16
    x = torch.randn(1, 1, D, dtype=bf)
    w = torch.ones(D)
    q = torch.randn(1, 1, HEADS, HEAD_DIM, dtype=bf)
    freqs = torch.randn(SEQ, HEAD_DIM // 2, 2, dtype=bf)
    cache = torch.zeros(1, HEADS, SEQ, HEAD_DIM, dtype=bf)
    pos = torch.tensor([3])
    mask = torch.tril(torch.ones(SEQ, SEQ, dtype=torch.bool))
    table = torch.randn(100, D, dtype=bf)
    linear = torch.nn.Linear(D, D, bias=False).to(bf)

    def kv_write() -> None:
        cache[:, :, pos] = q.transpose(1, 2)
        cache[:, :, pos] = q.transpose(1, 2)

    def attention_copies() -> None:  # GQA expansion of K and V, the output made contiguous
        cache.repeat_interleave(1, dim=1), cache.repeat_interleave(1, dim=1)
        cache.transpose(1, 2).contiguous()

    return {
        "add_rmsnorm": dispatched(lambda: _rmsnorm(x + x, w)),
        "final_rmsnorm": dispatched(lambda: _rmsnorm(x, w)),
        "rope": dispatched(lambda: (_rope(q, freqs[pos]), _rope(q, freqs[pos]))) - 2,
        "kv_cache_write": dispatched(kv_write),
        "attention": dispatched(attention_copies) + SDPA_MATH_OPS,
        **{name: dispatched(lambda: linear(x))
           for name in ("qkv_proj", "o_proj", "down_proj", "lm_head")},
        "gate_up_proj": dispatched(lambda: (linear(x), linear(x))),
        "silu_mul": dispatched(lambda: F.silu(x) * x),
        "embedding_gather": dispatched(lambda: (mask[None, None, pos], freqs[pos],
                                                F.embedding(pos.view(1, 1), table))),
        "sampling": dispatched(lambda: _sample(torch.randn(1, 1, 100), pos.clone())) - 2,
    }


def test_the_table_counts_what_torch_dispatches(counted: dict[str, int]) -> None:
    """rope and sampling subtract the position lookup / the test's own input copies (the
    position lookup is counted once per step, in embedding_gather)."""
    for name, ops in counted.items():
        print(f"{name:18s} table {EAGER_OPS[name]:3d}  dispatched {ops:3d}")
        assert EAGER_OPS[name] == ops, name


def test_sdpa_math_path_issues_seven_ops_besides_its_cpu_casts() -> None:
    """On this CPU the math path also casts bf16 to fp32 and back (``_to_copy``), which the
    CUDA path does not; the rest is the 7 ops counted from torch's source."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    q = torch.randn(1, HEADS, 1, HEAD_DIM, dtype=torch.bfloat16)
    kv = torch.randn(1, HEADS, SEQ, HEAD_DIM, dtype=torch.bfloat16)
    mask = torch.tril(torch.ones(SEQ, SEQ, dtype=torch.bool))[None, None, 3:4]

    def attend() -> None:
        with sdpa_kernel(SDPBackend.MATH):
            F.scaled_dot_product_attention(q, kv, kv, attn_mask=mask)

    assert dispatched(attend, NO_KERNEL | {"_to_copy"}) == SDPA_MATH_OPS


def test_a_llama2_7b_eager_step_issues_1784_ops() -> None:
    """32 layers × 55 ops + 24 per step; the device still runs the 324 fused kernels."""
    llama = TransformerShape.from_workload("Llama-2-7B")
    model = kernel_model("A100-80GB", "fp16")
    step = transformer_step(model, llama, phase="decode", batch=1, context_len=100,
                            engine="eager")
    assert (step.n_kernels, step.host_ops) == (324, 32 * 55 + 24)
    assert float(step.host_s) == pytest.approx(1784 * model.launch.eager_issue_s, rel=1e-12)


def test_eager_issue_reproduces_the_blog_step_it_was_derived_from() -> None:
    """In sample: 25.5 tok/s over 1,784 ops gives the catalog's 22.0 µs (within its rounding)."""
    per_op = (1.0 / 25.5) / 1784
    assert kernel_model("A100-80GB", "fp16").launch.eager_issue_s == pytest.approx(per_op, rel=0.01)
    assert np.isclose(per_op, 22.0e-6, rtol=0.01)


def test_an_unknown_kernel_is_an_input_error() -> None:
    with pytest.raises(InputError, match="'softmax'.*known: add_rmsnorm"):
        eager_ops("softmax")
