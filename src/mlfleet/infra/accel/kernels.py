"""The kernels one transformer step launches, with their FLOP and bytes (per GPU).

Per layer, as vLLM's Llama forward issues them (vllm/model_executor/models/llama.py): a fused
residual-add + RMSNorm, the QKV GEMM, RoPE, the KV-cache write, attention (flash/paged, KV
reads included), the output projection, a TP AllReduce (tp > 1), a second fused add + norm,
the gate/up GEMM, SiLU·mul, the down GEMM and a second AllReduce. Once per step: the
embedding gather (only the looked-up rows are read), the final norm, the LM head on the rows
that need logits, and sampling.

Each launch also carries the number of ops an eager PyTorch model issues to produce it
(:mod:`mlfleet.infra.accel.eager_ops`, after gpt-fast's ``model.py``): the eager engine's
host pays per op, the device still runs the fused kernel (see :mod:`.step`).

FLOP follow :mod:`mlfleet.infra.accel.flops` (GEMMs 2·M·N·K, attention 4·H·Q per pair;
elementwise FLOP are not counted: those kernels are memory-bound by far). Bytes are split
into state (weights and KV cache: exactly the legacy roofline's count,
:func:`mlfleet.infra.roofline.llm_decode`) and activations (read and written once per kernel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.checks import FloatArray
from mlfleet.infra.accel.eager_ops import eager_ops
from mlfleet.infra.accel.flops import param_split
from mlfleet.infra.roofline import TransformerShape


@dataclass(frozen=True, kw_only=True)
class StepCounts:
    """What one step processes on one GPU (arrays broadcast together)."""

    tokens: FloatArray
    """New tokens (prompt tokens plus one per decoding sequence): the GEMMs' M."""
    logit_rows: FloatArray
    """Tokens that need logits: one per sequence (the LM head's M, the sampler's rows)."""
    pairs: FloatArray
    """Attended (query, key) pairs."""
    kv_read_tokens: FloatArray
    """Cached tokens attention reads (decode context, prefill prefix)."""


@dataclass(frozen=True, kw_only=True)
class Launch:
    """One kernel, launched ``repeat`` times per step (once per layer, or once)."""

    name: str
    kind: str
    """``gemm`` (classed gemm/gemv by its rows), ``stream``, ``attention`` or ``comm``."""
    repeat: int
    flop: FloatArray
    state_bytes: FloatArray
    """Weight and KV-cache bytes."""
    act_bytes: FloatArray
    """Activation bytes read and written."""
    rows: FloatArray
    """M of a GEMM (tokens, or logit rows for the LM head); unused otherwise."""
    eager_ops: int = 1
    """PyTorch ops an eager engine issues to produce it (:mod:`.eager_ops`), per repeat."""


@dataclass(frozen=True, kw_only=True)
class Widths:
    """Per-GPU widths of one layer's matrices (tensor-parallel shards)."""

    d: float
    q: float
    """Query width H·Q / tp."""
    kv: float
    """K (or V) width: ⌈n_kv/tp⌉·Q (KV heads replicated when tp > n_kv)."""
    up_params: float
    """Active gate/up parameters per GPU (all of them for a dense model)."""
    down_params: float
    up_stored: float
    """Stored gate/up parameters per GPU (all experts of an MoE)."""
    down_stored: float
    vocab: float
    """LM head rows per GPU (vocab-parallel); 0 when the vocab is unknown."""


