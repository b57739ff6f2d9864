"""Probe a GPU into one ``mlfleet.probe/1`` JSON file for ``mlfleet infra calibrate``.

Needs only torch (and the standard library), so it can be copied to any machine with a GPU::

    python benchmarks/gpu_probe.py --out benchmarks/data/probe-h100.json   # ~2-3 min on an H100
    python benchmarks/gpu_probe.py --device cpu --out /tmp/probe.json      # small sizes, ~10 s

What it measures (the best of several rounds each; CUDA events on a GPU):

- GEMMs over a size sweep in bf16 (fp32 on a CPU): squares, and skinny ones (M = 1 … 512 rows
  against a large weight, what decode steps run);
- copy and reduce bandwidth over buffer sizes;
- host -> device copies, pinned and pageable (GPU only);
- launch cost: a tiny kernel issued back to back from eager Python, the same kernels replayed
  from a CUDA graph, and an empty kernel's device duration (torch.profiler where it works);
- decode and prefill steps of a minimal Llama-shaped decoder (random weights; 1B-like shape on a
  GPU: batches 1, 8, 32, 128, contexts 512 and 2048) in eager and CUDA-graph modes.

Exits with status 2 and one line when ``--device cuda`` has no GPU. The sweep stops adding
points once ``--budget-s`` is spent (steps last), so the run stays bounded.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

SCHEMA = "mlfleet.probe/1"


@dataclass(frozen=True, kw_only=True)
class Sizes:
    """The sweep for one device kind."""

    squares: tuple[int, ...]
    skinny_rows: tuple[int, ...]
    skinny_width: int
    stream_bytes: tuple[int, ...]
    h2d_bytes: tuple[int, ...]
    shape: dict[str, int]
    decode: tuple[tuple[int, int], ...]
    """(batch, context) of the decode steps."""
    prefill: tuple[tuple[int, int], ...]
    """(batch, prompt_len) of the prefill steps."""


GPU = Sizes(squares=(256, 512, 1024, 2048, 4096, 6144, 8192, 16384),
            skinny_rows=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), skinny_width=8192,
            stream_bytes=tuple(2**p for p in range(20, 32, 2)),
            h2d_bytes=tuple(2**p for p in range(20, 31, 2)),
            shape={"d_model": 2048, "n_layers": 16, "n_heads": 32, "n_kv_heads": 8,
                   "d_ff": 8192, "vocab": 128256},
            decode=tuple((b, c) for b in (1, 8, 32, 128) for c in (512, 2048)),
            prefill=((1, 512), (1, 2048), (8, 512), (8, 2048)))
"""H100-sized sweep; the decoder is Llama-3.2-1B's shape."""

CPU = Sizes(squares=(32, 64, 128, 256), skinny_rows=(1, 8, 32), skinny_width=512,
            stream_bytes=(2**16, 2**18, 2**20), h2d_bytes=(),
            shape={"d_model": 128, "n_layers": 2, "n_heads": 4, "n_kv_heads": 2, "d_ff": 344,
                   "vocab": 1024},
            decode=((1, 64), (8, 64)), prefill=((1, 32),))
"""Small sizes so the whole probe runs on a CPU in seconds (the end-to-end test)."""


class Timer:
    """Best-of-rounds time per call of a function, with CUDA events on a GPU."""

    def __init__(self, torch: Any, device: str, rounds: int) -> None:
        self.torch, self.device, self.rounds = torch, device, rounds

    def sync(self) -> None:
        if self.device == "cuda":
            self.torch.cuda.synchronize()

    def per_call_s(self, fn: Callable[[], object], *, target_s: float = 2e-3) -> float:
        """Best over rounds of (time of n back-to-back calls) / n, n sized to ~target_s."""
        fn()
        self.sync()
        start = time.perf_counter()
        fn()
        self.sync()
        n = max(1, min(1000, int(target_s / max(time.perf_counter() - start, 1e-7))))
        return min(self._round(fn, n) for _ in range(self.rounds)) / n

    def _round(self, fn: Callable[[], object], n: int) -> float:
        if self.device != "cuda":
            start = time.perf_counter()
            for _ in range(n):
                fn()
            return time.perf_counter() - start
        begin, end = (self.torch.cuda.Event(enable_timing=True) for _ in range(2))
        begin.record()
        for _ in range(n):
            fn()
        end.record()
        end.synchronize()
        return float(begin.elapsed_time(end)) / 1e3


