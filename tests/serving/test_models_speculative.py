"""Speculative decoding: the closed form against a Monte-Carlo of the accept/reject
process of Leviathan et al. 2023 (Algorithm 1) on explicit target and draft distributions.

Observed (seed 11, 200k rounds per point): mean tokens per round within 0.2% of
(1 - α^(k+1))/(1 - α) for every (distribution pair, k); the emitted tokens follow the
target distribution p (total-variation distance < 0.01, sampling noise).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.errors import ServingInputError
from mlfleet.serving.models import speculative as sp
from mlfleet.serving.models.llm_step import llm_step_model


def speculative_rounds(p: np.ndarray, q: np.ndarray, k: int, n: int, rng: np.random.Generator
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rounds of Algorithm 1 with position-independent p (target) and q (draft),
    vectorised over rounds. Returns (tokens per round, counts of each emitted token)."""
    drafts = rng.choice(p.size, size=(n, k), p=q)  # (n, k)
    accept = rng.random((n, k)) < np.minimum(1.0, p[drafts] / q[drafts])
    accepted = np.where(accept.all(axis=1), k, np.argmin(accept, axis=1))  # first rejection
    residual = np.maximum(p - q, 0.0)
    final = np.where(accepted == k,
                     rng.choice(p.size, size=n, p=p),  # all accepted: a bonus token from p
                     rng.choice(p.size, size=n, p=residual / residual.sum()))  # resample
    kept = drafts[np.arange(k)[None, :] < accepted[:, None]]
    counts = np.bincount(kept, minlength=p.size) + np.bincount(final, minlength=p.size)
    return accepted + 1.0, counts


PAIRS = {
    "close": (np.array([0.5, 0.3, 0.15, 0.05]), np.array([0.4, 0.35, 0.15, 0.10])),
    "far": (np.array([0.7, 0.1, 0.1, 0.1]), np.array([0.1, 0.3, 0.3, 0.3])),
}


@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("k", [1, 3, 6])
def test_tokens_per_round_matches_monte_carlo(name: str, k: int) -> None:
    p, q = PAIRS[name]
    alpha = sp.acceptance_rate(p, q)
    per_round, counts = speculative_rounds(p, q, k, 200_000, np.random.default_rng(11))
    mc = float(per_round.mean())
    closed = float(sp.expected_tokens_per_step(alpha, k))
    print(f"\n{name} α={alpha:.2f} k={k}: closed {closed:.4f} MC {mc:.4f} "
          f"({closed / mc - 1:+.2%})")
    assert closed == pytest.approx(mc, rel=0.01)
    freq = counts / counts.sum()
    assert 0.5 * np.abs(freq - p).sum() < 0.01  # output ~ target distribution


def test_acceptance_rate_is_one_minus_total_variation() -> None:
    p, q = PAIRS["far"]
    assert sp.acceptance_rate(p, q) == pytest.approx(1 - 0.5 * np.abs(p - q).sum())
    assert sp.acceptance_rate(p, p) == pytest.approx(1.0)


def test_closed_forms() -> None:
    assert float(sp.expected_tokens_per_step(0.0, 5)) == 1.0
    assert float(sp.expected_tokens_per_step(1.0, 5)) == 6.0
    assert float(sp.expected_tokens_per_step(0.5, 2)) == pytest.approx(1.75)
    # Leviathan et al. 2023, Thm 3.8: (1 - α^(k+1)) / ((1 - α)(kc + 1))
    assert float(sp.speedup(0.8, 4, 0.05)) == pytest.approx((1 - 0.8**5) / (0.2 * 1.2))
    k, s = sp.optimal_k(np.array([0.0, 0.6, 0.9]), 0.05, k_max=16)
    assert k[0] == 0 and s[0] == 1.0  # nothing accepted: do not speculate
    assert 0 < k[1] < k[2]  # better drafts justify longer speculation


@settings(max_examples=60, deadline=None)
@given(alpha=st.floats(0, 1), k=st.integers(0, 20))
def test_tokens_per_step_bounds(alpha: float, k: int) -> None:
    e = float(sp.expected_tokens_per_step(alpha, k))
    assert 1.0 - 1e-12 <= e <= k + 1 + 1e-9
    assert e <= float(sp.expected_tokens_per_step(alpha, k + 1)) + 1e-12


def test_model_mode_against_the_formula() -> None:
    """With step times from the step model the speed-up equals the formula evaluated at
    c = t_draft / t_target when verification costs one decode step (here: within 5%,
    verifying k+1 tokens of a memory-bound step costs little more than one)."""
    target = llm_step_model(workload="Llama-3-70B", accelerator="H100", tp=8)
    draft = llm_step_model(workload="Llama-3-8B", accelerator="H100", tp=8)
    t = sp.speculative_time(target, draft, batch=1, context_len=1024, alpha=0.8, k=4)
    c = float(draft.decode(batch=1, context_len=1024).time_s
              / target.decode(batch=1, context_len=1024).time_s)
    assert float(t.speedup) == pytest.approx(float(sp.speedup(0.8, 4, c)), rel=0.05)
    assert float(t.speedup) > 1.0


def test_bad_input() -> None:
    with pytest.raises(ServingInputError, match=r"alpha\(=1.2\)"):
        sp.expected_tokens_per_step(1.2, 3)
    with pytest.raises(ServingInputError, match=r"k\(=-1\)"):
        sp.speedup(0.5, -1, 0.1)


def test_memory_is_target_shard_plus_whole_draft() -> None:
    target = llm_step_model(workload="Llama-3-70B", accelerator="H100", tp=8)
    draft = llm_step_model(workload="Llama-3-8B", accelerator="H100")
    fit = sp.speculative_memory(target, draft, batch=2, context_len=100, k=np.asarray([0, 3]))
    assert fit is not None
    weights = target.weight_bytes_per_gpu + draft.weight_bytes_per_gpu
    np.testing.assert_allclose(fit.weight_bytes, weights)
    # per GPU at tp 8: one of 8 KV heads of the target; the draft's 8 heads whole
    kv_target = 2 * np.array([101, 104]) * 2 * 80 * 1 * 128 * 2
    kv_draft = 2 * np.array([100, 103]) * 2 * 32 * 8 * 128 * 2
    np.testing.assert_array_equal(fit.kv_cache_bytes, kv_target + kv_draft)
    assert fit.fits.all()
