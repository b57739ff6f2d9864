"""Design points per second: mlfleet's vectorised sweep vs MLSys·im, on the same question.

The question: the training step of Llama 3 405B (examples/llm-pretraining.yaml: tensor 8
x pipeline 16, ZeRO-1, 8,192-token sequences, 40 % MFU) on H100s, over a grid of GPU
counts x global batch (sequences) x precision. Same run, same machine:

* mlfleet, model only: :func:`mlfleet.sweep.training.training_metrics` on ``--points``
  design points (the grid's valid points tiled), every metric of a training sweep
  (roofline step, MFU, training time, cost, memory per GPU): one vectorised call per
  (workload, accelerator, precision) family;
* mlfleet, end to end: :func:`mlfleet.sweep.run.sweep` on the grid x 21 MFU values
  (every point validated as a scenario, then the model), as ``mlfleet sweep`` runs it
  minus Parquet;
* MLSys·im 0.3.0 (PyPI ``mlsysim``, the ``bench`` extra): ``DistributedModel.solve`` per
  point, a Python call with pint quantities, on the same grid.

Both answer "how long is one step": the script prints mlfleet's ``step_compute_s`` next to
MLSys·im's ``node_profile.latency_compute`` (both FLOP / (GPUs x peak x MFU)) and its
``step_latency_total`` (which adds its pipeline bubble and communication), with their
ratio. They differ by design: mlfleet counts attention FLOP (PaLM's 6N + 12·L·H·Q·T per
token), MLSys·im the 6·N·D rule, so mlfleet's compute time is longer by 12·L·H·Q·T / 6N
(+8.33 % for 405B at 8,192 tokens), and by its catalog's parameter count (405.85 B vs
MLSys·im's 405 B, +0.21 %): 1.0856 expected.

    python benchmarks/bench_sweep.py [--points 1000000] [--peer-points 60] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlfleet.scenario import Scenario, TrainingSpec
from mlfleet.sweep.combinations import base_document, combinations
from mlfleet.sweep.grid import parse_grid
from mlfleet.sweep.run import sweep
from mlfleet.sweep.training import training_metrics
from mlfleet.sweep.training_inputs import TrainingInputs, training_inputs

SCENARIO = Path(__file__).resolve().parents[1] / "examples" / "llm-pretraining.yaml"
GRID = ["cluster.gpus=1024:16384:x2", "training.global_batch_tokens=4Mi:64Mi:x2",
        "training.precision=bf16,fp8"]
"""5 GPU counts x 5 batches (512 to 8,192 sequences) x 2 precisions; data-parallel degree follows the GPU count."""
END_TO_END_GRID = [*GRID, "training.mfu=0.30:0.50:0.01"]
"""The grid x 21 MFU values (1,050 points), for the end-to-end rate."""
PEER_PRECISION = {"bf16": "bf16", "fp8": "fp8"}


def tiled(inputs: TrainingInputs, n: int) -> TrainingInputs:
    """``inputs`` repeated to ``n`` points (the same design points, many times)."""
    index = np.resize(np.arange(len(inputs.gpus)), n)
    arrays = {name: getattr(inputs, name)[index] for name in (
        "family_index", "gpus", "units_per_step", "seq_len", "mfu", "units_total",
        "cloud_usd_per_gpu_h", "data", "shards", "tensor", "zero_stage")}
    return TrainingInputs(families=inputs.families, **arrays)


def best_rate(func: Any, points: int, repeats: int = 3) -> float:
    """Points per second of the fastest of ``repeats`` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return points / best


