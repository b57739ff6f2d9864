"""One rank of ``mlfleet run train``: ``python -m mlfleet.reliability.train.worker``.

Protocol with the supervisor (:mod:`mlfleet.reliability.train.supervisor`): the first line
on stdin is the :class:`~mlfleet.reliability.train.job.RankJob` as JSON; the rank answers
with JSON lines on its original stdout (``print`` goes to stderr): ``ready`` after joining
the gloo group and restoring, ``step`` per step (its compute time, for straggler
detection), ``hb`` every ``heartbeat_s`` from a thread, ``shard`` when its checkpoint
shard is durable (the supervisor commits a step once every rank's shard is), ``ckpt-error``,
``inject`` just before an injected fault, and ``done`` with the SHA-256 of the weights.
EOF on stdin (the supervisor is gone) ends the rank at once, so nothing is orphaned.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import signal
import sys
import threading
import time
from concurrent.futures import Future
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import torch
import torch.distributed as dist
import torch.nn.functional as F  # noqa: N812 - the usual name

from mlfleet.errors import one_line
from mlfleet.ops.debug.rank_log import NoLog, RankLog, SpanLog
from mlfleet.reliability.train.job import BALLAST_NAME, RankJob
from mlfleet.reliability.train.model import (
    ShardedLoader,
    build_model,
    make_batch,
    rank_randomness,
    synthetic_dataset,
    weights_sha256,
)
from mlfleet.reliability.train.rank_state import (
    restore,
    rng_state,
    set_rng_state,
    shard_name,
    shard_payload,
)
from mlfleet.storage.checkpoint import AsyncCheckpointer, CheckpointStore, CheckpointWriteError


class Emitter:
    """JSON lines to the supervisor, one writer at a time (the heartbeat thread shares it)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream, self.lock = stream, threading.Lock()
        self.last_step = 0

    def __call__(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, "t": time.monotonic(), **fields})
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()


