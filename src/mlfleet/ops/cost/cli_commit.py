"""The ``commit`` command's model inputs: catalog prices and the spot job, then the plan."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from mlfleet.checks import FloatArray, one_of
from mlfleet.errors import InputError
from mlfleet.units import duration_option


def commit(*, firm: FloatArray, preemptible: FloatArray, offer_name: str, tier: str,
           spot: bool, job_gpus: int, ckpt: str, restart: str) -> dict[str, Any]:
    """The plan's JSON document for the catalog offer ``offer_name``."""
    from mlfleet.infra.tco.cloud import spot_job
    from mlfleet.infra.tco.offers import offer, spot_terms
    from mlfleet.ops.cost.commitment import commitment_plan

    found = offer(offer_name)
    one_of("--tier", tier, ("reserved-1y", "reserved-3y"))
    reserved = found.reserved_1y_usd_per_h if tier == "reserved-1y" \
        else found.reserved_3y_usd_per_h
    if reserved is None:
        raise InputError(f"--tier(={tier!r}) has no price in offer {found.name!r}")
    terms = spot_terms()
    gpus_per_instance = 8
    job = spot_job(on_demand_usd_per_gpu_h=found.on_demand_usd_per_h, discount=terms.discount,
                   interruption_per_month=terms.interruption_per_month, gpus=job_gpus,
                   gpus_per_instance=min(gpus_per_instance, job_gpus),
                   ckpt_s=duration_option("--ckpt", ckpt),
                   restart_s=duration_option("--restart", restart, allow_zero=True)) \
        if spot else None
    plan = commitment_plan(firm, preemptible_gpus=preemptible,
                           on_demand_usd_per_gpu_h=found.on_demand_usd_per_h,
                           reserved_usd_per_gpu_h=reserved, spot=job)
    return {"fidelity": "model", "offer": found.name, "tier": tier,
            "on_demand_usd_per_gpu_h": found.on_demand_usd_per_h,
            "reserved_usd_per_gpu_h": reserved,
            "spot": None if job is None else {**asdict(job),
                                              "usd_per_useful_gpu_h": job.usd_per_useful_gpu_h,
                                              "discount_source": terms.discount_source,
                                              "interruption_source": terms.interruption_source},
            "plan": {**asdict(plan), "total_usd": plan.total_usd,
                     "saving_usd": plan.saving_usd}}
