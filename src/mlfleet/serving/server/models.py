"""The tiny, real PyTorch models the server runs.

Two models, one per serving path of the chapter:

* :class:`Ranker` — the non-LLM path (recommendation is most of production inference).
  A DLRM-style scorer: a user tower (dense layers, weight-bandwidth bound at small
  batch, so batching amortises it) and a per-candidate scoring MLP over
  ``[user, item, user*item]``. Served with dynamic batching.
* :class:`TinyGPT` — a byte-level GPT-style decoder (pre-LN blocks, causal
  self-attention) that generates greedily with a **slot-based KV cache**: each running
  sequence owns one slot of a preallocated ``(layers, slots, heads, max_seq, head_dim)``
  cache, so a decode iteration runs one batched forward over the running slots
  whatever their lengths (Orca-style iteration-level batching).

Weights come from a local ``torch.Generator`` seeded by the spec, never from the global
seed, so two servers built with the same spec produce the same outputs bit for bit on
the same device. The architecture follows nanoGPT (Karpathy, 2022).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import torch
from torch import nn
from torch.nn import functional as F

from mlfleet.checks import positive_int
from mlfleet.errors import ServingInputError


def select_device(name: str = "auto") -> torch.device:
    """``"auto"`` -> CUDA when present, else CPU; otherwise the named device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _seeded_init(module: nn.Module, seed: int) -> None:
    """Re-initialise every layer from a local generator: N(0, 1/fan_in) weights, zero biases."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, nn.LayerNorm):
                sub.weight.fill_(1.0)
                sub.bias.zero_()
            elif isinstance(sub, nn.Linear | nn.Embedding):
                std = 1.0 / math.sqrt(sub.weight.shape[1])
                sub.weight.copy_(torch.randn(sub.weight.shape, generator=gen) * std)
                if isinstance(sub, nn.Linear) and sub.bias is not None:
                    sub.bias.zero_()


# ----------------------------------------------------------------------------- ranker


@dataclass(frozen=True, kw_only=True)
class RankerSpec:
    """Shape of the ranker."""

    n_users: int = 10_000
    """Rows of the user embedding table."""
    n_items: int = 50_000
    """Rows of the item embedding table."""
    embed_dim: int = 64
    """Width of both embedding tables."""
    user_tower_width: int = 1024
    """Width of the user tower's hidden layers (its weights dominate small-batch cost)."""
    user_tower_layers: int = 3
    """Hidden layers in the user tower."""
    score_hidden: tuple[int, ...] = (1024, 512, 256)
    """Hidden widths of the per-candidate scoring MLP (its FLOPs grow with batch x items)."""
    seed: int = 0
    """Weight initialisation seed."""

    def __post_init__(self) -> None:
        for name in ("n_users", "n_items", "embed_dim", "user_tower_width", "user_tower_layers"):
            positive_int(name, getattr(self, name), error=ServingInputError)
        if not self.score_hidden:
            raise ServingInputError("score_hidden(=()) must hold at least one width")
        for width in self.score_hidden:
            positive_int("score_hidden width", width, error=ServingInputError)


class Ranker(nn.Module):
    """Scores candidate items for users: ``forward(users (B,), items (B, N)) -> (B, N)``."""

    def __init__(self, spec: RankerSpec) -> None:
        super().__init__()
        self.spec = spec
        d, w = spec.embed_dim, spec.user_tower_width
        self.user_emb = nn.Embedding(spec.n_users, d)
        self.item_emb = nn.Embedding(spec.n_items, d)
        layers: list[nn.Module] = [nn.Linear(d, w), nn.ReLU()]
        for _ in range(spec.user_tower_layers - 1):
            layers += [nn.Linear(w, w), nn.ReLU()]
        layers.append(nn.Linear(w, d))
        self.user_tower = nn.Sequential(*layers)
        score: list[nn.Module] = []
        width = 3 * d
        for hidden in spec.score_hidden:
            score += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.score = nn.Sequential(*score, nn.Linear(width, 1))
        _seeded_init(self, spec.seed)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        u = self.user_tower(self.user_emb(users))              # (B, d)
        v = self.item_emb(items)                                # (B, N, d)
        u = u.unsqueeze(1).expand_as(v)                         # (B, N, d)
        scores = self.score(torch.cat([u, v, u * v], dim=-1)).squeeze(-1)  # (B, N)
        return cast(torch.Tensor, scores)


