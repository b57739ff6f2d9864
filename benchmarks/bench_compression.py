"""Gradient compression, measured: codec ratio and speed, the decision model vs real exchanges, and
the 4-rank data-parallel study (loss vs bytes per method).

Run: ``.venv/bin/python benchmarks/bench_compression.py [--json] [--sizes 1M,16M] [--steps 300]
[--exchange-numel 1M] [--no-study]``. Not a test; the numbers depend on this machine.

1. Codecs: per method and gradient size, exact compression ratio and best-of-5 encode/decode
   throughput in dense GB/s (single process).
2. Decision check: fit α and B of the real socket transport (4 processes on 127.0.0.1) from
   ring-allreduce times (float32 adds, γ, measured apart), then compare
   :func:`compression_pays`'s predicted exchange time (comm + codec, no overlap, backward 0)
   with the measured :func:`aggregate_mean` time per method. The model's codec inputs are
   the exchange's own local phases (``prepare``; ``finish`` per payload) and γ of the
   payload's dtype, timed on the ranks themselves, concurrently, so they share the cores as
   the exchange does; the check then tests the communication model and the codec-count
   bookkeeping, not the CPU. "pays" compares each method with the dense exchange, the
   model's prediction with the model's, the measurement with the measurement.
3. Study: :func:`run_compression_study` on the socket backend.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import numpy as np

from mlfleet.comm.compression.base import compression_ratio
from mlfleet.comm.compression.decision import compression_pays
from mlfleet.comm.compression.measure import (
    codec_timing,
    decision_check_rank,
    fit_ring_alpha_beta,
    slowest_rank_best,
)
from mlfleet.comm.compression.registry import make_compressor
from mlfleet.comm.compression.study import run_compression_study
from mlfleet.comm.launch import launch

CODEC_METHODS = ("dense", "fp16", "int8", "stochastic", "topk", "randomk", "topk+ef")
ALLREDUCE_SIZES_BYTES = (64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20)
RANKS = 4


def parse_count(text: str) -> int:
    """``"16M"`` -> 16 * 2**20 elements, ``"1000"`` -> 1000."""
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1].upper(), 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def codec_table(sizes: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for numel in sizes:
        for method in CODEC_METHODS[1:]:  # dense is a no-op (the payload is the gradient)
            t = codec_timing(method, numel, reps=5)
            rows.append(
                {
                    "method": method,
                    "numel": numel,
                    "compression_ratio": t.compression_ratio,
                    "encode_s": t.encode_s,
                    "decode_s": t.decode_s,
                    "encode_gb_per_s": t.encode_gb_per_s,
                    "decode_gb_per_s": t.decode_gb_per_s,
                }
            )
    return rows


def decision_check(numel: int, reps: int = 9) -> dict[str, Any]:
    methods = list(CODEC_METHODS)  # dense first: the baseline the others are compared with
    per_rank = launch(
        RANKS, decision_check_rank, args=(methods, numel, list(ALLREDUCE_SIZES_BYTES), reps, 0)
    )
    ar_times = [
        slowest_rank_best([rank["allreduce"][i] for rank in per_rank])
        for i in range(len(ALLREDUCE_SIZES_BYTES))
    ]
    measured = [rank["exchange"] for rank in per_rank]

    def gamma_of(method: str) -> float:
        return float(np.median([g for rank in measured for g in rank[method]["gamma"]]))

    gamma_dense = gamma_of("dense")
    alpha_s, bw = fit_ring_alpha_beta(RANKS, ALLREDUCE_SIZES_BYTES, ar_times, gamma_dense)
    rows: list[dict[str, Any]] = []
    for method in methods:
        timing = {
            k: slowest_rank_best([rank[method][k] for rank in measured])
            for k in ("encode", "decode", "exchange")
        }
        codec = make_compressor(method)
        d = compression_pays(
            grad_bytes=4 * numel,
            compression_ratio=compression_ratio(codec, numel),
            encode_s=timing["encode"],
            decode_s=timing["decode"],
            n_ranks=RANKS,
            bw_bytes_per_s=bw,
            alpha_s=alpha_s,
            backward_compute_s=0.0,
            overlap=False,
            summable=codec.summable,
            gamma_s_per_byte=gamma_dense,
            payload_gamma_s_per_byte=gamma_of(method),
        )
        is_dense = method == "dense"  # the model's dense step is the exchange alone
        rows.append(
            {
                "method": method,
                "predicted_s": d.time_dense_s + d.codec_s if is_dense else d.time_compressed_s,
                "measured_s": timing["exchange"],
                "comm_model_s": d.comm_dense_s if is_dense else d.comm_compressed_s,
                "codec_measured_s": d.codec_s,
                "gamma_s_per_byte": gamma_of(method) if codec.summable else 0.0,
                "pays_predicted": None,
                "pays_measured": None,
            }
        )
    for row in rows:
        row["error"] = row["predicted_s"] / row["measured_s"] - 1.0
    # Both verdicts compare with the dense exchange as aggregate_mean runs it (its
    # division and copies included), predicted with predicted, measured with measured.
    for row in rows[1:]:
        row["pays_predicted"] = bool(row["predicted_s"] < rows[0]["predicted_s"])
        row["pays_measured"] = bool(row["measured_s"] < rows[0]["measured_s"])
    return {
        "numel": numel,
        "ranks": RANKS,
        "cores": len(os.sched_getaffinity(0)),
        "alpha_s": alpha_s,
        "bw_bytes_per_s": bw,
        "gamma_dense_s_per_byte": gamma_dense,
        "allreduce_fit": [
            {"size_bytes": s, "measured_s": m}
            for s, m in zip(ALLREDUCE_SIZES_BYTES, ar_times, strict=True)
        ],
        "rows": rows,
    }


def print_report(report: dict[str, Any]) -> None:
    print("1. codecs (single process; throughput in dense GB/s)")
    print(
        f"{'method':12s} {'numel':>10s} {'ratio':>8s} {'enc GB/s':>9s} {'dec GB/s':>9s} {'enc ms':>8s} {'dec ms':>8s}"
    )
    for r in report["codecs"]:
        print(
            f"{r['method']:12s} {r['numel']:>10,d} {r['compression_ratio']:8.2f} {r['encode_gb_per_s']:9.2f} "
            f"{r['decode_gb_per_s']:9.2f} {r['encode_s'] * 1e3:8.2f} {r['decode_s'] * 1e3:8.2f}"
        )
    c = report["decision_check"]
    print(
        f"\n2. decision model vs real socket exchange: {c['ranks']} ranks, {c['numel']:,} elements, "
        f"fitted α = {c['alpha_s'] * 1e6:.0f} µs, B = {c['bw_bytes_per_s'] / 1e9:.2f} GB/s "
        f"(float32 adds γ = {c['gamma_dense_s_per_byte'] * 1e9:.2f} ns/B apart), "
        f"codec timed on the ranks ({c['cores']} cores)"
    )
    print(
        f"{'method':12s} {'predicted ms':>13s} {'(comm':>8s} {'+ codec)':>9s} {'measured ms':>12s} "
        f"{'error':>7s} {'pays (model/real)':>18s}"
    )
    for r in c["rows"]:
        pays = (
            ""
            if r["pays_measured"] is None
            else f"{r['pays_predicted']!s:>5s}/{r['pays_measured']!s:<5s}"
        )
        print(
            f"{r['method']:12s} {r['predicted_s'] * 1e3:13.2f} {r['comm_model_s'] * 1e3:8.2f} "
            f"{r['codec_measured_s'] * 1e3:9.2f} {r['measured_s'] * 1e3:12.2f} "
            f"{r['error']:+7.0%} {pays:>18s}"
        )
    study = report.get("study")
    if study:
        print(
            f"\n3. data-parallel study: {study['ranks']} ranks ({study['backend']}), {study['steps']} steps, "
            f"{study['n_params']:,} parameters, seed {study['seed']}"
        )
        print(
            f"{'method':15s} {'ratio':>7s} {'MB sent/rank':>13s} {'final loss':>11s} {'accuracy':>9s}"
        )
        for r in study["methods"]:
            print(
                f"{r['method']:15s} {r['compression_ratio']:7.1f} {r['bytes_sent_per_rank'] / 1e6:13.3f} "
                f"{r['final_loss']:11.4f} {r['final_accuracy']:9.3f}"
            )
        for codec, g in study["ef_gap_closure"].items():
            print(
                f"error feedback closes {g['closure']:.0%} of the {codec} gap "
                f"(dense {g['loss_dense']:.3f}, {codec} {g['loss_plain']:.3f}, +ef {g['loss_ef']:.3f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--sizes", default="1M,16M", help="codec gradient sizes (elements)")
    parser.add_argument(
        "--exchange-numel", default="1M", help="gradient size of the decision check"
    )
    parser.add_argument("--steps", type=int, default=300, help="SGD steps of the study")
    parser.add_argument("--no-study", action="store_true", help="skip the training study")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "codecs": codec_table([parse_count(s) for s in args.sizes.split(",")]),
        "decision_check": decision_check(parse_count(args.exchange_numel)),
    }
    if not args.no_study:
        report["study"] = run_compression_study(steps=args.steps, backend="socket")
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