class Trainer:
    """The training loop of one rank for one attempt."""

    def __init__(self, job: RankJob, emit: Emitter) -> None:
        torch.set_num_threads(1)
        self.job, self.spec, self.emit = job, job.spec, emit
        self.log: SpanLog = NoLog() if job.log_dir is None else \
            RankLog(Path(job.log_dir), job.rank, world=job.world)
        self.store = CheckpointStore(job.ckpt_root, keep_last=None,
                                     compression=self.spec.compression)
        self.writer = AsyncCheckpointer(self.store) if self.spec.async_ckpt else None
        self.pending: list[Future[Any]] = []
        rendezvous = dist.FileStore(job.rendezvous_path, job.world)  # type: ignore[attr-defined]
        dist.init_process_group("gloo", store=rendezvous,
                                rank=job.rank, world_size=job.world,
                                timeout=timedelta(seconds=job.collective_timeout_s))
        spec = self.spec
        self.x, self.y = synthetic_dataset(spec.model, seed=spec.seed)
        self.model = build_model(spec.model, seed=spec.seed)
        self.optim = torch.optim.Adam(self.model.parameters(), lr=spec.lr * job.lr_scale)
        self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(self.optim, T_max=spec.steps)
        self.loader = ShardedLoader(spec.model.samples, seed=spec.seed)
        self.rand = rank_randomness(seed=spec.seed, rank=job.rank)
        self.step = 0
        self.n_params = sum(p.numel() for p in self.model.parameters())
        if job.resume_step is not None:
            self._restore(job.resume_step)

    def _restore(self, step: int) -> None:
        state = restore(self.store, step, rank=self.job.rank)
        self.model.load_state_dict(state.common["model"])
        self.optim.load_state_dict(state.common["optim"])
        self.sched.load_state_dict(state.common["sched"])
        self._rescale_lr(self.job.lr_scale / state.lr_scale)
        self.loader.epoch, self.loader.position = state.loader["epoch"], state.loader["position"]
        if state.rng is not None:
            set_rng_state(self.rand, state.rng)
        self.step = step

    def _rescale_lr(self, factor: float) -> None:
        """Multiply the learning rate (and the schedule it follows) by ``factor``."""
        if factor == 1.0:
            return
        for group in self.optim.param_groups:
            group["lr"] *= factor
            group["initial_lr"] *= factor
        self.sched.base_lrs = [lr * factor for lr in self.sched.base_lrs]
        self.sched._last_lr = [lr * factor for lr in self.sched.get_last_lr()]  # noqa: SLF001

    def run(self) -> None:
        self.emit("ready", step=self.step)
        while self.step < self.job.stop_step:
            self._inject(self.step + 1)
            self._train_step(self.step + 1)
            if self.step % self.spec.ckpt_every == 0 or self.step == self.job.stop_step:
                self._checkpoint(self.step)
        for future in self.pending:
            future.exception()  # wait; errors were reported by the callback
        if self.writer is not None:
            with contextlib.suppress(CheckpointWriteError):
                self.writer.close()
        self.emit("done", step=self.step, sha256=weights_sha256(self.model))
        self.log.close()
        dist.destroy_process_group()

    def _inject(self, step: int) -> None:
        if step == self.job.kill_step:
            self.emit("inject", kind="kill", step=step)
            os.kill(os.getpid(), signal.SIGKILL)
        if step == self.job.hang_step:
            self.emit("inject", kind="hang", step=step)
            os.kill(os.getpid(), signal.SIGSTOP)

    def _train_step(self, step: int) -> None:
        start, clock = time.monotonic(), time.perf_counter_ns
        t0 = clock()
        indices = self.loader.next_indices(world=self.job.world, rank=self.job.rank,
                                           per_rank_batch=self.spec.per_rank_batch)
        xb, yb = make_batch(self.x, self.y, indices, self.rand, classes=self.spec.model.classes)
        if step == self.job.spike_step:
            self.emit("inject", kind="spike", step=step)
            xb = xb * self.job.spike_factor
        self.optim.zero_grad()
        t1 = clock()
        loss = F.cross_entropy(self.model(xb), yb)
        t2 = clock()
        loss.backward()  # type: ignore[no-untyped-call]
        compute_s = time.monotonic() - start
        if self.job.slow_factor > 1.0:
            time.sleep((self.job.slow_factor - 1.0) * compute_s)
            compute_s = time.monotonic() - start
        t3 = clock()
        if step == self.job.nan_step:
            self.emit("inject", kind="nan", step=step)
            next(p.grad for p in self.model.parameters() if p.grad is not None).fill_(math.nan)
        local_norm, finite = self._allreduce_gradients()
        t4 = clock()
        lr = self.sched.get_last_lr()[0]
        if finite:  # a non-finite gradient skips the update, as a loss scaler does
            self.optim.step()
        self.sched.step()
        t5 = clock()
        self._log_step(step, (t0, t1, t2, t3, t4, t5), loss=float(loss.detach()),
                       grad_norm=local_norm, skipped=not finite)
        self.step = self.emit.last_step = step
        self.emit("step", step=step, compute_s=compute_s, step_s=time.monotonic() - start,
                  loss=float(loss.detach()), lr=lr)

    def _log_step(self, step: int, t: tuple[int, ...], *, loss: float, grad_norm: float,
                  skipped: bool) -> None:
        """The step's spans: data, forward (with the loss), backward (with the rank's own
        gradient norm), allreduce, optimizer."""
        self.log.span("data", step, t[0], t[1])
        self.log.span("forward", step, t[1], t[2], loss=loss)
        self.log.span("backward", step, t[2], t[3], grad_norm=grad_norm,
                      nonfinite=not (math.isfinite(grad_norm) and math.isfinite(loss)))
        self.log.span("allreduce", step, t[3], t[4], bytes=4 * self.n_params)
        self.log.span("optimizer", step, t[4], t[5], skipped=skipped)

    def _allreduce_gradients(self) -> tuple[float, bool]:
        """Average the gradients over the ranks: one flat gloo allreduce (SUM, then / world).

        Returns this rank's own gradient norm (before the allreduce) and whether the
        averaged gradient is finite."""
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads])
        local_norm = float(flat.norm())
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        flat /= self.job.world
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()
        return local_norm, bool(torch.isfinite(flat).all())

    def _checkpoint(self, step: int) -> None:
        start_ns = time.perf_counter_ns()
        try:
            self._write_checkpoint(step)
        finally:
            self.log.span("checkpoint", step, start_ns, time.perf_counter_ns())

    def _write_checkpoint(self, step: int) -> None:
        if step == self.job.fill_disk_step:
            self._fill_disk(step)
        start = time.monotonic()
        common = {"model": self.model.state_dict(), "optim": self.optim.state_dict(),
                  "sched": self.sched.state_dict()}
        tensors, meta = shard_payload(
            common=common, rng=rng_state(self.rand), rank=self.job.rank, world=self.job.world,
            meta={"step": step, "loader": self.loader.state(), "lr_scale": self.job.lr_scale})
        name = shard_name(self.job.rank)
        if self.writer is None:
            try:
                record = self.store.write_shard(step, name, tensors, meta)
            except CheckpointWriteError as exc:
                self.emit("ckpt-error", step=step, message=one_line(str(exc)))
                return
            stall_s = time.monotonic() - start
            self.emit("shard", step=step, name=name, stall_s=stall_s, write_s=stall_s,
                      bytes=record.bytes)
            return
        try:
            future = self.writer.save(step, name, tensors, meta)
        except CheckpointWriteError:  # the previous write's error, already reported
            future = self.writer.save(step, name, tensors, meta)
        stall_s = time.monotonic() - start
        future.add_done_callback(lambda f: self._written(f, step, name, start, stall_s))
        self.pending.append(future)

    def _fill_disk(self, step: int) -> None:
        """disk-full: rank 0 fills the checkpoint file system; every rank then writes into it."""
        if self.job.rank == 0:
            self._await_commit(step - self.spec.ckpt_every)
            self.emit("inject", kind="disk-full", step=step)
            fill_file_system(Path(self.job.ckpt_root) / BALLAST_NAME)
        dist.barrier()

    def _await_commit(self, step: int, timeout_s: float = 60.0) -> None:
        """Wait until the supervisor has committed ``step`` (so the full disk hits only the
        checkpoints after it)."""
        deadline = time.monotonic() + timeout_s
        while step > 0 and step not in self.store.steps() and time.monotonic() < deadline:
            time.sleep(0.01)

    def _written(self, future: Future[Any], step: int, name: str, start: float,
                 stall_s: float) -> None:
        exc = future.exception()
        if exc is not None:
            self.emit("ckpt-error", step=step, message=one_line(str(exc)))
            return
        self.emit("shard", step=step, name=name, stall_s=stall_s,
                  write_s=time.monotonic() - start, bytes=future.result().bytes)


def fill_file_system(path: Path) -> int:
    """Write zeros to ``path`` until the file system is full; the bytes written."""
    written, chunk = 0, bytes(1 << 20)
    with path.open("wb", buffering=0) as f:
        while True:
            try:
                written += f.write(chunk) or 0
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return written


def _heartbeat(emit: Emitter, every_s: float) -> None:
    while True:
        emit("hb", step=emit.last_step)
        time.sleep(every_s)


def _exit_on_eof() -> None:
    while sys.stdin.readline():
        pass
    os._exit(3)


def main() -> int:
    """Run one rank (see the module docstring); 0 when it finished, 1 on an error."""
    emit = Emitter(os.fdopen(os.dup(1), "w"))
    os.dup2(2, 1)  # stray prints must not corrupt the protocol
    job = RankJob.from_json_dict(json.loads(sys.stdin.readline()))
    threading.Thread(target=_exit_on_eof, daemon=True).start()
    threading.Thread(target=_heartbeat, args=(emit, job.heartbeat_s), daemon=True).start()
    try:
        Trainer(job, emit).run()
    except Exception as exc:  # noqa: BLE001 - every failure must reach the supervisor
        emit("error", message=one_line(f"{type(exc).__name__}: {exc}"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
