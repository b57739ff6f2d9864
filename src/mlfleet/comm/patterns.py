"""Model-specific collective patterns: which collective each model family leans on, and how many bytes.

The spec's table (chapter 5, "Model-Specific Collective Patterns") computed from the
catalog's workloads. Bytes are the buffer each GPU hands to the collective per
training step (nccl-tests' size convention); a ring sends (n-1)/n of it (AlltoAll,
ReduceScatter) or 2(n-1)/n (AllReduce).

* Dense models (LLM, vision, speech): AllReduce of every gradient, Ψ·b bytes
  (Li et al. 2020, PyTorch DDP).
* MoE: AlltoAll of routed tokens, tokens·d_model·top_k·b per dispatch and again per
  combine, in every MoE layer, forward and backward (Lepikhin et al. 2021 GShard;
  Fedus et al. 2022 Switch Transformer); plus AllReduce of the non-expert parameters.
* RecSys: AlltoAll of pooled embeddings, samples·tables·dim·b forward and the same
  gradients backward (Naumov et al. 2019, DLRM model-parallel embeddings); plus
  AllReduce of the small dense MLPs.
* GNN: neighbour (halo) exchange of sampled nodes' features held by other
  partitions, seeds·(1 + f₁ + f₁f₂ + ...)·features·b·remote fraction (Hamilton et
  al. 2017 GraphSAGE sampling; random partitioning leaves (P-1)/P remote).

Batch-like quantities (tokens, samples, seeds per GPU) are not properties of a model:
they are arguments, and their defaults are stated as assumptions in each row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mlfleet import catalog
from mlfleet.catalog.types import Workload
from mlfleet.checks import fraction, positive
from mlfleet.errors import CommInputError

DEFAULT_SAMPLES_PER_GPU = 1024
"""Assumed RecSys samples and GNN seed nodes per GPU per step (not a catalog value)."""

_TYPES = {"llm": "LLM/Transformer", "moe": "MoE", "recsys": "Recommendation",
          "vision": "Vision", "speech": "Speech (Transformer)", "gnn": "GNN"}


def dense_gradient_bytes(params: float, *, grad_bytes: float) -> float:
    """AllReduce buffer of a dense model: every gradient, Ψ·b bytes."""
    return (positive("params", params, error=CommInputError)
            * positive("grad_bytes", grad_bytes, error=CommInputError))


def moe_alltoall_bytes(*, tokens: float, d_model: float, top_k: float, moe_layers: float,
                       value_bytes: float, include_backward: bool = True) -> float:
    """AlltoAll bytes per GPU per step: tokens·d·k·b, ×2 (dispatch+combine) ×layers (×2 fwd+bwd)."""
    passes = 2.0 if include_backward else 1.0
    return tokens * d_model * top_k * 2.0 * moe_layers * value_bytes * passes


def recsys_alltoall_bytes(*, samples: float, tables: float, embedding_dim: float,
                          value_bytes: float, include_backward: bool = True) -> float:
    """Pooled-embedding AlltoAll bytes per GPU per step: samples·tables·dim·b (×2 fwd+bwd)."""
    return samples * tables * embedding_dim * value_bytes * (2.0 if include_backward else 1.0)


def sampled_nodes_per_seed(fanouts: Sequence[float]) -> float:
    """Nodes in one seed's sampled computation tree: 1 + f₁ + f₁f₂ + ... (no de-duplication)."""
    total, width = 1.0, 1.0
    for fanout in fanouts:
        width *= fanout
        total += width
    return total


def gnn_neighbour_bytes(*, seeds: float, fanouts: Sequence[float], feature_dim: float,
                        value_bytes: float, remote_fraction: float) -> float:
    """Halo-exchange bytes per GPU per step: seeds·sampled nodes·features·b·remote fraction."""
    fraction("remote_fraction", remote_fraction, error=CommInputError)
    return seeds * sampled_nodes_per_seed(fanouts) * feature_dim * value_bytes * remote_fraction


@dataclass(frozen=True, kw_only=True)
class Pattern:
    """One workload's communication pattern per training step, per GPU."""

    workload: str
    family: str
    model_type: str
    primary: str
    """The collective that dominates: allreduce, alltoall or neighbour_exchange."""
    gradient_type: str
    primary_bytes: float
    """Buffer per GPU per step handed to the primary collective."""
    depends_on: str
    """What the volume scales with."""
    formula: str
    secondary: str = ""
    secondary_bytes: float = 0.0
    assumptions: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pattern_for(workload: Workload, *, n_gpus: int = 8, value_bytes: float = 2.0,
                tokens_per_gpu: float | None = None,
                samples_per_gpu: float = DEFAULT_SAMPLES_PER_GPU) -> Pattern:
    """The collective pattern of ``workload`` on ``n_gpus`` data/expert-parallel GPUs.

    ``tokens_per_gpu`` defaults to one sequence (``shape.seq_len``) per GPU per step.
    """
    if n_gpus < 2:
        raise CommInputError(f"n_gpus(={n_gpus}) must be >= 2")
    builders: dict[str, Callable[..., Pattern]] = {"moe": _moe, "recsys": _recsys, "gnn": _gnn}
    builder: Callable[..., Pattern] = builders.get(workload.family, _dense)
    return builder(workload, n_gpus=n_gpus, value_bytes=value_bytes,
                   tokens_per_gpu=tokens_per_gpu, samples_per_gpu=samples_per_gpu)


