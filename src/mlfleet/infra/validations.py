"""Validation providers of the infrastructure chapter (``mlfleet validate``).

* ``provide_roofline``: the roofline's FLOP count (PaLM appendix B) and the catalog peaks
  against the MFU that PaLM, MosaicML, Megatron-LM and Llama 3 report, and one assumed
  efficiency predicting each MPT row's throughput out of sample (leave one out).
* ``provide_scheduling``: the cluster simulator's Tiresias and Optimus+Oracle against the
  Pollux (OSDI'21) artifact's published average JCT.

The published data are in ``mlfleet/validate/data/published_mfu.yaml`` with their sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from mlfleet.catalog.types import Accelerator
from mlfleet.infra import roofline as rl
from mlfleet.package_data import package_yaml
from mlfleet.validate.registry import Check, Context

_check = partial(Check, chapter="infra")
MFU_BOUND = 1e-3
"""0.1 percentage point: the runs' MFU is printed to 3-4 digits."""
LOO_BOUND = 0.25
"""Largest |error| of a leave-one-out throughput (observed: −12 … +17 %)."""


@dataclass(frozen=True, kw_only=True)
class PublishedRun:
    """A published training run: shape, chips, throughput, reported MFU and peak."""

    name: str
    shape: rl.TransformerShape
    chips: int
    tokens_per_s: float
    mfu: float
    peak_flops_per_s: float
    source: str
    batch_tokens: float = 2**20

    def implied_mfu(self) -> float:
        """(6N + 12·L·H·Q·T)·tokens/s / (chips·peak), sequence length 2048."""
        cost = rl.llm_training_step(self.shape, tokens=self.tokens_per_s, seq_len=2048,
                                    n_gpus=self.chips)
        return float(cost.model_flop) / self.peak_flops_per_s


def published_data() -> dict[str, Any]:
    data: dict[str, Any] = package_yaml("mlfleet.validate", "data", "published_mfu.yaml")
    return data


def h100_peak_flops_per_s() -> float:
    return float(Accelerator.from_name("H100-SXM").flops_per_s("bf16"))


def other_runs(data: dict[str, Any]) -> list[PublishedRun]:
    return [PublishedRun(name=r["name"], chips=r["chips"], tokens_per_s=r["tokens_per_s"],
                         mfu=r["mfu"], peak_flops_per_s=data["peaks"][r["peak"]]["flops_per_s"],
                         source=r["source"],
                         shape=rl.TransformerShape(params=r["params"], n_layers=r["layers"],
                                                   d_model=r["d_model"], n_heads=r["heads"],
                                                   head_dim=r.get("head_dim")))
            for r in data["runs"]]


def mpt_h100_runs(data: dict[str, Any]) -> list[PublishedRun]:
    table, peak = data["mpt_h100"], h100_peak_flops_per_s()
    runs = []
    for model, gpus, tokens_per_s, mfu, batch in table["rows"]:
        params, layers, d_model, heads = table["shapes"][model]
        runs.append(PublishedRun(
            name=f"MPT-{model}-{gpus}xH100", chips=gpus, tokens_per_s=tokens_per_s, mfu=mfu,
            peak_flops_per_s=peak, source=table["source"], batch_tokens=batch,
            shape=rl.TransformerShape(params=params, n_layers=layers, d_model=d_model,
                                      n_heads=heads)))
    return runs


def mfu_checks(runs: list[PublishedRun]) -> list[Check]:
    return [_check(id=f"infra.roofline.mfu.{run.name}", quantity=f"MFU of {run.name}",
                   model="infra.roofline.llm_training_step (PaLM appendix B FLOP count)",
                   reference=run.source, reference_kind="published", reference_value=run.mfu,
                   predicted=run.implied_mfu(), bound=MFU_BOUND, absolute=True)
            for run in runs]


