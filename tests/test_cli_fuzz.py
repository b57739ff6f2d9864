"""Fuzz the model commands' argument lists: every run ends in exit 0, 2 or 3 — never a traceback.

(`tests/test_scenario_fuzz.py` fuzzes `scenario` and `catalog`; this covers `plan`, `infra`,
`comm` and `serving`. Commands that start processes or need root — `run`, `lab` — have their own
fault-path tests.)
"""

from __future__ import annotations

import contextlib
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlfleet.cli import main

HEADS = [["plan"], ["infra", "roofline"], ["comm", "allreduce"], ["comm", "crossover"],
         ["comm", "zero"], ["comm", "bucket"], ["comm", "patterns"], ["comm", "topology"],
         ["infra"], ["comm"], ["serving", "step"], ["serving", "kv"], ["serving", "erlang"],
         ["serving", "speculative"], ["serving", "replicas"], ["serving", "embedding"],
         ["serving", "tables"], ["serving"]]
OPTIONS = ["--cluster", "--ranks", "--size", "--alpha", "--bw", "--gpus-per-node", "--json",
           "--workload", "--gpus", "--precision-bytes", "--accelerator", "--precision", "--gemm",
           "--flop", "--bytes", "--phase", "--batch", "--seq-len", "--compute-efficiency",
           "--overhead", "--min-size", "--max-size", "--backward-time", "--tensors", "--nope",
           "--tokens-per-gpu", "--samples-per-gpu", "--intra-bw", "--nodes-per-leaf", "--tp",
           "--pp", "--context", "--kv-precision", "--utilization", "--qps", "--service-time",
           "--percentiles", "--k", "--cost-ratio", "--draft", "--slo-p99", "--items", "--shards",
           "-c", "-w", "-a", "-p"]
VALUES = ["H100", "DGX-H100", "H100-1k-fat-tree", "TPU-v5p-pod", "nope", "Llama-3-8B", "DLRM",
          "ResNet-50", "8", "-8", "0", "1", "2", "512", "1e9", "1e999", "nan", "inf", "64KB",
          "4K", "1GB", "400Gb/s", "2ms", "-1ms", "bf16", "fp8", "int4", "decode", "prefill",
          "8192x8192x8192", "0x1x1", "axb", "1,8,64", "1,-1", "0.5", "1.5", "",
          "examples/vision-training.yaml", "/nonexistent.yaml"]


@st.composite
def argv_lists(draw: st.DrawFn) -> list[str]:
    head = draw(st.sampled_from(HEADS))
    pairs = draw(st.lists(st.tuples(st.sampled_from(OPTIONS),
                                    st.one_of(st.sampled_from(VALUES), st.text(max_size=8))),
                          max_size=4))
    tail = [item for pair in pairs for item in pair]
    if draw(st.booleans()):
        tail.insert(draw(st.integers(0, len(tail))), draw(st.sampled_from(VALUES)))
    return head + tail


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv_lists())
def test_model_commands_end_in_0_2_or_3_without_traceback(argv: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    assert rc in (0, 2, 3), (argv, rc, err.getvalue())
    text = err.getvalue()
    assert "Traceback" not in out.getvalue() + text
    if rc in (2, 3):
        assert text.startswith("error: ") and text.count("\n") == 1, (argv, text)
