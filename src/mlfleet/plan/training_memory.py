"""Does the training step fit each GPU? Model state under the ZeRO stage and tensor/pipeline
split, plus the activations of one micro-batch sequence, against the GPU's HBM.

Per GPU, with Ψ parameters, t × p model shards, N_d data-parallel ranks and b bytes per
element:

    model state  = zero_memory_bytes(Ψ/(t·p), N_d, stage)   (:mod:`mlfleet.comm.zero`;
                                                            Rajbhandari et al. 2020, Fig. 1)
    activations  = s·17·b_a·d·L / t                          (one sequence of s tokens)

The activations are Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large
Transformer Models") eq. 1 with tensor and sequence parallelism (÷t), the attention-score
term dropped for fused attention (:mod:`mlfleet.infra.memory_fit`); under 1F1B the first
pipeline stage holds p micro-batches of L/p layers, so L layers whatever p is (their
§4.2.3). With full recomputation only each layer's input stays, 2·s·b_a·d per layer (their
§4.1). Gradient accumulation lets the micro-batch shrink to one sequence, so ``fits`` means
the step fits with the least memory it can be run with: without recomputation when that
fits, else with full recomputation (``needs_recompute``; its extra forward pass is not in
the step time), and ``need_bytes`` and ``shortfall_bytes`` count that least memory. A workload without a transformer shape (layers, d_model) has no activation
model: its fit counts the model state only and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.catalog.types import Workload
from mlfleet.comm.zero import zero_memory_bytes
from mlfleet.infra.memory_fit import ACTIVATION_BYTES_PER_LAYER_TOKEN_DIM, activation_element_bytes
from mlfleet.plan.communication import Communication, dp_degree
from mlfleet.plan.context import workload_of
from mlfleet.scenario import Scenario


@dataclass(frozen=True, kw_only=True)
class TrainingMemory:
    """Memory one GPU needs for the training step, against its HBM (module docstring)."""

    zero_stage: str
    """The stage the communication section uses ('ddp' without data parallelism)."""
    model_state_bytes_per_gpu: float
    """Parameters + gradients + optimizer state of one model shard under ``zero_stage``."""
    activation_bytes_per_gpu: float | None
    """One sequence's activations without recomputation; None without a transformer shape."""
    recompute_activation_bytes_per_gpu: float | None
    """The same with full recomputation (each layer's input only)."""
    hbm_bytes: float
    """Memory of one GPU."""
    needs_recompute: bool
    """True when the step does not fit without full activation recomputation."""
    need_bytes: float
    """Model state + activations, with full recomputation when ``needs_recompute``: the
    least the step can run with."""
    fits: bool
    shortfall_bytes: float
    """Bytes missing per GPU (0 when it fits)."""


def training_memory(scenario: Scenario, comm: Communication | None) -> TrainingMemory | None:
    """The training step's memory per GPU; None without a training job."""
    training = scenario.training
    if training is None:
        return None
    workload = workload_of(scenario)
    data, shards = dp_degree(scenario)
    tensor = (training.parallelism.tensor or 1) if training.parallelism else 1
    element_bytes = 4.0 if training.precision in ("fp32", "tf32") else 2.0
    stage = "ddp" if comm is None else comm.data_parallel.zero_stage
    state = zero_memory_bytes(workload.params / shards, max(data, 1), stage=stage,
                              param_bytes=element_bytes, grad_bytes=element_bytes)
    act, recompute = activations(workload, training.seq_len, tensor, element_bytes)
    hbm = scenario.cluster.to_cluster().accelerator.hbm_bytes
    needs_recompute = act is not None and recompute is not None and state + act > hbm
    need = state + ((recompute if needs_recompute else act) or 0.0)
    return TrainingMemory(
        zero_stage=stage, model_state_bytes_per_gpu=state, activation_bytes_per_gpu=act,
        recompute_activation_bytes_per_gpu=recompute, hbm_bytes=hbm,
        needs_recompute=needs_recompute, need_bytes=need, fits=need <= hbm,
        shortfall_bytes=max(need - hbm, 0.0))


def activations(workload: Workload, seq_len: int | None, tensor: int,
                 element_bytes: float) -> tuple[float | None, float | None]:
    """(without, with full recomputation) bytes per GPU for one sequence; None if unmodelled."""
    layers, d_model = workload.shape.get("layers"), workload.shape.get("d_model")
    if workload.unit != "token" or layers is None or d_model is None or seq_len is None:
        return None, None
    act_b = activation_element_bytes(element_bytes)
    tokens_layers = float(seq_len) * float(layers) / tensor
    return (tokens_layers * ACTIVATION_BYTES_PER_LAYER_TOKEN_DIM * act_b * float(d_model),
            tokens_layers * act_b * float(d_model))