@dataclass(frozen=True)
class Peer:
    """MLSys·im's model, cluster and solver, looked up once (its registry loads lazily)."""

    model: Any
    fleet: Any
    solver: Any

    @classmethod
    def load(cls) -> Peer:
        import mlsysim
        from mlsysim import solvers

        peer: Any = mlsysim  # untyped registries
        return cls(model=peer.Models.Language.Llama3_405B,
                   fleet=peer.Systems.Clusters.Meta_Llama3_16K_H100,
                   solver=solvers.DistributedModel())

    def point(self, scenario: Any) -> dict[str, float]:
        """MLSys·im's answer for one scenario of the grid."""
        training, par = scenario.training, scenario.training.parallelism
        fleet = self.fleet.model_copy(update={"count": scenario.cluster.gpus // 8})
        result = self.solver.solve(
            self.model, fleet, batch_size=training.batch_samples,
            precision=PEER_PRECISION[training.precision], efficiency=training.mfu,
            tp_size=par.tensor, pp_size=par.pipeline, zero_stage=training.zero_stage,
            seq_len=training.seq_len, microbatch_count=par.pipeline)
        return {"compute_s": result.node_profile.latency_compute.to("s").magnitude,
                "step_s": result.step_latency_total.to("s").magnitude}


def _training(scenario: Scenario) -> TrainingSpec:
    assert scenario.training is not None  # the benchmark's scenario trains
    return scenario.training


def run(points: int, peer_points: int) -> dict[str, Any]:
    grid = parse_grid(GRID)
    scenarios = combinations(base_document(SCENARIO), grid, lambda s: s).valid
    inputs = training_inputs(scenarios)
    big = tiled(inputs, points)
    model_rate = best_rate(lambda: training_metrics(big), points)
    e2e = parse_grid(END_TO_END_GRID)
    end_to_end_rate = best_rate(lambda: sweep(SCENARIO, e2e), e2e.size, repeats=1)
    sample = scenarios[:: max(1, len(scenarios) // peer_points)][:peer_points]
    mlsysim = Peer.load()
    mlsysim.point(sample[0])  # warm: the first solve loads its unit registry
    start = time.perf_counter()
    peer = [mlsysim.point(s) for s in sample]
    peer_rate = len(sample) / (time.perf_counter() - start)
    ours = training_metrics(training_inputs(sample))["step_compute_s"]
    compare = [{"gpus": s.cluster.gpus, "batch_samples": _training(s).batch_samples,
                "precision": _training(s).precision, "mlfleet_step_compute_s": float(o),
                "mlsysim_compute_s": p["compute_s"], "mlsysim_step_s": p["step_s"],
                "compute_ratio": float(o) / p["compute_s"]}
               for s, o, p in zip(sample, ours, peer, strict=True)]
    return {"grid_points": grid.size, "valid_points": len(scenarios), "model_points": points,
            "mlfleet_model_points_per_s": model_rate,
            "mlfleet_end_to_end_points_per_s": end_to_end_rate,
            "mlsysim_points_per_s": peer_rate, "peer_points": len(sample),
            "model_over_mlsysim": model_rate / peer_rate,
            "end_to_end_over_mlsysim": end_to_end_rate / peer_rate, "compare": compare}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--peer-points", type=int, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.points, args.peer_points)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"grid: {result['grid_points']} points ({result['valid_points']} valid)")
    print(f"mlfleet model (vectorised, {result['model_points']:,} points): "
          f"{result['mlfleet_model_points_per_s']:,.0f} points/s")
    print(f"mlfleet end to end (validate + model): "
          f"{result['mlfleet_end_to_end_points_per_s']:,.0f} points/s")
    print(f"MLSys·im DistributedModel.solve ({result['peer_points']} points): "
          f"{result['mlsysim_points_per_s']:,.0f} points/s")
    print(f"ratio model / MLSys·im: {result['model_over_mlsysim']:,.0f}x; "
          f"end to end / MLSys·im: {result['end_to_end_over_mlsysim']:,.1f}x")
    ratios = [row["compute_ratio"] for row in result["compare"]]
    print(f"step compute time mlfleet / MLSys·im: min {min(ratios):.4f}, max {max(ratios):.4f}")
    for row in result["compare"][:6]:
        print(f"  {row['gpus']:>6} GPUs, {row['batch_samples']:>5} seqs, {row['precision']}: "
              f"mlfleet {row['mlfleet_step_compute_s']:.4g} s, MLSys·im compute "
              f"{row['mlsysim_compute_s']:.4g} s (step with bubble+comm "
              f"{row['mlsysim_step_s']:.4g} s)")


if __name__ == "__main__":
    main()
