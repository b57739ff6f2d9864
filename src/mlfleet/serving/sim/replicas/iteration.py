"""Iteration-level (continuous) batching machinery shared by the LLM schedulers.

A replica runs one *step* at a time. A step is either a single iteration that
processes prefill work (prompt tokens of joining requests, alone or mixed with the
decodes of the running batch), or a *decode run*: k iterations of a fixed batch in
which every running sequence generates one token per iteration. Nothing about the
batch changes inside a run, so the engine sees one event per run, and a run ends
exactly at the next composition change:

* the first running sequence to finish (a heap of finish counters);
* a KV-block allocation that would fail (paged schedulers, see :mod:`.paged`);
* an arrival that could join at the next iteration boundary: the run is cut to the
  first boundary at or after the arrival (:func:`~mlfleet.serving.sim.decode_run.run_first_k`).
  When every arrival comes to this replica (one replica, no policy to ask) the run is
  planned to stop there in the first place.

Two more savings, each exact: a prefill iteration is *fused* with the decode run that
follows it when nothing could be decided differently at its end (:meth:`_fuse`), and a
step whose end is the run's very next event is completed in place instead of going
through the kernel's heap (:meth:`_schedule`, asking
:meth:`~mlfleet.sim.Simulation.advance_if_next`, which moves the clock). ``tests/serving/test_sim_coalesce.py``
checks all of it against the naive :mod:`mlfleet.serving.sim.reference`.

Per sequence we keep an offset instead of a counter: while decoding, a sequence holds
``kv = off + n`` tokens of KV cache, where ``n`` is the replica's count of decode
iterations, so advancing k iterations is ``n += k`` for the whole batch. The context
sum the step time needs is ``Σ off + B·n``.

The running sequences sit in a heap ordered by the decode counter at which each
finishes (``heapq``: a priority queue of this replica's, not an event queue; the
replica's events go through the kernel).

Token accounting (as in vLLM): a prefill of L tokens writes L tokens of KV and yields
one output token; each decode iteration writes the KV of the previous token and yields
the next. A request is done when it has generated ``output_tokens`` tokens.
"""

from __future__ import annotations

import heapq
from abc import abstractmethod
from collections import deque

from mlfleet.errors import InputError
from mlfleet.serving.sim.decode_run import Run, plan_run, run_duration_s, run_first_k, solve_k
from mlfleet.serving.sim.replicas.base import Replica
from mlfleet.serving.sim.step_contract import DecodeLines, StepTime

_UNKNOWN: object = object()
"""Marks a batch size whose decode form is not cached yet (None is a cached answer)."""


class Seq:
    """One request's state on an iteration-level replica."""

    __slots__ = ("rid", "prompt", "output", "generated", "length", "done", "off", "n_finish")

    def __init__(self, rid: int, prompt: int, output: int) -> None:
        self.rid = rid
        self.prompt = prompt
        self.output = output
        self.generated = 0
        """Output tokens generated when it last joined the decoding batch (while decoding
        it has generated ``generated + kv - length``); kept across a preemption."""
        self.length = prompt
        """Tokens to prefill at the current admission: prompt + generated (recompute)."""
        self.done = 0
        """Tokens of ``length`` prefilled so far (chunked prefill)."""
        self.off = 0
        """While decoding: KV tokens held = off + the replica's decode counter."""
        self.n_finish = 0
        """While decoding: the decode counter at which it has generated everything."""


