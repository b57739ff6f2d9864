"""One FLOP-counting convention for decoder-only transformers, with training and serving modes.

Symbols: N_act active parameters (N for a dense model), L layers, d = d_model, H·Q the
attention width (heads × head dim), V the vocabulary, S a sequence length.

The parameters split into three parts (:func:`param_split`):

* the **input embedding table** (V·d): a gather, no FLOP; only the looked-up rows are read;
* the **LM head** (V·d; the same matrix as the table when the embeddings are tied): a matmul,
  2·V·d FLOP per token it is applied to;
* the **body** (everything else: attention and MLP projections, norms): 2 FLOP per parameter
  per token (one multiply-accumulate), Kaplan et al. 2020, Table 1.

Attention scores and the weighted sum cost 4·H·Q FLOP per layer per (query, key) pair
(QKᵀ and AV, 2·H·Q each; Kaplan et al. Table 1 "attention: mask"). A causal sequence of S
tokens has S(S+1)/2 pairs, so a token attends (S+1)/2 keys on average: half the score
matrix, where PaLM's MFU accounting (Chowdhery et al. 2022, appendix B) and Chinchilla
(Hoffmann et al. 2022, appendix F) count the full one.

Modes:

* ``train``: the LM head on every token; forward FLOP per token
  ``2·(body + head) + 2·L·H·Q·(S+1)``. This is the catalog's ``fwd_flop`` (its ``bwd_flop``
  is twice that).
* ``prefill``: the LM head on the last token of each prompt only (a server samples one token
  per sequence); per prompt of s tokens ``2·body·s + 2·head + 2·L·H·Q·s(s+1)``.
* ``decode``: one token per sequence attending ``context_len`` cached tokens;
  ``2·(body + head) + 4·L·H·Q·context_len``.

PaLM's accounting, ``6·N + 12·L·H·Q·S`` per training token (embeddings counted as a matmul,
non-causal attention), stays what the plan's assumed MFU is quoted against
(:func:`palm_train_flop_per_token`); for Llama-3-8B at S = 8192 it is 18.6 % above
3 × ``train`` (tests/infra/accel/test_flop_convention.py names each part of the gap).

A shape without ``vocab`` folds the embeddings into the body: every parameter counts on every
token, the legacy roofline count (:func:`mlfleet.infra.roofline.llm_prefill`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import FloatArray, non_negative_array, one_of, positive_array
from mlfleet.infra.roofline import TransformerShape

FLOP_MODES = ("train", "prefill", "decode")
"""Counting modes: where the LM head applies and how many tokens a step has."""


@dataclass(frozen=True, kw_only=True)
class ParamSplit:
    """A transformer's parameters by how a token uses them."""

    embedding_params: float
    """Input embedding table (V·d): gathered, not multiplied; 0 when the vocab is unknown."""
    head_params: float
    """LM head (V·d): a matmul on the tokens that need logits; 0 when the vocab is unknown."""
    body_params: float
    """Active parameters of the layers (and norms) that every token multiplies by."""
    body_stored_params: float
    """Stored parameters of the layers (all experts of an MoE): what a step may read."""


def param_split(shape: TransformerShape) -> ParamSplit:
    """Split ``shape``'s parameters into embedding table, LM head and body."""
    table = float(shape.vocab * shape.d_model) if shape.vocab else 0.0
    separate_head = 0.0 if shape.tied_embeddings else table
    return ParamSplit(embedding_params=table, head_params=table,
                      body_params=shape.active - table - separate_head,
                      body_stored_params=float(shape.params) - table - separate_head)


def attention_flop_per_pair(shape: TransformerShape) -> float:
    """4·L·H·Q: QKᵀ and AV for one (query, key) pair in every layer (Kaplan et al. Table 1)."""
    return 4.0 * shape.n_layers * shape.attn_width


def forward_flop_per_token(shape: TransformerShape, *, seq_len: npt.ArrayLike) -> FloatArray:
    """``train`` mode: forward FLOP per token of causal sequences of ``seq_len`` tokens.

    2·(body + head) + 2·L·H·Q·(S+1): the LM head on every token, (S+1)/2 keys per query.
    """
    s = positive_array("seq_len", seq_len)
    split = param_split(shape)
    matmul = 2.0 * (split.body_params + split.head_params)
    return np.asarray(matmul + attention_flop_per_pair(shape) * (s + 1.0) / 2.0)


def prefill_flop(shape: TransformerShape, *, batch: npt.ArrayLike,
                 prompt_len: npt.ArrayLike) -> FloatArray:
    """``prefill`` mode: FLOP of ``batch`` fresh prompts of ``prompt_len`` tokens.

    Per prompt 2·body·s + 2·head + 2·L·H·Q·s(s+1): logits for the last token only.
    """
    b = positive_array("batch", batch)
    s = positive_array("prompt_len", prompt_len)
    split = param_split(shape)
    per_prompt = (2.0 * split.body_params * s + 2.0 * split.head_params
                  + attention_flop_per_pair(shape) * s * (s + 1.0) / 2.0)
    return np.asarray(b * per_prompt)


def decode_flop(shape: TransformerShape, *, batch: npt.ArrayLike,
                context_len: npt.ArrayLike) -> FloatArray:
    """``decode`` mode: FLOP of one new token for each of ``batch`` sequences.

    Per sequence 2·(body + head) + 4·L·H·Q·context_len (the roofline's pair count).
    """
    b = positive_array("batch", batch)
    ctx = non_negative_array("context_len", context_len)
    split = param_split(shape)
    per_seq = 2.0 * (split.body_params + split.head_params) + attention_flop_per_pair(shape) * ctx
    return np.asarray(b * per_seq)


def step_flop(shape: TransformerShape, *, mode: str, batch: npt.ArrayLike,
              length: npt.ArrayLike) -> FloatArray:
    """Forward FLOP of a step in ``mode`` (:data:`FLOP_MODES`): ``batch`` sequences of
    ``length`` tokens (train: whole sequences; prefill: prompts; decode: cached context)."""
    one_of("mode", mode, FLOP_MODES)
    if mode == "prefill":
        return prefill_flop(shape, batch=batch, prompt_len=length)
    if mode == "decode":
        return decode_flop(shape, batch=batch, context_len=length)
    tokens = positive_array("batch", batch) * positive_array("seq_len", length)
    return np.asarray(tokens * forward_flop_per_token(shape, seq_len=length))


def palm_train_flop_per_token(shape: TransformerShape, *, seq_len: npt.ArrayLike) -> FloatArray:
    """PaLM's model FLOP per training token, 6·N + 12·L·H·Q·S (Chowdhery et al. 2022,
    appendix B): forward and backward, embeddings as a matmul, full attention."""
    s = positive_array("seq_len", seq_len)
    return np.asarray(6.0 * shape.active + 3.0 * attention_flop_per_pair(shape) * s)
