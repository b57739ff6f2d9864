"""The datacenter part of the infrastructure section's text: numbers and reasoning lines."""

from __future__ import annotations

from mlfleet import units
from mlfleet.plan.datacenter import Datacenter
from mlfleet.report.terminal import format_value


def numbers(dc: Datacenter) -> dict[str, object]:
    """Key figures, each name carrying its unit."""
    out: dict[str, object | None] = {}
    if dc.power is not None:
        p = dc.power
        out.update(pue=p.pue, cooling=p.cooling, racks=p.racks, nodes_per_rack=p.nodes_per_rack,
                   rack_power_w=p.rack_power_w, pdus=p.pdus)
    if dc.fabric is not None and dc.fabric.kind != "none":
        f = dc.fabric
        out.update(fabric=f.kind, fabric_switches=f.switches, fabric_cables=f.cables,
                   bisection_bw_bytes_per_s=f.bisection_bw_bytes_per_s, fabric_max_hops=f.max_hops,
                   fabric_capex_usd=f.capex_usd, fabric_power_w=f.power_w)
    if dc.cost is not None:
        c = dc.cost
        out.update(owned_usd_per_month=c.owned_usd_per_month,
                   cloud_usd_per_month=c.cloud_usd_per_month,
                   utilization_assumed=c.utilization,
                   utilization_breakeven=c.breakeven_utilization)
    if dc.queueing is not None:
        q = dc.queueing
        out.update(queueing_mean_s=q.mean_s, queueing_p95_s=q.p95_s)
    return {k: v for k, v in out.items() if v is not None}


def reasoning(dc: Datacenter) -> list[str]:
    """One line per part: how many racks and why, what the fabric costs, owning vs renting,
    how long the job waits."""
    lines: list[str] = []
    if dc.power is not None:
        p = dc.power
        lines.append(
            f"Power: {_count(p.nodes, 'node')} at {_watts(p.node_power_w)} each "
            f"({p.node_power_basis}) draw {_watts(p.it_power_w)} IT, "
            f"{_watts(p.facility_power_w)} at PUE {p.pue:g}; {p.cooling}-cooled racks "
            f"of at most {_watts(p.rack_limit_w)} hold {_count(p.nodes_per_rack, 'node')}, "
            f"so {_count(p.racks, 'rack')} and {_count(p.pdus, 'PDU')} (docs/infrastructure-power.md).")
    if dc.fabric is not None and dc.fabric.kind == "none":
        lines.append("Fabric: one node, no scale-out network to build.")
    elif dc.fabric is not None:
        f = dc.fabric
        capex = "" if f.capex_usd is None else f", about ${f.capex_usd:,.0f} in switches and optics"
        lines.append(
            f"Fabric: {f.kind}, {f.switches:,} switches and {f.cables:,} cables{capex}; "
            f"bisection {units.format_rate(f.bisection_bw_bytes_per_s)} per direction, at most "
            f"{f.max_hops} hops (docs/infrastructure-topology.md).")
    if dc.cost is not None:
        c = dc.cost
        verdict = ("owning never pays against on-demand" if c.breakeven_utilization > 1 else
                   f"owning pays above {c.breakeven_utilization:.0%} utilization")
        lines.append(
            f"Cost per month at {c.utilization:.0%} utilization: owned "
            f"${c.owned_usd_per_month:,.0f}, on-demand cloud ${c.cloud_usd_per_month:,.0f}; "
            f"{verdict} (docs/infrastructure-tco.md).")
    if dc.queueing is not None:
        lines.append(_queueing_line(dc))
    lines.extend(dc.notes)
    return lines


def _queueing_line(dc: Datacenter) -> str:
    q = dc.queueing
    assert q is not None
    return (f"Queueing: on a shared {q.cluster_gpus:,}-GPU cluster at {q.load:.0%} load under "
            f"{q.policy}, the job waits {units.format_duration(q.mean_s)} on average "
            f"(p95 {units.format_duration(q.p95_s)}), simulated (docs/scheduling.md).")


def _watts(value: float) -> str:
    return format_value("power_w", value)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