def whole(name: str, value: object, minimum: int = 1) -> int:
    """``value`` if it is an integer >= ``minimum``, else InputError quoting it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{name}(={value!r}) must be an integer >= {minimum}")
    return value


class IterationReplica(Replica):
    """Base of the continuous, paged and chunked schedulers (see the module docstring)."""

    def __init__(self, *, step_time: StepTime, max_seqs: int = 256, group: str = "stable",
                 weight: float = 1.0) -> None:
        super().__init__(group=group, weight=weight)
        self._forms: dict[int, DecodeLines | None | object] = {}
        self.step_time = step_time
        self.max_seqs = whole("max_seqs", max_seqs)
        """Most sequences admitted at once (vLLM max_num_seqs, Orca max batch size)."""
        self.waiting: deque[Seq] = deque()
        self.running: dict[int, Seq] = {}
        """Decoding sequences in admission order."""
        self.n = 0
        """Decode iterations run so far."""
        self._b = 0
        self._s_off = 0
        self._fin: list[tuple[int, int]] = []
        self._admitted = 0
        self._busy = False
        self._t0 = 0.0
        self._end = 0.0
        self._k = 0
        self._run: Run | None = None
        self._pf: list[tuple[Seq, int]] = []
        self._wake = -1
        self._capped = False
        """The current run already stops at the boundary after the next arrival."""
        self._lead = 0.0
        """Length of the prefill iteration fused in front of the current run (0: none)."""
        self.prefilling: list[Seq] = []
        """Admitted sequences part-way through a chunked prefill (chunked scheduler)."""
        self._paged = False
        """Whether KV is paged: then ``_hist`` counts decoding sequences by ``off mod _bs``
        (see :mod:`.paged`)."""
        self._hist: list[int] = []
        self._bs = 1
        self._max_tokens = 1 << 62
        """Longest prompt + output this replica can ever serve (longer ones are rejected)."""

    @property
    def step_time(self) -> StepTime:
        """Iteration time model; assign a new one to calibrate or slow down a replica."""
        return self._step_time

    @step_time.setter
    def step_time(self, value: StepTime) -> None:
        self._step_time = value
        self._forms.clear()

    # ------------------------------------------------------------- view

    @property
    def outstanding(self) -> int:
        return len(self.waiting) + self._admitted

    @property
    def queued(self) -> int:
        return len(self.waiting)

    @property
    def context_tokens(self) -> int:
        """KV tokens the decoding sequences hold now (Σ off + B·n)."""
        return self._s_off + self._b * self.n

    # ------------------------------------------------------------- engine events

    def enqueue(self, rid: int, now_s: float) -> None:
        cols = self.columns
        prompt, output = cols.prompt[rid], cols.output[rid]
        if prompt + output > self._max_tokens:
            self.engine.reject(rid, now_s)
            return
        seq = Seq(rid, prompt, output)
        if not self._busy:
            self.waiting.append(seq)
            self._schedule(now_s)
            return
        join = (self._run is not None and not self._capped and (self._k > 1 or self._lead > 0)
                and not self.waiting and self._can_join(seq))
        self.waiting.append(seq)
        if join:
            self._truncate(now_s)

    def on_timer(self, now_s: float, seq: int, payload: object) -> None:
        """The current step ended: apply it, plan the next."""
        assert seq == self._wake, "a superseded step end was not cancelled"
        self._complete_step(now_s)
        self._schedule(now_s)

    def _complete_step(self, now_s: float) -> None:
        """Apply the step that ends at ``now_s``: advance, prefills, finishes."""
        if self._k:
            self._advance(self._k)
        if self._pf:
            pf, self._pf = self._pf, []
            for joining, chunk in pf:
                joining.done += chunk
                if joining.done >= joining.length:
                    self._prefilled(joining, now_s)
        fin, n = self._fin, self.n
        while fin and fin[0][0] <= n:
            nf, rid = heapq.heappop(fin)
            done = self.running.get(rid)
            if done is not None and done.n_finish == nf:
                self._finish(done, now_s)

    def evict(self, now_s: float) -> list[int]:
        if self._busy:
            self.busy_s -= max(0.0, self._end - now_s)
            self._sim.cancel(self._wake)
        rids = sorted({s.rid for s in self._all_seqs()})
        self.waiting.clear()
        self.running.clear()
        self._fin.clear()
        self._pf = []
        self._b = self._s_off = self._admitted = self._k = 0
        self._busy, self._run, self._wake = False, None, -1
        self.prefilling.clear()
        self._hist = [0] * self._bs if self._paged else []
        self._reset_resources()
        return rids

    def _all_seqs(self) -> list[Seq]:
        return [*self.waiting, *self.running.values(), *(s for s, _ in self._pf),
                *self.prefilling]

    # ------------------------------------------------------------- steps

    def _schedule(self, now_s: float) -> None:
        """Plan the next step and wake at its end. When that end is the run's very next
        event (before the next arrival and everything scheduled), the kernel moves the
        clock there and the step completes here; then plan again."""
        sim = self._sim
        while True:
            self._k, self._run, self._capped, self._lead = 0, None, False, 0.0
            duration = self._plan(now_s)
            if duration is None:
                self._busy = False
                return
            assert duration > 0, f"an iteration must take > 0 s, got {duration!r}"
            self.busy_s += duration
            end = now_s + duration
            if sim.advance_if_next(end):
                now_s = end
                self._complete_step(end)
                continue
            self._busy = True
            self._t0 = now_s + self._lead
            self._end = end
            self._wake = sim.schedule(end, self._timer)
            return

    def _truncate(self, now_s: float) -> None:
        """Cut the current decode run at the first iteration boundary >= now_s."""
        run = self._run
        assert run is not None
        if now_s <= self._t0:  # still in the fused prefill: the run does not start
            k, end = 0, self._t0
        else:
            k = run_first_k(run, now_s - self._t0)
            end = max(self._t0 + run_duration_s(run, k), now_s)
        if k >= self._k:
            return
        if k == 0:
            self._unreserve()
        self.busy_s -= self._end - end
        self._k, self._end = k, end
        sim = self._sim
        sim.cancel(self._wake)
        self._wake = sim.schedule(end, self._timer)

    def _decode_run(self, now_s: float) -> float:
        """Plan a decode run up to the next finish (or :meth:`_limit`); its duration.

        When every arrival comes here (one replica, nothing to decide) and the next one
        could join, the run also stops at the first boundary after that arrival, which
        saves rescheduling the run when it comes.
        """
        fin, running = self._fin, self.running
        nf, rid = fin[0]
        seq = running.get(rid)
        while seq is None or seq.n_finish != nf:  # drop entries of preempted sequences
            heapq.heappop(fin)
            nf, rid = fin[0]
            seq = running.get(rid)
        k = nf - self.n
        b = self._b
        form = self._forms.get(b, _UNKNOWN)
        if form is _UNKNOWN:
            form = self._forms[b] = self._step_time.decode_lines(b)
        if k > 1:
            k = 1 if form is None else self._limit(k)
        run = plan_run(self._step_time, b, float(self._s_off + b * self.n), k,
                       form)  # type: ignore[arg-type]
        self._run, self._k = run, k
        eng = self.engine
        if (k > 1 or self._lead) and eng.sole_replica is self and not self.waiting \
                and self._admitted < self.max_seqs:
            dt = eng.next_arrival_s - now_s
            if dt < run[1]:
                self._capped = True
                if dt <= 0:  # it arrives during the fused prefill: no decode run
                    self._k = 0
                    self._unreserve()
                    return 0.0
                if run[4] is None:  # one line binds: iteration j takes v0 + b·j
                    v0, slope = run[2], run[3]
                    self._k = k = solve_k(v0, slope, dt, k)
                    return k * (v0 + 0.5 * slope * (k - 1))
                self._k = k = run_first_k(run, dt)
                return run_duration_s(run, k)
        return run[1]

    def _limit(self, k: int) -> int:
        """Hook: cut a planned run of ``k`` iterations short (paged: before blocks run out)."""
        return k

    def _fuse(self, now_s: float, duration_s: float) -> float:
        """Extend a planned prefill (or mixed) iteration of ``duration_s`` with the decode
        run that follows it, when the engine would decide nothing else at its end: every
        prompt in progress completes in it, nobody finishes (a completion is reported at
        its time), nobody waiting could be admitted then, and the run's first block
        allocation needs no preemption. An arrival during the prefill cuts the run to
        nothing (:meth:`_truncate`), so the results equal the unfused ones exactly.
        Returns the duration of the whole step.
        """
        pf = self._pf
        if self.prefilling and len(self.prefilling) > len(pf):
            return duration_s
        for seq, chunk in pf:
            if seq.done + chunk < seq.length or seq.generated + 1 >= seq.output:
                return duration_s
        if self._k and self._fin and self._fin[0][0] <= self.n + 1:
            return duration_s
        t1 = now_s + duration_s
        if self._k:
            self._advance(self._k)
        self._pf, self._k, self._lead = [], 0, duration_s
        for seq, chunk in pf:
            seq.done += chunk
            self._prefilled(seq, t1)
        if not self._reserve_first():
            return duration_s
        if self.waiting and self._would_admit(self.waiting[0]):
            self._unreserve()
            return duration_s
        return duration_s + self._decode_run(t1)

    def _would_admit(self, head: Seq) -> bool:
        """Whether planning now (after :meth:`_reserve_first`) would admit ``head``;
        True when unsure."""
        return self._can_join(head)

    def _reserve_first(self) -> bool:
        """Hook: allocate the first iteration of a fused run if that needs no preemption."""
        return True

    def _unreserve(self) -> None:
        """Hook: give back what :meth:`_reserve_first` took (the run was cut to nothing)."""

    def _mixed_s(self, tokens: int, pairs: float, prefix: int = 0) -> float:
        """One iteration with the prefill work in ``self._pf`` and every running decode."""
        self._k = 1 if self._b else 0
        return self._step_time.iteration_s(self._b, float(self._s_off + self._b * self.n),
                                          tokens, pairs, prefix)

    # ------------------------------------------------------------- sequence moves

    def _admit(self, seq: Seq, now_s: float) -> None:
        """``seq`` leaves the queue for service (its prefill starts this step)."""
        self._admitted += 1
        start_s = self.columns.start_s
        if start_s[seq.rid] != start_s[seq.rid]:  # NaN: the first time it starts
            start_s[seq.rid] = now_s

    def _prefilled(self, seq: Seq, now_s: float) -> None:
        seq.generated += 1
        first_s = self.columns.first_token_s
        if first_s[seq.rid] != first_s[seq.rid]:  # NaN: its first token
            first_s[seq.rid] = now_s
        if self.prefilling:
            self.prefilling.remove(seq)
        if seq.generated >= seq.output:
            self._finish(seq, now_s)
            return
        seq.off = seq.length - self.n
        seq.n_finish = self.n + seq.output - seq.generated
        self.running[seq.rid] = seq
        self._b += 1
        self._s_off += seq.off
        heapq.heappush(self._fin, (seq.n_finish, seq.rid))
        if self._paged:
            self._hist[seq.off % self._bs] += 1

    def _leave(self, seq: Seq) -> None:
        """A decoding ``seq`` stops decoding (finish or preemption)."""
        del self.running[seq.rid]
        self._b -= 1
        self._s_off -= seq.off
        if self._paged:
            self._hist[seq.off % self._bs] -= 1

    def _finish(self, seq: Seq, now_s: float) -> None:
        self._admitted -= 1
        self._release(seq)
        if self.running.get(seq.rid) is seq:
            self._leave(seq)
        self.engine.complete(seq.rid, now_s)

    # ------------------------------------------------------------- scheduler hooks

    @abstractmethod
    def _plan(self, now_s: float) -> float | None:
        """Choose the next step (set ``_pf``/``_k``/``_run``); its duration, None if idle."""

    @abstractmethod
    def _can_join(self, seq: Seq) -> bool:
        """Whether a new arrival could be admitted at the next boundary (an upper bound)."""

    def _advance(self, k: int) -> None:
        self.n += k

    def _release(self, seq: Seq) -> None:
        """Hook: give back ``seq``'s resources (reservation, KV blocks); called while a
        decoding ``seq`` is still in ``running``."""

    def _reset_resources(self) -> None:
        """Hook: the replica died; every resource is free again."""