# ----------------------------------------------------------------------------- tiny GPT


@dataclass(frozen=True, kw_only=True)
class GPTSpec:
    """Shape of the tiny decoder (byte-level vocabulary)."""

    vocab_size: int = 256
    """Byte-level: token ids are UTF-8 bytes."""
    max_seq_len: int = 256
    """Context length: prompt plus generated tokens must fit."""
    n_layer: int = 4
    n_head: int = 4
    d_model: int = 128
    seed: int = 0
    """Weight initialisation seed."""

    def __post_init__(self) -> None:
        for name in ("vocab_size", "max_seq_len", "n_layer", "n_head", "d_model"):
            positive_int(name, getattr(self, name), error=ServingInputError)
        if self.d_model % self.n_head:
            raise ServingInputError(
                f"d_model(={self.d_model}) must be a multiple of n_head(={self.n_head})")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_head


class KVCache:
    """Preallocated per-slot K/V: ``(n_layer, slots, n_head, max_seq_len, head_dim)``."""

    def __init__(self, spec: GPTSpec, *, slots: int, device: torch.device) -> None:
        shape = (spec.n_layer, slots, spec.n_head, spec.max_seq_len, spec.head_dim)
        self.k = torch.zeros(shape, device=device)
        self.v = torch.zeros(shape, device=device)
        self.lengths = torch.zeros(slots, dtype=torch.long, device=device)
        """Valid positions per slot."""
        self.slots = slots


class _Block(nn.Module):
    """Pre-LN transformer block; attention reads and writes the slot KV cache."""

    def __init__(self, spec: GPTSpec) -> None:
        super().__init__()
        self.spec = spec
        self.ln1 = nn.LayerNorm(spec.d_model)
        self.qkv = nn.Linear(spec.d_model, 3 * spec.d_model)
        self.proj = nn.Linear(spec.d_model, spec.d_model)
        self.ln2 = nn.LayerNorm(spec.d_model)
        self.mlp = nn.Sequential(nn.Linear(spec.d_model, 4 * spec.d_model), nn.GELU(),
                                 nn.Linear(4 * spec.d_model, spec.d_model))

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape                                       # (B, T, C)
        return x.view(b, t, self.spec.n_head, self.spec.head_dim).transpose(1, 2)  # (B, H, T, D)

    def prefill(self, x: torch.Tensor, cache: KVCache, layer: int, slot: int) -> torch.Tensor:
        """One sequence's prompt ``x (1, T, C)``: causal attention, fills the slot's cache."""
        t = x.shape[1]
        q, k, v = self.qkv(self.ln1(x)).split(self.spec.d_model, dim=-1)
        q, k, v = self._heads(q), self._heads(k), self._heads(v)
        cache.k[layer, slot, :, :t] = k[0]
        cache.v[layer, slot, :, :t] = v[0]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(1, t, -1))
        return cast(torch.Tensor, x + self.mlp(self.ln2(x)))

    def decode(self, x: torch.Tensor, cache: KVCache, layer: int, slots: torch.Tensor,
               pos: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """One new token per running slot: ``x (S, 1, C)`` at positions ``pos (S,)``."""
        q, k, v = self.qkv(self.ln1(x)).split(self.spec.d_model, dim=-1)
        q, k, v = self._heads(q), self._heads(k), self._heads(v)  # (S, H, 1, D)
        cache.k[layer, slots, :, pos] = k[:, :, 0]
        cache.v[layer, slots, :, pos] = v[:, :, 0]
        t_max = int(pos.max().item()) + 1
        keys = cache.k[layer, slots, :, :t_max]                   # (S, H, Tmax, D)
        values = cache.v[layer, slots, :, :t_max]
        y = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask[:, None, None, :t_max])
        x = x + self.proj(y.transpose(1, 2).reshape(x.shape[0], 1, -1))
        return cast(torch.Tensor, x + self.mlp(self.ln2(x)))