def widths(shape: TransformerShape, tp: int) -> Widths:
    """Per-GPU widths; the MLP is the body's parameters outside attention, split 2:1
    gate/up to down (SwiGLU), or 1:1 when ``d_ff`` says two matrices (GELU)."""
    d = float(shape.d_model)
    head_dim = shape.attn_width / shape.n_heads
    kv = -(-(shape.n_kv_heads or shape.n_heads) // tp) * head_dim
    attn = shape.attn_width * d * 2.0 + 2.0 * shape.kv_width * d
    split = param_split(shape)
    mlp = split.body_params / shape.n_layers - attn
    mlp_stored = split.body_stored_params / shape.n_layers - attn
    down = 0.5 if shape.d_ff and round(mlp / (d * shape.d_ff)) == 2 else 1.0 / 3.0
    return Widths(d=d, q=shape.attn_width / tp, kv=kv, up_params=mlp * (1 - down) / tp,
                  down_params=mlp * down / tp, up_stored=mlp_stored * (1 - down) / tp,
                  down_stored=mlp_stored * down / tp, vocab=(shape.vocab or 0) / tp)


def _gemm(name: str, *, repeat: int, rows: FloatArray, n: float, k: float, stored: float,
          w_b: float, a_b: float) -> Launch:
    """C(rows, n) = A(rows, k) @ W(k, n); ``stored`` weight elements are read."""
    return Launch(name=name, kind="gemm", repeat=repeat, flop=2.0 * rows * n * k,
                  state_bytes=np.asarray(stored * w_b + 0.0 * rows),
                  act_bytes=a_b * rows * (n + k), rows=rows, eager_ops=eager_ops(name))


def _stream(name: str, *, repeat: int, act_bytes: FloatArray,
            state_bytes: FloatArray | float = 0.0) -> Launch:
    zero = 0.0 * act_bytes
    return Launch(name=name, kind="stream", repeat=repeat, flop=zero,
                  state_bytes=np.asarray(state_bytes + zero), act_bytes=act_bytes, rows=zero,
                  eager_ops=eager_ops(name))


def layer_launches(w: Widths, c: StepCounts, *, layers: int, w_b: float, kv_b: float,
                   a_b: float, tp: int) -> list[Launch]:
    """One layer's kernels, each repeated ``layers`` times."""
    t = c.tokens
    norm = _stream("add_rmsnorm", repeat=layers, act_bytes=4.0 * a_b * t * w.d)
    out = [norm,
           _gemm("qkv_proj", repeat=layers, rows=t, n=w.q + 2 * w.kv, k=w.d,
                 stored=(w.q + 2 * w.kv) * w.d, w_b=w_b, a_b=a_b),
           _stream("rope", repeat=layers, act_bytes=2.0 * a_b * t * (w.q + w.kv)),
           _stream("kv_cache_write", repeat=layers, act_bytes=2.0 * a_b * t * w.kv,
                   state_bytes=2.0 * kv_b * t * w.kv),
           Launch(name="attention", kind="attention", repeat=layers,
                  flop=4.0 * w.q * c.pairs, state_bytes=2.0 * kv_b * w.kv * c.kv_read_tokens,
                  act_bytes=a_b * t * (2.0 * w.q + 2.0 * w.kv), rows=t,
                  eager_ops=eager_ops("attention")),
           _gemm("o_proj", repeat=layers, rows=t, n=w.d, k=w.q, stored=w.q * w.d,
                 w_b=w_b, a_b=a_b),
           norm,
           _gemm("gate_up_proj", repeat=layers, rows=t, n=w.up_params / w.d, k=w.d,
                 stored=w.up_stored, w_b=w_b, a_b=a_b),
           _stream("silu_mul", repeat=layers, act_bytes=3.0 * a_b * t * w.down_params / w.d),
           _gemm("down_proj", repeat=layers, rows=t, n=w.d, k=w.down_params / w.d,
                 stored=w.down_stored, w_b=w_b, a_b=a_b)]
    if tp > 1:
        ar = Launch(name="allreduce", kind="comm", repeat=2 * layers, flop=0.0 * t,
                    state_bytes=0.0 * t, act_bytes=a_b * t * w.d, rows=t,
                    eager_ops=eager_ops("allreduce"))
        out.append(ar)
    return out


def edge_launches(w: Widths, c: StepCounts, *, w_b: float, a_b: float) -> list[Launch]:
    """The once-per-step kernels: embedding gather, final norm, LM head, sampling."""
    out = [_stream("final_rmsnorm", repeat=1, act_bytes=2.0 * a_b * c.tokens * w.d)]
    if w.vocab:
        rows = c.logit_rows
        out = [_stream("embedding_gather", repeat=1, act_bytes=a_b * c.tokens * w.d,
                       state_bytes=w_b * c.tokens * w.d), *out,
               _gemm("lm_head", repeat=1, rows=rows, n=w.vocab, k=w.d, stored=w.vocab * w.d,
                     w_b=w_b, a_b=a_b),
               # fp32 logits read by softmax/top-k and the sampled ids written
               _stream("sampling", repeat=1, act_bytes=4.0 * rows * w.vocab + 8.0 * rows)]
    return out


def step_launches(shape: TransformerShape, counts: StepCounts, *, tp: int, layers: int,
                  w_b: float, kv_b: float, a_b: float) -> list[Launch]:
    """Every kernel of one step on one GPU holding ``layers`` layers."""
    w = widths(shape, tp)
    return [*layer_launches(w, counts, layers=layers, w_b=w_b, kv_b=kv_b, a_b=a_b, tp=tp),
            *edge_launches(w, counts, w_b=w_b, a_b=a_b)]