def loo_checks(runs: list[PublishedRun]) -> list[Check]:
    """Each run's tokens/s predicted with efficiency = median MFU of the others."""
    out = []
    for i, run in enumerate(runs):
        efficiency = float(np.median([r.mfu for j, r in enumerate(runs) if j != i]))
        result = rl.training_step(workload=run.shape, accelerator="H100-SXM",
                                  precision="bf16", global_batch_tokens=run.batch_tokens,
                                  n_gpus=run.chips, seq_len=2048,
                                  compute_efficiency=efficiency)
        out.append(_check(
            id=f"infra.roofline.loo-throughput.{run.name}",
            quantity=f"tokens/s of {run.name}, efficiency = median MFU of the other rows",
            model="infra.roofline.training_step", reference=run.source,
            reference_kind="published", reference_value=run.tokens_per_s,
            predicted=float(result.tokens_per_s), bound=LOO_BOUND,
            note="out of sample: the row's own MFU is not used"))
    return out


def megatron_check() -> Check:
    """Narayanan et al. 2021 (SC21), Table 1: GPT-3 175B on 1024 A100 at 140 TFLOP/s per
    GPU by their eq. (3), which counts activation recomputation; tokens/s from their count,
    FLOP from ours with ``recompute=True``."""
    layers, hidden, vocab, seq = 96, 12288, 51200, 2048
    lh = layers * hidden
    params = 12 * lh * hidden * (1 + 13 / (12 * hidden) + (vocab + seq) / (12 * lh))  # eq. 2
    their_flop_per_token = 96 * lh * hidden * (1 + seq / (6 * hidden) + vocab / (16 * lh))
    tokens_per_s = 140e12 * 1024 / their_flop_per_token
    shape = rl.TransformerShape(params=params, n_layers=layers, d_model=hidden, n_heads=96)
    cost = rl.llm_training_step(shape, tokens=tokens_per_s, seq_len=seq, n_gpus=1024,
                                recompute=True)
    peak = published_data()["peaks"]["A100-bf16"]["flops_per_s"]
    return _check(id="infra.roofline.hfu.gpt3-175b-1024xA100",
                  quantity="hardware FLOP utilisation of GPT-3 175B with recomputation",
                  model="infra.roofline.llm_training_step(recompute=True)",
                  reference="Narayanan et al. 2021 (SC21), Table 1: 140 of 312 TFLOP/s",
                  reference_kind="published", reference_value=140 / 312,
                  predicted=float(cost.flop) / peak, bound=5e-3, absolute=True)


def llama3_checks(data: dict[str, Any]) -> list[Check]:
    table = data["llama3_h100"]
    return [_check(id=f"infra.roofline.mfu.llama3-405b-{tflops}tflops",
                   quantity=f"MFU of {tflops} TFLOP/s per H100 (catalog bf16 peak)",
                   model="catalog H100-SXM bf16 peak", reference=table["source"],
                   reference_kind="published", reference_value=mfu,
                   predicted=tflops * 1e12 / h100_peak_flops_per_s(), bound=0.01,
                   absolute=True, note="the paper rounds MFU to whole percent")
            for tflops, mfu in table["rows"]]


def provide_roofline(ctx: Context) -> list[Check]:
    data = published_data()
    mpt = mpt_h100_runs(data)
    return [*mfu_checks([*other_runs(data), *mpt]), megatron_check(), *llama3_checks(data),
            *loo_checks(mpt)]


SCHEDULING_QUICK = tuple((p, 0.5, w) for p in ("tiresias", "optimus")
                         for w in ("workload-2", "workload-5"))
"""The cases a quick run reproduces (under half a second each); a full run does all 32."""


def provide_scheduling(ctx: Context) -> list[Check]:
    from mlfleet.infra.scheduling.pollux_data import LOADS, WORKLOADS
    from mlfleet.infra.scheduling.reproduce import POLICIES, compare

    cases = SCHEDULING_QUICK if ctx.quick else [
        (p, load, w) for p in POLICIES for load in LOADS for w in WORKLOADS]
    out = []
    for policy, load, workload in cases:
        found = compare(policy, load, workload)
        out.append(_check(
            id=f"infra.scheduling.pollux.{policy}.{workload}@{load:g}",
            quantity=f"average JCT of {policy} on {workload} at load {load:g} (s)",
            model=f"infra.scheduling cluster simulator, {policy}",
            reference="Pollux (Qiao et al., OSDI'21) artifact, published average JCT",
            reference_kind="published", reference_value=found.published_avg_jct_s,
            predicted=found.ours_avg_jct_s, bound=0.05))
    return out
