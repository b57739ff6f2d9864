"""torch.distributed point-to-point as a :class:`~mlfleet.comm.transport.base.Transport`.

gloo on CPU, NCCL when CUDA is available (buffers are staged through the rank's
GPU). Bytes move as ``uint8`` tensors viewing the numpy buffers, so any numpy
dtype works and gloo receives straight into the caller's array. ``sendrecv`` and
``exchange`` post ``isend``/``irecv`` (NCCL: one ``batch_isend_irecv`` group)
and wait on all of them, so a ring does not deadlock.

Three ways to start one:

* :meth:`TorchTransport.from_store` — the launcher's way: rank 0 hosts a
  ``TCPStore`` on a kernel-chosen port and the others join it.
* :meth:`TorchTransport.from_env` — under ``torchrun`` (``RANK``, ``WORLD_SIZE``,
  ``MASTER_ADDR``, ``MASTER_PORT``, ``LOCAL_RANK`` come from the environment)::

      torchrun --standalone --nproc-per-node 4 -m mlfleet.comm.worker allreduce --algo ring \\
          --sizes 4K:16M --backend torch

* the constructor, around a process group you initialised yourself.

``bytes_sent`` counts the payload this rank handed to torch; torch's own
rendezvous and gloo/NCCL headers are not visible here. Errors inside torch
(a peer closed its connection, a timeout) are re-raised as
:class:`~mlfleet.errors.RunError` naming the peers involved.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from mlfleet.comm.transport.base import Message, PeerLost, Pending, as_bytes, zero_counts
from mlfleet.errors import RunError


def default_backend() -> str:
    """``"nccl"`` when a CUDA device is visible, else ``"gloo"``."""
    return "nccl" if torch.cuda.is_available() else "gloo"


class _TorchPending(Pending):
    """A posted isend/irecv: the torch work (None until launched, for NCCL) and its buffers."""

    __slots__ = ("peer", "buf", "tensor", "is_send", "works", "done")

    def __init__(self, peer: int, buf: np.ndarray, tensor: torch.Tensor, is_send: bool) -> None:
        self.peer, self.buf, self.tensor, self.is_send = peer, buf, tensor, is_send
        self.works: list[Any] = []
        self.done = buf.nbytes == 0


class TorchTransport:
    """Point-to-point over an initialised torch.distributed process group.

    ``group=None`` is the default (world) group; otherwise ranks are numbered
    within ``group`` and mapped to global ranks for every call.
    """

    def __init__(self, *, timeout_s: float = 30.0, group: Any = None) -> None:
        if not dist.is_initialized():
            raise RunError("torch.distributed is not initialised")
        self._group = group
        self._rank = dist.get_rank(group)
        self._world_size = dist.get_world_size(group)
        self._global = (list(range(self._world_size)) if group is None else
                        [dist.get_global_rank(group, r) for r in range(self._world_size)])
        self._backend = str(dist.get_backend(group))
        self._timeout = datetime.timedelta(seconds=timeout_s)
        self._sent = zero_counts(self._rank, self._world_size)
        self._device = _device_for(self._backend)
        self._closed = False
        self._unlaunched: list[_TorchPending] = []

    @classmethod
    def from_store(cls, *, rank: int, world_size: int, store: Any,
                   backend: str | None = None, timeout_s: float = 30.0) -> TorchTransport:
        """Initialise the default process group on ``store`` (a ``dist.Store``)."""
        timeout = datetime.timedelta(seconds=timeout_s)
        try:
            dist.init_process_group(backend or default_backend(), store=store, rank=rank,
                                    world_size=world_size, timeout=timeout)
        except (RuntimeError, ValueError) as exc:
            raise RunError(f"rank {rank}: torch.distributed init failed: {exc}") from exc
        return cls(timeout_s=timeout_s)

    @classmethod
    def from_env(cls, *, backend: str | None = None, timeout_s: float = 30.0) -> TorchTransport:
        """Initialise from torchrun's environment (``env://``)."""
        try:
            dist.init_process_group(backend or default_backend(), init_method="env://",
                                    timeout=datetime.timedelta(seconds=timeout_s))
        except (RuntimeError, ValueError) as exc:
            raise RunError(f"torch.distributed init from the environment failed: {exc}") from exc
        return cls(timeout_s=timeout_s)

    @property
    def rank(self) -> int:
        """This process's rank."""
        return self._rank

    @property
    def world_size(self) -> int:
        """Number of ranks."""
        return self._world_size

    @property
    def backend(self) -> str:
        """The torch.distributed backend name (``gloo`` or ``nccl``)."""
        return self._backend

    @property
    def group(self) -> Any:
        """The torch process group (None: the default group), for torch's own collectives."""
        return self._group

    def global_rank(self, rank: int) -> int:
        """The global torch rank of this transport's rank ``rank``."""
        return self._global[rank]

    def subgroup(self, ranks: Sequence[int]) -> TorchTransport | None:
        """A transport over ``ranks`` (this transport's numbering), or None on non-members.

        Wraps ``dist.new_group``, which every process of the default group must call.
        """
        global_ranks = [self._global[r] for r in ranks]
        group = dist.new_group(global_ranks, timeout=self._timeout)
        if dist.get_rank() not in global_ranks:
            return None
        return TorchTransport(timeout_s=self._timeout.total_seconds(), group=group)

    def send(self, dst: int, buf: np.ndarray) -> None:
        """Send ``buf`` to ``dst``."""
        self.exchange([(dst, buf)], [])

    def recv(self, src: int, buf: np.ndarray) -> None:
        """Receive ``buf.nbytes`` bytes from ``src`` into ``buf``."""
        self.exchange([], [(src, buf)])

    def sendrecv(self, dst: int, sendbuf: np.ndarray, src: int, recvbuf: np.ndarray) -> None:
        """Send to ``dst`` while receiving from ``src``."""
        self.exchange([(dst, sendbuf)], [(src, recvbuf)])

    def exchange(self, sends: Sequence[Message], recvs: Sequence[Message]) -> None:
        """Post every isend/irecv (NCCL: as one group), then wait for all of them."""
        posted = [self._post(peer, buf, is_send=True) for peer, buf in sends]
        posted += [self._post(peer, buf, is_send=False) for peer, buf in recvs]
        for pending in posted:
            self.wait(pending)

    def isend(self, dst: int, buf: np.ndarray) -> Pending:
        """Post a send (gloo: started now; NCCL: launched with the others at the next wait)."""
        return self._post(dst, buf, is_send=True)

    def irecv(self, src: int, buf: np.ndarray) -> Pending:
        """Post a receive into ``buf``."""
        return self._post(src, buf, is_send=False)

    def wait(self, pending: Pending) -> None:
        """Block until ``pending`` completed (received bytes are in the numpy buffer)."""
        if not isinstance(pending, _TorchPending):
            raise TypeError(f"wait() takes a handle from this transport, not {pending!r}")
        if pending.done:
            return
        if self._unlaunched:
            self._launch()
        try:
            for work in pending.works:
                work.wait(self._timeout)
        except RuntimeError as exc:
            raise PeerLost(f"rank {self._rank}: point-to-point with rank {pending.peer} "
                           f"failed: {_first_line(exc)}") from exc
        if self._device.type == "cuda":
            torch.cuda.synchronize(self._device)
            if not pending.is_send:
                as_bytes(pending.buf)[:] = pending.tensor.cpu().numpy().data
        pending.done = True

    def _post(self, peer: int, buf: np.ndarray, *, is_send: bool) -> _TorchPending:
        pending = _TorchPending(peer, buf, self._tensor(buf) if buf.nbytes else
                                torch.empty(0, dtype=torch.uint8), is_send)
        if pending.done:
            return pending
        if is_send:
            self._sent[peer] += buf.nbytes
        self._unlaunched.append(pending)
        if self._backend != "nccl":
            self._launch()
        return pending

    def _launch(self) -> None:
        """Start the posted operations; NCCL gets them as one group (no send/send deadlock)."""
        posted, self._unlaunched = self._unlaunched, []
        ops = [dist.P2POp(dist.isend if p.is_send else dist.irecv, p.tensor,
                          self._global[p.peer]) for p in posted]
        try:
            if self._backend == "nccl":
                works = dist.batch_isend_irecv(ops)
            else:
                works = [op.op(op.tensor, op.peer) for op in ops]
        except RuntimeError as exc:
            raise PeerLost(f"rank {self._rank}: posting point-to-point operations failed: "
                           f"{_first_line(exc)}") from exc
        works = [w for w in works if w is not None]
        for i, pending in enumerate(posted):
            # NCCL coalescing may return one work for the whole group: wait on all of it.
            pending.works = [works[i]] if len(works) == len(posted) else works

    def bytes_sent(self) -> dict[int, int]:
        """Payload bytes handed to torch for each peer."""
        return dict(self._sent)

    def barrier(self) -> None:
        """torch.distributed's barrier."""
        try:
            if self._device.type == "cuda":
                dist.barrier(group=self._group, device_ids=[self._device.index or 0])
            else:
                dist.barrier(group=self._group)
        except RuntimeError as exc:
            raise PeerLost(f"rank {self._rank}: barrier failed: {_first_line(exc)}") from exc

    def close(self) -> None:
        """Destroy the default process group (a sub-group's owner does). Idempotent."""
        if not self._closed and self._group is None and dist.is_initialized():
            dist.destroy_process_group()
        self._closed = True

    def _tensor(self, buf: np.ndarray) -> torch.Tensor:
        if not buf.flags.writeable:  # a send from a read-only input: torch wants writable memory
            buf = buf.copy()
        tensor = torch.frombuffer(as_bytes(buf), dtype=torch.uint8)
        return tensor if self._device.type == "cpu" else tensor.to(self._device)


def _device_for(backend: str) -> torch.device:
    if backend != "nccl":
        return torch.device("cpu")
    local_rank = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
    device = torch.device("cuda", local_rank % max(1, torch.cuda.device_count()))
    torch.cuda.set_device(device)
    return device


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
