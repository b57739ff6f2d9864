"""Speed of the roofline model: a design-space sweep should cost well under a µs per point.

Run: ``.venv/bin/python benchmarks/bench_roofline.py [points]``. Prints ns per point for a
decode sweep (batch x context x GPUs) through ``llm_decode`` + ``predict``. Not a test.
"""

from __future__ import annotations

import sys
from time import perf_counter

import numpy as np

from mlfleet.infra import roofline as rl

LLAMA3_8B = rl.TransformerShape(params=8.03e9, n_layers=32, d_model=4096, n_heads=32,
                                n_kv_heads=8)


def sweep(points: int) -> float:
    """Seconds for one vectorised sweep of about ``points`` configurations."""
    side = max(1, round(points ** (1 / 3)))
    batch, context, gpus = np.meshgrid(np.arange(1, side + 1), np.geomspace(128, 131072, side),
                                       np.arange(1, side + 1), indexing="ij")
    device = rl.Device(name="H100-like", peak_flops_per_s=989.5e12, mem_bw_bytes_per_s=3.35e12)
    start = perf_counter()
    cost = rl.llm_decode(LLAMA3_8B, batch=batch, context_len=context, n_gpus=gpus)
    result = rl.predict(cost, device, compute_efficiency=0.6, overhead_s=2e-3)
    elapsed = perf_counter() - start
    assert result.time_s.size == side**3
    return elapsed


def main() -> None:
    points = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    best = min(sweep(points) for _ in range(3))
    side = max(1, round(points ** (1 / 3)))
    print(f"{side**3:,} points in {best * 1e3:.1f} ms: {best / side**3 * 1e9:.0f} ns/point")


if __name__ == "__main__":
    main()
