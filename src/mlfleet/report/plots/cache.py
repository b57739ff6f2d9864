"""Cache hit rate vs cache size: LRU, LFU and ARC replayed on a seeded Zipf trace, with
Che's closed form for LRU (:mod:`mlfleet.storage.cache.che`, Che et al. JSAC 2002).

A feature or embedding lookup stream under the independent reference model: ``ITEMS``
blocks, Zipf exponent ``ALPHA``, ``ACCESSES`` requests (kept small so the replays take
about a second). The steady-state hit rate leaves out the first 20 % of the trace.
"""

from __future__ import annotations

from mlfleet.report.plots.chart import Axis, Chart, Series
from mlfleet.storage.cache import POLICY_NAMES, policy, replay
from mlfleet.storage.cache.che import lru_hit_rate
from mlfleet.storage.cache.cli import WARMUP_FRACTION
from mlfleet.storage.cache.traces import parse

ITEMS, ALPHA, ACCESSES = 10_000, 0.9, 40_000
SIZE_PERCENTS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
"""Cache sizes as a percentage of the distinct blocks."""


def chart(*, seed: int) -> Chart:
    """Replay every policy at every size on one seeded trace."""
    trace = parse(f"zipf:items={ITEMS},alpha={ALPHA},accesses={ACCESSES}", seed=seed)
    assert trace.popularity is not None  # a zipf trace carries its popularity
    sizes = [max(1, int(p / 100 * trace.distinct_blocks)) for p in SIZE_PERCENTS]
    percents = tuple(100.0 * s / trace.distinct_blocks for s in sizes)
    warm = int(len(trace.blocks) * WARMUP_FRACTION)
    series = [Series(name=f"{name.upper()} (simulated)", x=percents,
                     y=tuple(float(replay(policy(name, s), trace.blocks)[warm:].mean())
                             for s in sizes))
              for name in POLICY_NAMES]
    series.append(Series(name="LRU, Che closed form", x=percents, dashed=True,
                         y=tuple(lru_hit_rate(trace.popularity, s) for s in sizes)))
    at = SIZE_PERCENTS.index(10.0)
    return Chart(
        plot_id="cache-hit-rate",
        title=f"Cache hit rate vs size (Zipf α={ALPHA}, {ITEMS:,} blocks)",
        caption=(f"Under a skewed lookup stream a cache of {percents[at]:.3g}% of the blocks "
                 f"serves {series[0].y[at]:.0%} (LRU) to {series[1].y[at]:.0%} (LFU) of the "
                 "requests; the dashed line is Che's closed form for LRU."),
        x=Axis(label="cache size (% of distinct blocks)", log=True),
        y=Axis(label="steady-state hit rate", lo=0.0, hi=1.0),
        series=tuple(series),
        note=f"{ACCESSES:,} accesses, seed {seed}; first {WARMUP_FRACTION:.0%} left out")
