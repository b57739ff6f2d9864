"""k decode iterations of a fixed batch in closed form: how the engine skips iterations.

A batch of B sequences decoding together, with context sum C0 at the first iteration,
has context sum C0 + j·B at iteration j, so iteration j takes

    τ_j = const + max_p (a_p + b_p·(C0 + j·B))

— the upper envelope of lines in j, convex and piecewise linear. The time of the first
k iterations, S(k) = Σ_{j<k} τ_j, is a sum of arithmetic series, one per envelope
segment; and the first iteration boundary at or after a time (an arrival that may
join) solves a quadratic on one segment. Both cost O(pieces²), not O(k): this is what
makes the simulator "one event per composition change, never per token".
"""

from __future__ import annotations

import math

from mlfleet.serving.sim.step_contract import DecodeLines, StepTime

# (j0, j1, value_at_j0_s, slope_s_per_iteration, time_before_j0_s)
_Segment = tuple[int, int, float, float, float]


def _envelope(lines: list[tuple[float, float]], k: int) -> list[tuple[int, float, float]]:
    """Breakpoints ``(j_start, a, b)`` of max_p(a_p + b_p·j) over integer j in [0, k)."""
    a, b = max(lines)  # largest value at j = 0; ties: the steeper line
    j, out = 0, [(0, a, b)]
    while True:
        best_j, best = k, (a, b)
        for la, lb in lines:
            if lb > b:
                # la + lb·j > a + b·j exactly for j > x
                jj = max(math.floor((a - la) / (lb - b)) + 1, j + 1)
                if jj < best_j or (jj == best_j and (la + lb * jj, lb)
                                   > (best[0] + best[1] * jj, best[1])):
                    best_j, best = jj, (la, lb)
        if best_j >= k:
            return out
        j, (a, b) = best_j, best
        out.append((j, a, b))


Run = tuple[int, float, float, float, "list[_Segment] | None"]
"""A planned run: ``(k_max, total_s, v0, b, segments)``. With ``segments`` None one line
binds throughout and iteration j takes ``v0 + b·j``. A plain tuple, because the engine
plans one per composition change and tuples are the cheapest thing Python builds."""


def plan_run(step: StepTime, batch: int, context0: float, k_max: int,
             form: DecodeLines | None = None) -> Run:
    """A run of ``k_max`` iterations of ``batch`` sequences from context sum ``context0``.

    ``form`` is ``step.decode_lines(batch)`` when the caller has it already. When the
    step has no closed form the run is summed iteration by iteration: exact, O(k).
    """
    if form is None:
        form = step.decode_lines(batch)
        if form is None:
            return _summed(step, batch, context0, k_max)
    const, lines = form
    if len(lines) == 2:  # the roofline: one line binds throughout unless they cross
        (a1, b1), (a2, b2) = lines
        v1, v2 = const + a1 + b1 * context0, const + a2 + b2 * context0
        s1, s2 = b1 * batch, b2 * batch
        last = k_max - 1
        if v1 >= v2 and v1 + s1 * last >= v2 + s2 * last:
            return (k_max, k_max * (v1 + 0.5 * s1 * last), v1, s1, None)
        if v2 >= v1 and v2 + s2 * last >= v1 + s1 * last:
            return (k_max, k_max * (v2 + 0.5 * s2 * last), v2, s2, None)
    env = _envelope([(const + a + b * context0, b * batch) for a, b in lines], k_max)
    segs: list[_Segment] = []
    total = 0.0
    for i, (j0, a, b) in enumerate(env):
        j1 = env[i + 1][0] if i + 1 < len(env) else k_max
        v0 = a + b * j0
        segs.append((j0, j1, v0, b, total))
        m = j1 - j0
        total += m * (v0 + 0.5 * b * (m - 1))
    return (k_max, total, 0.0, 0.0, segs)


def _summed(step: StepTime, batch: int, context0: float, k_max: int) -> Run:
    segs: list[_Segment] = []
    total = 0.0
    for j in range(k_max):
        tau = step.iteration_s(batch, context0 + j * batch)
        segs.append((j, j + 1, tau, 0.0, total))
        total += tau
    return (k_max, total, 0.0, 0.0, segs)


def run_duration_s(run: Run, k: int) -> float:
    """Time of the first ``k`` iterations of ``run`` (0 <= k <= k_max)."""
    k_max, total, v0, b, segs = run
    if segs is None:
        return k * (v0 + 0.5 * b * (k - 1))
    for j0, j1, v0, b, before in segs:
        if k <= j1:
            m = k - j0
            return before + m * (v0 + 0.5 * b * (m - 1))
    raise AssertionError(f"k={k} beyond the planned run of {k_max}")


def run_first_k(run: Run, dt_s: float) -> int:
    """The smallest k >= 1 with run_duration_s(run, k) >= dt_s (k_max if none is)."""
    k_max, total, v0, b, segs = run
    if dt_s >= total:
        return k_max
    if segs is None:
        return solve_k(v0, b, dt_s, k_max)
    for j0, j1, v0, b, before in segs:
        m_total = j1 - j0
        if before + m_total * (v0 + 0.5 * b * (m_total - 1)) < dt_s:
            continue
        return max(j0 + solve_k(v0, b, dt_s - before, m_total), 1)
    return k_max


def solve_k(v0: float, b: float, need_s: float, m_max: int) -> int:
    """Smallest m in [1, m_max] with m·v0 + b·m(m-1)/2 >= need_s (m_max if none): the
    first boundary at or after ``need_s`` of iterations taking v0, v0 + b, v0 + 2b, ..."""
    if need_s <= 0:
        return 1
    if b == 0.0:
        m = math.ceil(need_s / v0)
    else:  # (b/2)m² + (v0 - b/2)m - need = 0
        p = v0 - 0.5 * b
        m = math.ceil((math.sqrt(p * p + 2.0 * b * need_s) - p) / b)
    if m > m_max:
        m = m_max
    elif m < 1:
        m = 1
    # the closed form can be off by one in floating point: settle it on the sums
    while m > 1 and (m - 1) * (v0 + 0.5 * b * (m - 2)) >= need_s:
        m -= 1
    while m < m_max and m * (v0 + 0.5 * b * (m - 1)) < need_s:
        m += 1
    return m