def _dense(w: Workload, *, value_bytes: float, **_: Any) -> Pattern:
    model_type = _TYPES.get(w.family, w.family)
    if w.family == "vision":
        model_type += " (Transformer)" if "n_heads" in w.shape else " (CNN)"
    return Pattern(workload=w.name, family=w.family, model_type=model_type,
                   primary="allreduce", gradient_type="dense",
                   primary_bytes=dense_gradient_bytes(w.params, grad_bytes=value_bytes),
                   depends_on="parameters", formula=f"params x {value_bytes:g} B")


def _shape(w: Workload, key: str) -> float:
    if key not in w.shape:
        raise CommInputError(f"workload {w.name!r} has no shape.{key}; needed for its pattern")
    return float(w.shape[key])


def _moe(w: Workload, *, value_bytes: float, tokens_per_gpu: float | None, **_: Any) -> Pattern:
    experts, top_k = _shape(w, "experts"), _shape(w, "experts_per_token")
    tokens = tokens_per_gpu if tokens_per_gpu is not None else _shape(w, "seq_len")
    expert_params = (w.params - w.active_params) / (1.0 - top_k / experts)
    return Pattern(
        workload=w.name, family=w.family, model_type="MoE", primary="alltoall",
        gradient_type="selective (routed tokens)",
        primary_bytes=moe_alltoall_bytes(tokens=tokens, d_model=_shape(w, "d_model"), top_k=top_k,
                                         moe_layers=_shape(w, "layers"), value_bytes=value_bytes),
        depends_on="tokens x top_k x layers",
        formula="tokens x d_model x top_k x 2 (dispatch+combine) x layers x 2 (fwd+bwd) x b",
        secondary="allreduce (non-expert params)",
        secondary_bytes=max(w.params - expert_params, 0.0) * value_bytes,
        assumptions=f"{tokens:g} tokens per GPU per step (one sequence); every layer is MoE")


def _recsys(w: Workload, *, value_bytes: float, samples_per_gpu: float, **_: Any) -> Pattern:
    tables, dim = _shape(w, "tables"), _shape(w, "embedding_dim")
    dense_params = w.params - w.shape.get("rows_total", 0.0) * dim
    return Pattern(
        workload=w.name, family=w.family, model_type="Recommendation", primary="alltoall",
        gradient_type="sparse (embeddings)",
        primary_bytes=recsys_alltoall_bytes(samples=samples_per_gpu, tables=tables,
                                            embedding_dim=dim, value_bytes=value_bytes),
        depends_on="batch size", formula="samples x tables x dim x 2 (fwd+bwd) x b",
        secondary="allreduce (dense MLPs)", secondary_bytes=max(dense_params, 0.0) * value_bytes,
        assumptions=f"{samples_per_gpu:g} samples per GPU per step; tables sharded over GPUs")


def _gnn(w: Workload, *, n_gpus: int, value_bytes: float, samples_per_gpu: float,
         **_: Any) -> Pattern:
    fanouts = [w.shape[k] for k in sorted(w.shape) if k.startswith("fanout_")]
    features = w.shape.get("in_features", w.shape.get("d_model", 0.0))
    remote = (n_gpus - 1) / n_gpus
    return Pattern(
        workload=w.name, family=w.family, model_type="GNN", primary="neighbour_exchange",
        gradient_type="irregular", depends_on="graph fan-out and partition",
        primary_bytes=gnn_neighbour_bytes(seeds=samples_per_gpu, fanouts=fanouts,
                                          feature_dim=features, value_bytes=value_bytes,
                                          remote_fraction=remote),
        formula="seeds x (1 + f1 + f1 f2 + ...) x features x b x (P-1)/P",
        secondary="allreduce (weights)", secondary_bytes=w.params * value_bytes,
        assumptions=(f"{samples_per_gpu:g} seeds per GPU, fan-out {[int(f) for f in fanouts]}, "
                     f"random partition over {n_gpus} GPUs ({remote:.0%} remote)"))


def model_patterns(names: Sequence[str] | None = None, **kwargs: Any) -> list[Pattern]:
    """:func:`pattern_for` each catalog workload (or the ``names`` given), catalog order."""
    chosen = names if names is not None else catalog.names("workload")
    return [pattern_for(Workload.from_name(name), **kwargs) for name in chosen]


def volume_class(bytes_per_step: float) -> str:
    """'High' (>= 1 GB), 'Moderate' (>= 10 MB) or 'Low': the spec table's words, made numeric."""
    if bytes_per_step >= 1e9:
        return "High"
    return "Moderate" if bytes_per_step >= 1e7 else "Low"