def probe_gemms(torch: Any, timer: Timer, sizes: Sizes, dtype: Any) -> list[dict[str, Any]]:
    shapes = [(n, n, n) for n in sizes.squares] + \
        [(m, sizes.skinny_width, sizes.skinny_width) for m in sizes.skinny_rows]
    points = []
    for m, n, k in shapes:
        a = torch.randn(m, k, device=timer.device, dtype=dtype)
        b = torch.randn(k, n, device=timer.device, dtype=dtype)
        c = torch.empty(m, n, device=timer.device, dtype=dtype)
        seconds = timer.per_call_s(partial(torch.matmul, a, b, out=c))
        points.append({"m": m, "n": n, "k": k, "seconds": seconds})
    return points


def probe_streams(torch: Any, timer: Timer, sizes: Sizes, dtype: Any) -> list[dict[str, Any]]:
    points = []
    element = torch.empty((), dtype=dtype).element_size()
    for size in sizes.stream_bytes:
        src = torch.randn(size // element, device=timer.device, dtype=dtype)
        dst = torch.empty_like(src)
        points.append({"op": "copy", "bytes": size,
                       "seconds": timer.per_call_s(partial(dst.copy_, src))})
        points.append({"op": "reduce", "bytes": size, "seconds": timer.per_call_s(src.sum)})
    return points


def probe_h2d(torch: Any, timer: Timer, sizes: Sizes) -> list[dict[str, Any]]:
    points = []
    for size in sizes.h2d_bytes:
        dst = torch.empty(size, dtype=torch.uint8, device="cuda")
        for pinned in (True, False):
            src = torch.empty(size, dtype=torch.uint8, pin_memory=pinned)
            seconds = timer.per_call_s(partial(dst.copy_, src, non_blocking=True),
                                       target_s=2e-2)
            points.append({"bytes": size, "pinned": pinned, "seconds": seconds})
    return points


def probe_launch(torch: Any, timer: Timer) -> dict[str, float]:
    """Per tiny kernel: eager issue (host-bound), graph replay, and one kernel's duration."""
    x = torch.zeros(1, device=timer.device)
    kernels = 200

    def eager() -> None:
        for _ in range(kernels):
            x.add_(1.0)

    eager_s = timer.per_call_s(eager) / kernels
    if timer.device != "cuda":
        return {"eager_s": eager_s, "graph_s": eager_s, "min_kernel_s": eager_s}
    graph = capture(torch, eager)
    graph_s = timer.per_call_s(graph.replay) / kernels
    return {"eager_s": eager_s, "graph_s": graph_s,
            "min_kernel_s": kernel_duration_s(torch, graph.replay, kernels) or graph_s}


def capture(torch: Any, fn: Callable[[], object]) -> Any:
    """A CUDA graph of ``fn`` (warmed up on a side stream, as the CUDA-graphs docs show)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph


def kernel_duration_s(torch: Any, fn: Callable[[], object], kernels: int) -> float | None:
    """Mean device duration of the kernels ``fn`` runs, from torch.profiler (None if absent)."""
    try:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            fn()
            torch.cuda.synchronize()
        events = [e for e in prof.key_averages() if getattr(e, "device_type", None) is not None
                  and "CUDA" in str(e.device_type)]
        total_us = sum(getattr(e, "device_time_total", 0.0) for e in events)
        count = sum(e.count for e in events)
        return total_us / 1e6 / count if count >= kernels // 2 and total_us > 0 else None
    except Exception:  # the profiler is optional: any failure falls back to graph_s
        return None


# --------------------------------------------------------------------------- decoder


class Decoder:
    """A Llama-shaped decoder with random weights: fused QKV, GQA attention over a static KV
    cache, SwiGLU MLP, RMSNorm; embeddings gathered; the LM head on each sequence's last token."""

    def __init__(self, torch: Any, shape: dict[str, int], device: str, dtype: Any) -> None:
        self.torch, self.s, self.device, self.dtype = torch, shape, device, dtype
        d, h, kv = shape["d_model"], shape["n_heads"], shape["n_kv_heads"]
        self.hd = d // h

        def w(*dims: int) -> Any:
            return torch.randn(*dims, device=device, dtype=dtype) / math.sqrt(dims[0])

        layers = shape["n_layers"]
        self.embed = torch.randn(shape["vocab"], d, device=device, dtype=dtype)
        self.qkv = [w(d, (h + 2 * kv) * self.hd) for _ in range(layers)]
        self.o = [w(h * self.hd, d) for _ in range(layers)]
        self.gate_up = [w(d, 2 * shape["d_ff"]) for _ in range(layers)]
        self.down = [w(shape["d_ff"], d) for _ in range(layers)]
        self.head = w(d, shape["vocab"])

    def _norm(self, x: Any) -> Any:
        return x * self.torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-6).to(x.dtype)

    def forward(self, ids: Any, cache: list[tuple[Any, Any]], length: int) -> Any:
        """ids (B, T); cache[i] = (K, V) of (B, KV, C, hd); the T new tokens sit at
        positions length .. length + T - 1 of the cache (written in place)."""
        torch, s = self.torch, self.s
        b, t = ids.shape
        kv, g = s["n_kv_heads"], s["n_heads"] // s["n_kv_heads"]
        x = self.embed[ids]                                           # (B, T, d): a gather
        for i, (k_cache, v_cache) in enumerate(cache):
            q, k, v = (self._norm(x) @ self.qkv[i]).split(
                [s["n_heads"] * self.hd, kv * self.hd, kv * self.hd], dim=-1)
            k_cache[:, :, length:length + t] = k.view(b, t, kv, self.hd).transpose(1, 2)
            v_cache[:, :, length:length + t] = v.view(b, t, kv, self.hd).transpose(1, 2)
            keys, values = k_cache[:, :, :length + t], v_cache[:, :, :length + t]
            q = q.view(b, t, kv, g, self.hd).permute(0, 2, 3, 1, 4).reshape(b, kv, g * t, self.hd)
            att = self._attend(q, keys, values, causal=t > 1)          # (B, KV, G·T, hd)
            att = att.view(b, kv, g, t, self.hd).permute(0, 3, 1, 2, 4).reshape(b, t, -1)
            x = x + att @ self.o[i]
            gate, up = (self._norm(x) @ self.gate_up[i]).chunk(2, dim=-1)
            x = x + (torch.nn.functional.silu(gate) * up) @ self.down[i]
        return (self._norm(x[:, -1]) @ self.head).argmax(-1)

    def _attend(self, q: Any, k: Any, v: Any, *, causal: bool) -> Any:
        torch = self.torch
        if not causal:  # decode: every query row attends to the whole cache
            return torch.nn.functional.scaled_dot_product_attention(q, k, v)
        b, kv, gt, hd = q.shape
        g = gt // k.shape[2]
        q = q.view(b, kv * g, k.shape[2], hd)
        k, v = (x.repeat_interleave(g, dim=1) for x in (k, v))
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return out.reshape(b, kv, gt, hd)

    def step(self, phase: str, batch: int, tokens: int) -> Callable[[], object]:
        """A callable running one step with static inputs (capturable in a CUDA graph)."""
        torch, s = self.torch, self.s
        new = 1 if phase == "decode" else tokens
        length = tokens if phase == "decode" else 0
        cache = [tuple(torch.zeros(batch, s["n_kv_heads"], length + new, self.hd,
                                   device=self.device, dtype=self.dtype) for _ in range(2))
                 for _ in range(s["n_layers"])]
        ids = torch.randint(0, s["vocab"], (batch, new), device=self.device)
        return lambda: self.forward(ids, cache, length)


