"""The typed result of sizing a serving fleet (:func:`mlfleet.serving.models.capacity.size_serving`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class ServingCapacity:
    """The sized fleet for a serving load: the figures checks read, typed, and the rest for display.

    ``numbers`` holds every key figure (names carry their unit) in display order; the
    typed fields repeat the ones other code reads, so a renamed figure fails mypy.
    """

    replicas: int
    gpus_needed: int
    """GPUs the chosen configuration uses at the peak rate."""
    gpus_available: int | None
    """GPUs the fleet may use; None: unbounded (no fit check)."""
    peak_qps: float
    p50_s: float
    """Predicted end-to-end median latency at the peak rate."""
    p99_s: float
    """Predicted end-to-end 99th-percentile latency at the peak rate."""
    ttft_p99_s: float | None
    """Time to first token, 99th percentile (token workloads only)."""
    tpot_s: float | None
    """Time per output token, one decode iteration (token workloads only)."""
    slo_met: bool
    unmet: tuple[str, ...] = ()
    """One sentence per latency target that was set and that no replica count meets."""
    numbers: dict[str, float | int | bool | None]
    bottleneck: str
    recommendation: str
    reasoning: tuple[str, ...]
    details: dict[str, Any]

    @property
    def fits(self) -> bool:
        """Whether the fleet needed at peak fits the GPUs available (always, when unbounded)."""
        return self.gpus_available is None or self.gpus_needed <= self.gpus_available

    @property
    def headroom_gpus(self) -> int | None:
        """GPUs left over at peak (negative: GPUs missing); None when unbounded."""
        return None if self.gpus_available is None else self.gpus_available - self.gpus_needed

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the keys of a plan section."""
        return {"status": "ok", "fidelity": "model", "numbers": dict(self.numbers),
                "bottleneck": self.bottleneck, "recommendation": self.recommendation,
                "reasoning": list(self.reasoning), "unmet": list(self.unmet),
                "details": self.details}



def sized_fleet(out: dict[str, Any], *, peak_qps: float, gpus: int | None) -> ServingCapacity:
    """The typed result from a sizing's numbers, bottleneck, recommendation, reasoning, details;
    ``gpus`` None is an unbounded pool: no fit check, and null GPUs available and headroom."""
    numbers, reasoning = out["numbers"], list(out["reasoning"])
    needed = int(numbers["gpus_needed"])
    if gpus is None:
        numbers.update(gpus_available=None, fits=None, headroom_gpus=None)
        reasoning.append("no GPU count given: capacity is unbounded, so the fit is not checked")
    else:
        numbers.update(gpus_available=gpus, fits=needed <= gpus, headroom_gpus=gpus - needed)
    if gpus is not None and needed > gpus:
        reasoning.append(f"needs {needed} GPUs at peak but {gpus} are available: "
                         f"add {needed - gpus}")
    return ServingCapacity(
        replicas=int(numbers["replicas"]), gpus_needed=needed, gpus_available=gpus,
        peak_qps=peak_qps, p50_s=float(numbers["p50_s"]), p99_s=float(numbers["p99_s"]),
        ttft_p99_s=numbers.get("ttft_p99_s"), tpot_s=numbers.get("tpot_s"),
        slo_met=bool(numbers["slo_met"]), unmet=tuple(out["unmet"]), numbers=numbers, bottleneck=out["bottleneck"],
        recommendation=out["recommendation"], reasoning=tuple(reasoning), details=out["details"])