class TinyGPT(nn.Module):
    """A byte-level GPT decoder with greedy generation over a slot KV cache."""

    def __init__(self, spec: GPTSpec) -> None:
        super().__init__()
        self.spec = spec
        self.tok_emb = nn.Embedding(spec.vocab_size, spec.d_model)
        self.pos_emb = nn.Embedding(spec.max_seq_len, spec.d_model)
        self.blocks = nn.ModuleList(_Block(spec) for _ in range(spec.n_layer))
        self.ln_f = nn.LayerNorm(spec.d_model)
        self.head = nn.Linear(spec.d_model, spec.vocab_size, bias=False)
        _seeded_init(self, spec.seed)

    def _layers(self) -> list[_Block]:
        return [cast(_Block, block) for block in self.blocks]

    def new_cache(self, slots: int) -> KVCache:
        return KVCache(self.spec, slots=slots, device=self.head.weight.device)

    @torch.no_grad()
    def prefill(self, tokens: torch.Tensor, cache: KVCache, slot: int) -> int:
        """Run a prompt ``tokens (T,)`` into ``slot``; returns the first generated token."""
        t = tokens.shape[0]
        assert 0 < t < self.spec.max_seq_len, t
        pos = torch.arange(t, device=tokens.device)
        x = (self.tok_emb(tokens) + self.pos_emb(pos)).unsqueeze(0)  # (1, T, C)
        for i, block in enumerate(self._layers()):
            x = block.prefill(x, cache, i, slot)
        cache.lengths[slot] = t
        return int(self.head(self.ln_f(x[0, -1])).argmax().item())

    @torch.no_grad()
    def decode(self, last_tokens: torch.Tensor, cache: KVCache, slots: torch.Tensor) -> list[int]:
        """One decode iteration for every slot in ``slots (S,)``; returns the next tokens."""
        pos = cache.lengths[slots]                               # (S,)
        assert int(pos.max().item()) < self.spec.max_seq_len, "KV cache slot overflow"
        t_max = self.spec.max_seq_len
        mask = torch.arange(t_max, device=pos.device)[None, :] <= pos[:, None]  # (S, T)
        x = (self.tok_emb(last_tokens) + self.pos_emb(pos)).unsqueeze(1)  # (S, 1, C)
        for i, block in enumerate(self._layers()):
            x = block.decode(x, cache, i, slots, pos, mask)
        cache.lengths[slots] = pos + 1
        return [int(t) for t in self.head(self.ln_f(x[:, 0])).argmax(dim=-1).tolist()]

    @torch.no_grad()
    def generate_reference(self, prompt: list[int], max_new_tokens: int) -> list[int]:
        """Greedy generation without a cache (full recompute): the test oracle."""
        device = self.head.weight.device
        seq = list(prompt)
        out: list[int] = []
        for _ in range(max_new_tokens):
            idx = torch.tensor(seq, device=device)
            x = self.tok_emb(idx) + self.pos_emb(torch.arange(len(seq), device=device))
            x = x.unsqueeze(0)
            for block in self._layers():
                q, k, v = block.qkv(block.ln1(x)).split(self.spec.d_model, dim=-1)
                y = F.scaled_dot_product_attention(block._heads(q), block._heads(k),
                                                   block._heads(v), is_causal=True)
                x = x + block.proj(y.transpose(1, 2).reshape(1, len(seq), -1))
                x = x + block.mlp(block.ln2(x))
            token = int(self.head(self.ln_f(x[0, -1])).argmax().item())
            out.append(token)
            seq.append(token)
        return out