def probe_steps(torch: Any, timer: Timer, sizes: Sizes, dtype: Any,
                deadline: float) -> list[dict[str, Any]]:
    model = Decoder(torch, sizes.shape, timer.device, dtype)
    engines = ("eager", "graph") if timer.device == "cuda" else ("eager",)
    points = []
    runs = [("decode", b, c) for b, c in sizes.decode] + \
        [("prefill", b, p) for b, p in sizes.prefill]
    for phase, batch, tokens in runs:
        for engine in engines:
            if time.monotonic() > deadline:
                print(f"gpu_probe: budget spent, skipping {phase} b{batch} {tokens} {engine}",
                      file=sys.stderr)
                continue
            fn = model.step(phase, batch, tokens)
            with torch.inference_mode():
                run = capture(torch, fn).replay if engine == "graph" else fn
                seconds = timer.per_call_s(run, target_s=5e-2)
            length_key = "context" if phase == "decode" else "prompt_len"
            points.append({"phase": phase, "batch": batch, length_key: tokens, "engine": engine,
                           "seconds": seconds, "shape": dict(sizes.shape)})
            del fn
    return points


# --------------------------------------------------------------------------- main


def accelerator_name(torch: Any, device: str) -> str:
    """The catalog name of this GPU (H100, A100-80GB, ...), or ``host`` on a CPU."""
    if device != "cuda":
        return "host"
    name = str(torch.cuda.get_device_name())
    memory_gb = torch.cuda.get_device_properties(0).total_memory / 1e9
    for key, catalog in (("H200", "H200"), ("H100", "H100"), ("A100", "A100-80GB")):
        if key in name:
            return "A100-40GB" if catalog == "A100-80GB" and memory_gb < 60 else catalog
    return name


