"""Team-draft interleaving vs A/B under several user and ranker conditions: how the ratio of
users needed for 80 % power moves with the conditions (a fidelity sweep, not a timing).

Each row is ``mlfleet ops experiment interleaving`` with the row's options (seed 0, 50,000
simulated users per method); docs/operations-sequential.md quotes the table.

    python benchmarks/bench_interleaving.py [--users 50000] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from mlfleet.ops.experiment.click_model import SearchModel
from mlfleet.ops.experiment.interleaving import compare_methods

CONDITIONS: list[tuple[str, dict[str, Any]]] = [
    ("default", {}),
    ("larger gap (0.5)", {"gap": 0.5}),
    ("smaller gap (0.1)", {"gap": 0.1}),
    ("5 results", {"list_len": 5}),
    ("10 queries per user", {"mean_queries": 10.0}),
    ("spread propensity Beta(0.5, 1.5)", {"propensity_a": 0.5, "propensity_b": 1.5}),
    ("both of the above", {"mean_queries": 10.0, "propensity_a": 0.5, "propensity_b": 1.5}),
    ("flatter examination 1/rank^0.5", {"examination_decay": 0.5}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for name, overrides in CONDITIONS:
        start = time.perf_counter()
        r = compare_methods(SearchModel(**overrides), pool_users=args.users, reps=400, seed=0)
        rows.append({"condition": name, "ab_users": r.ab.users, "interleaving_users":
                     r.interleaving.users, "ratio": r.ratio, "ratio_low": r.ratio_low,
                     "ratio_high": r.ratio_high, "clicks_gap": 1 - r.quality.clicks_b
                     / r.quality.clicks_a, "ab_power": r.ab.simulated_power,
                     "interleaving_power": r.interleaving.simulated_power,
                     "wall_s": time.perf_counter() - start})
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| condition | B's click deficit | A/B users | interleaving users | ratio (95% interval)"
          " | power at sizes (A/B, IL) |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['condition']} | {row['clicks_gap']:.1%} | {row['ab_users']:,} | "
              f"{row['interleaving_users']:,} | {row['ratio']:.2f} ({row['ratio_low']:.2f}–"
              f"{row['ratio_high']:.2f}) | {row['ab_power']:.3f}, "
              f"{row['interleaving_power']:.3f} |")


if __name__ == "__main__":
    main()
