"""Compression and delta (incremental) checkpoints: ratio and cost on realistic states.

States, all generated from fixed seeds on this machine:

* a trained MLP's weights (4 x 1024-wide layers, 300 AdamW steps on a synthetic regression)
  in fp32 and bf16, and its AdamW moments;
* an embedding table (``--rows`` x 64 fp32) where a fraction of rows (Zipf-popular ids
  from 10,000 lookups ... up to 20%) changed since the base checkpoint.

Per state and codec (none, zlib level 1, lzma preset 1): bytes on disk / raw bytes and
the encode (compress) and decode CPU times in ms (thread CPU time, not wall); per changed fraction: the delta's size
ratio (full / delta), encode and apply times, alone and with zlib. Anchor: Check-N-Run
(Eisenman et al., NSDI'22) reports 6-17x less checkpoint write bandwidth for recommender
models from writing only changed rows plus quantization (not done here: deltas are exact).

    python benchmarks/bench_checkpoint_delta.py [--rows 500000] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mlfleet.storage.checkpoint.compression import compress_stream, decompress_bytes
from mlfleet.storage.checkpoint.delta import apply_delta, encode_delta
from mlfleet.storage.checkpoint.shard_file import safetensors_chunks

CODECS: tuple[str | None, ...] = (None, "zlib", "lzma")
MEMORY = Path("<memory>")


def trained_mlp(seed: int = 0) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(*[m for _ in range(4) for m in (torch.nn.Linear(1024, 1024),
                                                              torch.nn.GELU())])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    w_true = torch.randn(1024, 1024) / 32
    for _ in range(300):
        x = torch.randn(64, 1024)
        loss = ((model(x) - x @ w_true) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    moments = {f"{i}.{k}": v for i, st in opt.state_dict()["state"].items()
               for k, v in st.items() if k != "step"}
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, moments


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Result and CPU milliseconds of this thread (wall time on a shared host is mostly waiting)."""
    start = time.thread_time()
    out = fn()
    return out, (time.thread_time() - start) * 1e3


def serialize(tensors: dict[str, torch.Tensor]) -> bytes:
    return b"".join(bytes(c) for c in safetensors_chunks(tensors, {}))


def _codec_cost(raw: bytes, codec: str) -> dict[str, float]:
    packed, enc = _timed(lambda: b"".join(compress_stream([raw], codec)))
    back, dec = _timed(lambda: decompress_bytes(packed, codec, path=MEMORY))
    assert back == raw
    return {"raw_bytes": len(raw), "ratio": len(raw) / len(packed), "encode_ms": enc,
            "decode_ms": dec}


def codec_row(name: str, tensors: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
    raw = serialize(tensors)
    rows = []
    for codec in CODECS:
        if codec is None:
            rows.append({"state": name, "codec": "none", "raw_bytes": len(raw), "ratio": 1.0,
                         "encode_ms": 0.0, "decode_ms": 0.0})
            continue
        rows.append({"state": name, "codec": codec, **_codec_cost(raw, codec)})
    return rows


def changed_table(rows: int, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(rows, 64, generator=g)
    rng = np.random.default_rng(seed)
    ids = np.unique(rng.zipf(1.2, size=rows * 4) % rows)[: int(fraction * rows)]
    new = base.clone()
    new[torch.from_numpy(ids)] -= 1e-3 * torch.randn(len(ids), 64, generator=g)
    return base, new


def delta_row(rows: int, fraction: float) -> dict[str, Any]:
    base, new = changed_table(rows, fraction, seed=1)
    delta, enc = _timed(lambda: encode_delta({"emb": base}, {"emb": new}))
    back, app = _timed(lambda: apply_delta({"emb": base}, delta.tensors, delta.removed))
    assert torch.equal(back["emb"], new)
    full = serialize({"emb": new})
    part = serialize(delta.tensors)
    zpart, zenc = _timed(lambda: b"".join(compress_stream([part], "zlib")))
    return {"rows": rows, "changed_fraction": delta.changed_rows / rows,
            "full_bytes": len(full), "delta_bytes": len(part), "ratio": len(full) / len(part),
            "encode_ms": enc, "apply_ms": app, "delta_zlib_ratio": len(full) / len(zpart),
            "zlib_ms": zenc}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    weights, moments = trained_mlp()
    codecs = (codec_row("MLP weights fp32", weights)
              + codec_row("MLP weights bf16", {k: v.bfloat16() for k, v in weights.items()})
              + codec_row("AdamW moments fp32", moments))
    deltas = [delta_row(args.rows, f) for f in (0.01, 0.05, 0.20)]
    if args.json:
        print(json.dumps({"codecs": codecs, "deltas": deltas}, indent=1))
        return 0
    print("times are CPU ms of the measuring thread")
    print(f"{'state':<20} {'codec':<5} {'MB':>7} {'ratio':>6} {'enc ms':>8} {'dec ms':>8}")
    for r in codecs:
        print(f"{r['state']:<20} {r['codec']:<5} {r['raw_bytes'] / 1e6:>7.1f} {r['ratio']:>6.2f}"
              f" {r['encode_ms']:>8.0f} {r['decode_ms']:>8.0f}")
    print(f"\n{'rows changed':>12} {'full MB':>8} {'delta MB':>9} {'ratio':>6} {'+zlib':>6}"
          f" {'enc ms':>7} {'apply ms':>8}")
    for r in deltas:
        print(f"{r['changed_fraction']:>12.1%} {r['full_bytes'] / 1e6:>8.1f}"
              f" {r['delta_bytes'] / 1e6:>9.2f} {r['ratio']:>6.1f} {r['delta_zlib_ratio']:>6.1f}"
              f" {r['encode_ms']:>7.0f} {r['apply_ms']:>8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