def run_probe(torch: Any, args: argparse.Namespace) -> dict[str, Any]:
    deadline = time.monotonic() + args.budget_s
    sizes = GPU if args.device == "cuda" else CPU
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    timer = Timer(torch, args.device, args.rounds)
    torch.manual_seed(args.seed)
    gemm = probe_gemms(torch, timer, sizes, dtype)
    stream = probe_streams(torch, timer, sizes, dtype)
    best_flops = max(2.0 * p["m"] * p["n"] * p["k"] / p["seconds"] for p in gemm)
    best_bw = max((2 if p["op"] == "copy" else 1) * p["bytes"] / p["seconds"] for p in stream)
    name = torch.cuda.get_device_name() if args.device == "cuda" else "cpu (torch)"
    return {"schema": SCHEMA,
            "device": {"name": name, "kind": "cuda" if args.device == "cuda" else "cpu",
                       "accelerator": args.accelerator or accelerator_name(torch, args.device),
                       "precision": "bf16" if args.device == "cuda" else "fp32",
                       "peak_flops_per_s": best_flops, "mem_bw_bytes_per_s": best_bw},
            "gemm": gemm, "stream": stream,
            "h2d": probe_h2d(torch, timer, sizes) if args.device == "cuda" else [],
            "launch": probe_launch(torch, timer),
            "steps": probe_steps(torch, timer, sizes, dtype, deadline)}


def write_atomic(path: str, doc: dict[str, Any]) -> None:
    """Write whole or not at all."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".gpu_probe.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, indent=1, allow_nan=False)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="probe file to write (mlfleet.probe/1)")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--accelerator", help="catalog name (default: from the GPU's name)")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds (best kept)")
    parser.add_argument("--budget-s", type=float, default=180.0,
                        help="stop adding step points after this many seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("error: gpu_probe needs torch (pip install torch)", file=sys.stderr)
        return 2
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: no CUDA GPU here; run on a machine with one, or give --device cpu",
              file=sys.stderr)
        return 2
    started = time.monotonic()
    doc = run_probe(torch, args)
    write_atomic(args.out, doc)
    print(f"wrote {args.out}: {len(doc['gemm'])} GEMMs, {len(doc['stream'])} streams, "
          f"{len(doc['h2d'])} H2D copies, {len(doc['steps'])} steps on {doc['device']['name']} "
          f"in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
