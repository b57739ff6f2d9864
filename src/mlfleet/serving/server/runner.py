"""Model execution: the only code that touches torch tensors, run on the one worker thread.

:class:`ModelRunner` owns both models on their device plus the generator's KV cache.
Its methods are called from a single-thread executor (never from the event loop), so
no lock is needed and timing is stable. On CUDA, results are copied to host, which
synchronises the stream, so the measured time includes the kernels.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import torch

from mlfleet.errors import InputError
from mlfleet.serving.server.config import ServerConfig
from mlfleet.serving.server.models import Ranker, TinyGPT, select_device


@dataclass(frozen=True, slots=True)
class RankInput:
    """One rank request: a user and its candidate items."""

    user: int
    items: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PrefillInput:
    """A sequence entering the running batch: its slot and prompt tokens."""

    slot: int
    prompt: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class StepOutput:
    """Tokens from one generation iteration, and how long the worker computed."""

    first_tokens: list[int]
    """One per prefilled sequence, in input order."""
    next_tokens: list[int]
    """One per decoded slot, in input order."""
    run_s: float


def check_device(name: str) -> torch.device:
    """The device ``name`` selects on this machine; raises :class:`InputError` when it is not
    ``auto``, ``cpu``, ``cuda`` or ``cuda:N``, or names a GPU this machine does not have."""
    if name != "auto" and re.fullmatch(r"cpu|cuda(:\d+)?", name) is None:
        raise InputError(f"--device(={name!r}) must be auto, cpu, cuda or cuda:N")
    device = select_device(name)
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise InputError(f"--device(={name!r}) needs CUDA, which this machine does not "
                             "have; use --device cpu or auto")
        if (device.index or 0) >= count:
            raise InputError(f"--device(={name!r}) names a GPU this machine does not have "
                             f"(it has {count}: cuda:0..cuda:{count - 1})")
    return device


class ModelRunner:
    """Both models on one device; methods run on the worker thread only."""

    def __init__(self, config: ServerConfig) -> None:
        self.device = select_device(config.device)
        self.config = config
        self.ranker = Ranker(config.ranker).to(self.device).eval()
        self._score: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = self.ranker
        if config.rank.trace_model:
            self._score = trace_ranker(self.ranker, self.device)
        self.gpt = TinyGPT(config.gpt).to(self.device).eval()
        self.cache = self.gpt.new_cache(config.generate.max_running)

    @torch.no_grad()
    def rank(self, batch: list[RankInput]) -> tuple[list[list[float]], float]:
        """Scores per request (padding dropped), and the compute time in seconds."""
        t0 = time.perf_counter()
        n_max = max(len(r.items) for r in batch)
        padded = [list(r.items) + [0] * (n_max - len(r.items)) for r in batch]  # item 0 pads
        items = torch.tensor(padded, dtype=torch.long)  # (B, N)
        users = torch.tensor([r.user for r in batch], dtype=torch.long)
        scores = self._score(users.to(self.device), items.to(self.device)).cpu().tolist()
        out = [row[: len(req.items)] for row, req in zip(scores, batch, strict=True)]
        return out, time.perf_counter() - t0

    @torch.no_grad()
    def step(self, prefill: list[PrefillInput], decode_slots: list[int],
             decode_last: list[int]) -> StepOutput:
        """One continuous-batching iteration: prefill new sequences, decode running ones."""
        t0 = time.perf_counter()
        first = [self.gpt.prefill(torch.tensor(p.prompt, device=self.device), self.cache, p.slot)
                 for p in prefill]
        nxt: list[int] = []
        if decode_slots:
            nxt = self.gpt.decode(torch.tensor(decode_last, device=self.device), self.cache,
                                  torch.tensor(decode_slots, device=self.device))
        return StepOutput(first_tokens=first, next_tokens=nxt, run_s=time.perf_counter() - t0)

    def warmup(self) -> None:
        """Run every rank batch size and a short generation so first requests are not slow."""
        rank_cfg = self.config.rank
        for size in range(1, rank_cfg.max_batch_size + 1):
            self.rank([RankInput(user=0, items=tuple(range(64)))] * size)
        slots = list(range(min(2, self.config.generate.max_running)))
        out = self.step([PrefillInput(slot=s, prompt=(1, 2, 3)) for s in slots], [], [])
        self.step([], slots, out.first_tokens)


def trace_ranker(ranker: Ranker, device: torch.device
                 ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The ranker as a TorchScript trace: one call runs the whole forward in C++ with the
    GIL released, where eager mode takes the GIL back after every op and so waits
    whenever the event loop thread holds it. Same weights, same outputs; the graph has no
    shape-dependent Python, so any batch size and item count run the same trace. Falls
    back to the eager module (with a warning) if this torch cannot trace it."""
    users = torch.zeros(2, dtype=torch.long, device=device)
    items = torch.zeros((2, 3), dtype=torch.long, device=device)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # torch.jit is in maintenance mode; it still works
            traced = torch.jit.trace(  # type: ignore[no-untyped-call]
                ranker, (users, items), check_trace=False)
    except Exception as exc:  # any tracing failure: serve eagerly rather than not at all
        warnings.warn(f"ranker not traced ({exc!s:.200}); running it eagerly", stacklevel=2)
        return ranker
    return cast(Callable[[torch.Tensor, torch.Tensor], torch.Tensor], traced)
