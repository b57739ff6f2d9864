"""The JSON document and the terminal table of a chargeback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from mlfleet.ops.cost.allocation import Allocation, allocation_cost_usd, idle_within_usd
from mlfleet.ops.cost.chargeback import Chargeback
from mlfleet.ops.cost.resources import Rates, Resource


def chargeback_document(cb: Chargeback, *, rates: Rates, fidelity: str,
                        source: str) -> dict[str, Any]:
    """Strict-JSON-ready document of ``cb``."""
    b = cb.breakdown
    return {"fidelity": fidelity, "source": source, "by": cb.by, "split": cb.split,
            "rates": asdict(rates),
            "breakdown": {"workload_usd": dict(b.workload_usd), "idle_usd": dict(b.idle_usd),
                          "overhead_usd": b.overhead_usd,
                          "total_workload_usd": b.total_workload_usd,
                          "total_idle_usd": b.total_idle_usd, "total_usd": b.total_usd,
                          "idle_fraction": b.idle_fraction},
            "charges": [{"tenant": c.tenant, "workload_usd": c.workload_usd,
                         "shared_usd": c.shared_usd, "total_usd": c.total_usd}
                        for c in cb.charges],
            "shared_workload_usd": cb.shared_workload_usd,
            "unassigned_idle_usd": cb.unassigned_idle_usd, "charged_usd": cb.charged_usd}


def workload_rows(allocations: Sequence[Allocation], rates: Rates) -> list[dict[str, Any]]:
    """Per allocation: GPUs requested and used, its cost, and the part of it left unused
    (OpenCost's Workload Idle Cost)."""
    return [{"name": a.name, "team": a.team, "model": a.model,
             "gpus_requested": a.requested.get(Resource.GPU, 0.0),
             "gpus_used": a.used.get(Resource.GPU, 0.0), "duration_h": a.duration_h,
             "cost_usd": sum(allocation_cost_usd(a, rates).values()),
             "unused_usd": idle_within_usd(a, rates), "metrics": dict(a.metrics)}
            for a in allocations]


def _usd(value: float) -> str:
    return f"${value:,.2f}" if abs(value) >= 1 or value == 0 else f"${value:.3g}"


def print_workloads(rows: list[dict[str, Any]]) -> None:
    from mlfleet.report.terminal import print_table

    print_table(("workload", "GPUs", "busy", "cost", "unused (in its request)"),
                [(r["name"], f"{r['gpus_requested']:g}",
                  f"{r['gpus_used'] / r['gpus_requested']:.0%}" if r["gpus_requested"] else "",
                  _usd(r["cost_usd"]), _usd(r["unused_usd"])) for r in rows],
                title="Workloads")


def print_chargeback(doc: dict[str, Any]) -> None:
    """Bills, then the cluster's breakdown."""
    from mlfleet.report.terminal import print_table

    b = doc["breakdown"]
    if "workloads" in doc:
        print_workloads(doc["workloads"])
    rows = [(c["tenant"], _usd(c["workload_usd"]), _usd(c["shared_usd"]), _usd(c["total_usd"]))
            for c in doc["charges"]]
    if doc["unassigned_idle_usd"] > 0:
        rows.append(("(idle, unassigned)", "", "", _usd(doc["unassigned_idle_usd"])))
    print_table((doc["by"], "workload", f"shared ({doc['split']})", "total"), rows,
                title=f"Chargeback by {doc['by']} ({doc['fidelity']}: {doc['source']})")
    parts = [(k, _usd(b["workload_usd"][k]), _usd(b["idle_usd"].get(k, 0.0)))
             for k in b["workload_usd"]]
    parts.append(("overhead", "", _usd(b["overhead_usd"])))
    parts.append(("total", _usd(b["total_workload_usd"]),
                  f"{_usd(b['total_idle_usd'] + b['overhead_usd'])}  (all: "
                  f"{_usd(b['total_usd'])}, idle {b['idle_fraction']:.1%})"))
    print_table(("resource", "workload", "idle / overhead"), parts,
                title="Total = workload + idle + overhead (OpenCost)")


def emit(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
    else:
        print_chargeback(doc)
