"""Argument lists for the CLI fuzz, generated from each command's click parameters.

Every command in the tree (``cli_tree.leaf_commands``) and every one of its options gets
values of the right and wrong types: edge numbers, units, catalog names, paths, garbage.
Commands that start processes or long runs draw from small bounded pools (:data:`BOUNDED`);
those that would start a server or change the machine (:data:`SANDBOXED`) run their real
validation inside ``cli_fuzz_sandbox.sandbox``, which records the final start instead.
"""

from __future__ import annotations

import random
from pathlib import Path

import click
from hypothesis import strategies as st

from cli_cases import AB_METRICS, CANARY_BASELINE, CANARY_SERIES, CASES, HOST_PROBE
from cli_tree import leaf_commands

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.name for p in (REPO / "examples").glob("*.yaml"))
"""The bundled examples by name: the fuzz test copies them into its scratch directory, so
that a command which writes a file (``scenario init --force PATH``) can only overwrite
copies. No pool names an absolute path that a command could write."""
URL = "{URL}"
"""Placeholder for the /v1/rank URL of the live server the fuzz test starts."""
GENERATE_URL = "{GENERATE_URL}"
"""Placeholder for its /v1/generate URL."""
_ENVIRONMENTS = REPO / "src" / "mlfleet" / "examples" / "environments"
_DEV, _STAGING = str(_ENVIRONMENTS / "dev.yaml"), str(_ENVIRONMENTS / "staging.yaml")
"""Bundled scenarios with a deployment: section (H5); only read, never an output."""
RANDOM_BYTES = "random-bytes.bin"
"""A file of random bytes in the scratch directory."""
EMPTY = "empty.yaml"
"""An empty file in the scratch directory."""


def populate(workdir: Path) -> None:
    """(Re)write the files the pools name into ``workdir``."""
    for name in EXAMPLES:
        (workdir / name).write_bytes((REPO / "examples" / name).read_bytes())
    (workdir / RANDOM_BYTES).write_bytes(bytes(range(256)) * 4 + random.Random(10).randbytes(1024))
    (workdir / EMPTY).write_bytes(b"")


INTS = ["0", "1", "2", "3", "8", "-1", "1000000", "1000000000000", "1e3", "abc", ""]
FLOATS = ["0", "0.5", "1", "-1", "0.999", "1e9", "nan", "inf", "-inf", "x", "1e999", ""]
TEXTS = ["H100", "DGX-H100", "H100-1k-fat-tree", "TPU-v5p-pod", "nope", "Llama-3-8B", "DLRM",
         "ResNet-50", "llama3-405b", "8", "-8", "0", "1", "2", "512", "1e9", "1e999", "nan",
         "inf", "64KB", "64kb", "4K", "3", "1GB", "400Gb/s", "10gbit", "2ms", "-1ms", "1us",
         "bf16", "fp8", "int4", "decode", "prefill", "8192x8192x8192", "0x1x1", "axb",
         "1,8,64", "1,-1", "0.5", "1.5", "", "50%", "$2/h", "missing/nonexistent.yaml",
         RANDOM_BYTES, EMPTY, "/proc", "/proc/nope", ".", *EXAMPLES]
PATHS = [*EXAMPLES, "missing/nonexistent.yaml", EMPTY, "/proc", "/proc/nope", ".",
         RANDOM_BYTES, "", "nope"]

_DEBUG_DATA = REPO / "tests" / "ops" / "debug" / "data"
_DEBUG_LOGS = str(_DEBUG_DATA / "train-logs")
"""Read-only real per-rank logs (``mlfleet ops debug``); outputs go to relative paths."""
_DEBUG_CSVS = [str(_DEBUG_DATA / n) for n in ("latency.csv", "features-reference.csv",
                                             "features-current.csv", "decay.csv")]
_SMALL_COUNTS = ["0", "1", "2", "-1", "x"]
_SIM_REQUESTS = ["0", "1", "3", "100", "2000", "-1", "x", "1000000000000000"]
_SIM_SEEDS = ["0", "1", "-1", "123456789", "x", ""]
_REGISTRY_STORES = ["registry.db", EMPTY, RANDOM_BYTES, "/proc", "/proc/nope/r.db", ".",
                    "missing/r.db", ""]
"""Registry stores for ``mlfleet ops registry``: one in the scratch directory and bad ones.
Never the bundled fixture: a write command would change it (only the reading commands'
CASES rows name it)."""
_REGISTRY_MODELS = str(REPO / "src" / "mlfleet" / "examples" / "ensembles" / "recsys-models.yaml")
# Per command, per parameter (:func:`pool_key`): a pool that keeps a run small (valid values
# small, the rest invalid). The huge request count is one each simulator refuses up front.
BOUNDED: dict[tuple[str, ...], dict[str, list[str]]] = {
    ("run", "collective"): {
        "collective": ["allreduce", "broadcast", "reduce", "allgather", "nope", ""],
        "ranks": ["1", "2", "0", "-1", "3", "x"], "sizes": ["4K", "1K,4K", "64kb", "0", "3", "x"],
        "repeats": _SMALL_COUNTS, "warmup": _SMALL_COUNTS, "iters": _SMALL_COUNTS,
        "root": ["0", "1", "7", "-1"], "ranks_per_node": ["1", "2", "3", "0"],
        "backend": ["socket", "loopback", "nope"], "timeout": ["20s", "0", "-1", "x"],
        "blocks": _SMALL_COUNTS, "servers": _SMALL_COUNTS, "hosts": ["nope", ""],
        "latency": ["0", "1ms", "-1ms", "x"], "dtype": ["float32", "float64", "float128", "x"],
        "log_dir": ["logs", EMPTY, "/proc/nope", ""],  # H7
    },
    ("run", "loader"): {
        "workers": ["1", "2", "1,2", "0", "33", "1,x", ""], "samples": ["1", "50", "200", "0", "-1"],
        "sample_bytes": ["64", "1KB", "0", "-1KB", "1TB", "x"],
        "decode_cost": ["0", "0.1ms", "-1ms", "5s", "x"], "batch_size": _SMALL_COUNTS,
        "shuffle_buffer": _SMALL_COUNTS, "prefetch": _SMALL_COUNTS, "shards": _SMALL_COUNTS,
        "format": ["shards", "parquet", "csv", ""], "seed": ["0", "1", "-1", "x"],
        "dir": ["loader-data", EMPTY, RANDOM_BYTES, "/proc/nope", ""],
    },
    ("run", "train"): {
        "ranks": ["1", "2", "0", "-1", "17", "x"], "steps": ["1", "2", "4", "0", "-1", "x"],
        "ckpt_every": ["1", "2", "0", "-1", "x"], "seed": ["0", "1", "-1", "x"],
        "batch": ["1", "8", "0", "-1", "5000"], "lr": ["0.01", "0", "-1", "nan", "x"],
        "inject": ["kill:rank=1,step=2", "corrupt:step=2", "slow:rank=0,factor=2",
                   "random-kill:rate=2", "hang:rank=5,step=1", "disk-full:step=0",
                   "kill:rank=9,step=1", "kill", "x", ""],
        "keep_last": ["1", "3", "0", "-1"], "keep_every": ["0", "2", "-1"],
        "ckpt_dir": ["ckpt", EMPTY, RANDOM_BYTES, "/proc/nope", ""],
        "hang_timeout": ["5s", "0", "-1s", "x"], "max_restarts": ["1", "3", "-1", "x"],
        "rejoin_after": ["1", "2", "0", "x"],
        "log_dir": ["logs", EMPTY, RANDOM_BYTES, "/proc/nope", ""],  # H7
    },
    ("storage", "dataset", "demo"): {
        "path": ["demo-ds", "demo-ds", EMPTY, RANDOM_BYTES, "/proc/nope", ""],
        "rows": ["4", "40", "3", "0", "-1", "x"], "seed": ["0", "1", "-1", "x"],
    },
    ("run", "compression"): {
        "ranks": ["1", "2", "0", "-1"], "steps": ["1", "3", "0", "-1"],
        "methods": ["dense", "topk", "dense,topk", "nope", ""],
        "backend": ["loopback", "socket"], "seed": ["0", "-1", "x"],
    },
    ("loadgen",): {
        "url": [URL, GENERATE_URL, "ftp://x/v1/rank", "nope", ""],
        "rate": ["10", "50", "0", "-1", "nan", "inf", "x"],
        "duration": ["0.1", "0.3", "0", "-1", "nan", "x"],
        "prompt_tokens": ["1", "4", "0", "-1"], "max_new_tokens": ["1", "4", "0", "-1"],
        "items": ["1", "8", "0", "-1"], "timeout": ["2", "0", "-1", "nan"],
        "retries": ["0", "2", "-1", "x"], "retry_budget": ["0", "0.2", "-1", "nan", "inf"],
        "retry_min": ["0", "3", "-1"], "backoff_ms": ["1", "10", "0", "-1", "nan"],
        "backoff_cap_ms": ["5", "100", "0", "-1", "nan"],
    },
    ("sim", "mmc"): {"requests": _SIM_REQUESTS, "batches": ["1", "2", "10", "0", "x"],
                     "servers": ["1", "2", "8", "100000", "0", "-1", "x"], "seed": _SIM_SEEDS},
    ("sim", "serve"): {"requests": _SIM_REQUESTS, "replicas": ["1", "2", "0", "-1"],
                       "max_batch": ["1", "8", "0"], "trace": PATHS,
                       "seed": _SIM_SEEDS},
    ("infra", "probe"): {"rounds": ["1", "0", "-1", "x"],
                         "out": ["probe.json", ".", "/proc/nope/p.json", ""]},
    ("infra", "calibrate"): {"probe": [HOST_PROBE, *PATHS],
                             "out": ["calib.json", ".", "/proc/nope/c.json", ""]},
    ("infra", "topology", "build"): {
        "k": ["4", "6", "5", "0", "-2", "x"], "nodes": ["1", "2", "4", "0", "-1", "x"],
        "gpus_per_node": ["1", "2", "8", "0", "65"], "hosts": ["4", "16", "0", "-1"],
        "dims": ["4x4", "2x2x2", "4x0x4", "4", "x", ""], "spines": ["1", "4", "0", "513"],
        "leaf_ports": ["4", "32", "0", "513"]},
    ("infra", "topology", "bisection"): {
        "k": ["4", "6", "5", "0", "-2", "x"], "nodes": ["1", "2", "4", "0", "-1", "x"],
        "gpus_per_node": ["1", "2", "8", "0", "65"], "hosts": ["4", "16", "0", "-1"],
        "dims": ["4x4", "2x2x2", "4x0x4", "4", "x", ""], "spines": ["1", "4", "0", "513"],
        "leaf_ports": ["4", "32", "0", "513"]},
    ("infra", "topology", "route"): {
        "k": ["4", "6", "5", "0", "-2", "x"], "nodes": ["1", "2", "4", "0", "-1", "x"],
        "gpus_per_node": ["1", "2", "8", "0", "65"], "hosts": ["4", "16", "0", "-1"],
        "dims": ["4x4", "2x2x2", "4x0x4", "4", "x", ""], "spines": ["1", "4", "0", "513"],
        "leaf_ports": ["4", "32", "0", "513"],
        "channels": ["1", "2", "8", "0", "65", "x"], "top": ["1", "5", "0", "x"],
        "size": ["1GB", "4K", "0", "-1GB", "x"]},
    ("infra", "topology", "compare"): {
        "nodes": ["1", "2", "0", "33", "x"], "size": ["1GB", "4K", "0", "-1", "x"],
        "table": ["rail", "oversubscription", "comm", "nope", ""]},
    # sim degrade (issue 13 item 5): Monte-Carlo sizes and loops kept small.
    ("sim", "degrade", "feature-fallback"): {"samples": ["100", "2000", "0", "-1", "x"],
                                             "seed": _SIM_SEEDS},
    ("sim", "degrade", "llm-inflight"): {"prompt": ["1", "100", "0", "-1", "x"],
                                         "output": ["1", "20", "0", "-1", "x"],
                                         "points": ["2", "3", "0", "51", "x"]},
    ("sim", "degrade", "ensemble"): {"samples": ["100", "2000", "0", "-1", "x"],
                                     "members": ["1", "3", "0", "21", "x"], "seed": _SIM_SEEDS},
    ("sim", "degrade", "geo"): {"samples": ["100", "2000", "0", "-1", "x"],
                                "rtt_ms": ["5", "5,60;60,5", "5,60;60", "x", "-1", ""],
                                "seed": _SIM_SEEDS},
    ("sim", "degrade", "quality"): {"delta": ["0.5", "0,0.3", "-1", "nan", "x", ""],
                                    "window": ["20", "100", "0", "100001", "x"],
                                    "reference": ["20", "200", "0", "x"],
                                    "trials": ["1", "2", "0", "501", "x"],
                                    "max_windows": ["1", "3", "0", "201", "x"], "seed": _SIM_SEEDS},
    ("sim", "goodput"): {
        "solve": ["1h", "20h", "0", "-1h", "x", ""], "gpus": ["8", "64", "12", "0", "-1"],
        "gpus_per_node": ["1", "8", "0"], "mtbf": ["6h", "24h", "0", "-1h", "1s", "x"],
        "node_mtbf": ["48h", "0", "x"], "interval": ["daly", "young", "1h", "0", "x"],
        "failure": ["exponential", "weibull:shape=0.7", "burst", "burst:nodes=4",
                    "weibull:k=1", "nope", ""],
        "ckpt_cost": ["5min", "0s", "-1s", "x"], "snapshot": ["10s", "0s", "-1s", "x"],
        "restart": ["10min", "0s", "1e9s", "x"], "detect": ["1min", "0s", "-1s", "x"],
        "spares": ["0", "1", "-1", "x"], "repair": ["24h", "0", "1e9s", "x"],
        "seeds": ["1", "2", "0", "-1", "x"], "seed": _SIM_SEEDS,
    },
    ("sim", "stragglers"): {
        "ranks": ["1", "4", "0", "-1", "x"], "steps": ["1", "100", "0", "100000000", "x"],
        "ssp_steps": ["1", "20", "0", "1000000", "x"], "backups": ["0", "0,2", "-1", "x", ""],
        "staleness": ["0", "0,inf", "-1", "x", ""], "base": ["100ms", "0", "-1ms", "x"],
        "jitter": ["10ms", "0", "x"], "timeout": ["1s", "0", "-1s", "x"],
        "window": ["1", "20", "0", "x"], "persistence": ["1", "50", "0.5", "x"],
        "seed": _SIM_SEEDS,
    },
    ("chaos",): {  # a valid run starts replicas and HAProxy, then loads them: ~7 s
        "replicas": ["1", "0", "-1", "x"], "balance": ["random2", "leastconn", "nope", ""],
        "rate": ["5", "0", "-1", "nan", "x"], "duration": ["1s", "0", "-1s", "x"],
        "fault": ["stop@0.2s,cont@0.5s", "kill@9s", "explode@1s", "cont@1s", "1:kill@1s", "x",
                  "drain@0.2s"],
        "slow_factor": ["2", "0.5", "nan", "x"], "client_retries": ["budget", "every", "x"],
        "haproxy_retries": ["0", "2", "-1", "x"],
        "retry_budget": ["0.2", "-1", "x"], "slo": ["0.99", "1", "0", "x"],
        "seed": ["0", "-1", "x"],
    },
    ("run", "pinning"): {  # a valid run starts a real server and 4 load generators: ~15 s
        "duration": ["0.5s", "0", "-1s", "1e9s", "x"], "rate": ["20", "0", "-1", "nan", "x"],
        "hogs": ["1", "0", "65", "x"], "server_cpus": ["1", "0", "64", "x"],
        "seed": ["0", "-1", "x"],
    },
    ("sim", "autoscale"): {
        "hours": ["0.1", "0.25", "0", "-1", "nan", "1e9", "x"],
        "rate": ["2", "5", "0", "-1", "nan", "1e12", "x"],
        "period": ["1h", "10min", "1ms", "0", "-1h", "x"], "window": ["5min", "1s", "0", "x"],
        "seed": _SIM_SEEDS,
    },
    ("lab", "slurm", "up"): {  # starts daemons as root: only values refused up front
        "hosts": ["0", "1", "-1", "65", "x", ""], "gpus_per_host": ["-1", "x", ""],
    },
    ("sim", "cache"): {
        "trace": ["zipf:items=1000,accesses=3000", "sequential:items=300,epochs=2", "shuffle",
                  "checkpoint:items=500,accesses=2000,every=500,shards=200", "zipf:items=1e12",
                  "zipf:alpha=-1", "nope", ""],
        "size": ["1%", "10", "50%,10", "0", "0.0001%", "-1", "x", ""],
        "prefetch": ["0", "4", "-1", "x"],
    },
    ("sim", "cluster"): {  # a bundled 80-job workload runs in well under a second
        "workload": ["workload-3@0.5", "workload-5@0.5", "workload-9", "nope.csv", EMPTY,
                     RANDOM_BYTES, "/proc", ".", ""],
        "policy": ["tiresias", "optimus", "fifo", "nope", ""],
        "nodes": ["16", "4", "1", "0", "-1", "x"], "gpus_per_node": ["4", "2", "8", "0", "x"],
        "interval": ["60s", "5min", "0", "-1s", "x"], "restart_delay": ["30s", "0", "-1s", "x"],
        "out": ["jobs.csv", "missing/jobs.csv", ".", ""],
    },
    ("ops", "cost", "cluster"): {  # the bundled 60-job teams trace by default
        "workload": ["workload-3@0.5", "nope.csv", EMPTY, RANDOM_BYTES, "/proc", ".", ""],
        "policy": ["tiresias", "fifo", "nope", ""],
        "nodes": ["16", "4", "1", "0", "-1", "x"], "gpus_per_node": ["4", "2", "8", "0", "x"],
    },
    ("ops", "cost", "serving"): {"requests": ["1", "100", "500", "0", "-1", "x"],
                                 "seed": _SIM_SEEDS},
    ("ops", "experiment", "split"): {  # hashing 10^7 units takes ~7 s
        "units": ["1", "100", "2000", "0", "-1", "x", "10000001", EMPTY, RANDOM_BYTES, "/proc",
                  "missing/nonexistent.yaml", ""]},
    ("ops", "experiment", "analyze"): {  # reads a metric file: the bundled one or bad ones
        "metrics": [AB_METRICS, EMPTY, RANDOM_BYTES, "missing/nonexistent.yaml", "/proc", ".",
                    ""],
        "bootstrap": ["0", "10", "50", "5", "-1", "1000000", "x"]},
    ("ops", "experiment", "cuped"): {  # users x (1 + replicates) normal draws
        "users": ["4", "100", "2000", "3", "0", "-1", "x"],
        "replicates": ["0", "3", "5", "2", "-1", "x"], "seed": _SIM_SEEDS},
    ("ops", "experiment", "peeking"): {  # sims x lcm(looks) walk steps; 10^7 take ~0.3 s
        "sims": ["1", "100", "2000", "0", "-1", "x", "1000000000"],
        "power_sims": ["1", "50", "0", "-1", "x"], "seed": _SIM_SEEDS,
        "looks": ["1", "1,2,5", "7,11,13,17", "0", "x", ""]},
    ("ops", "experiment", "monitor"): {  # reads a metric file: the bundled one or bad ones
        "metrics": [AB_METRICS, EMPTY, RANDOM_BYTES, "missing/nonexistent.yaml", "/proc", ".",
                    ""],
        "every": ["1", "50", "0", "-1", "x"]},
    ("ops", "experiment", "interleaving"): {  # users x mean queries simulated queries
        "users": ["100", "2000", "99", "0", "-1", "x"], "reps": ["20", "50", "0", "x"],
        "gap": ["0.5", "1", "0", "-1", "nan", "x"], "list_len": ["2", "10", "1", "101", "x"],
        "mean_queries": ["1", "5", "0", "1001", "x"], "seed": _SIM_SEEDS},
    ("ops", "platform", "oncall"): {  # simulated model-weeks are capped at 10^6 (~3 s)
        "models": ["1", "10", "1,10,100", "0", "-1", "x", "100001", ""],
        "simulate_weeks": ["0", "1", "20", "-1", "nan", "x", "1e9"], "seed": _SIM_SEEDS},
    # ops diff/promote/record (H5): read-only bundled environments, relative outputs only;
    # serve --record stays invalid here, since the sandbox's serve records configs only.
    ("ops", "diff"): {"scenario": [_DEV, _STAGING, *EXAMPLES, EMPTY, RANDOM_BYTES, ""],
                      "against": [URL, "http://127.0.0.1:9", "ftp://x", "nope", ""],
                      "timeout": ["1s", "0", "-1s", "x"]},
    ("ops", "promote"): {"source": [_DEV, _STAGING, EMPTY, RANDOM_BYTES, "nope", ""],
                         "target": [_STAGING, _DEV, EMPTY, "missing/nonexistent.yaml", ""],
                         "allow": ["serving.qps", "cluster.gpus", "nope", "serving.x", ""],
                         "out": ["promoted.yaml", "missing/p.yaml", ".", ""]},
    ("ops", "record"): {"data": [EMPTY, RANDOM_BYTES, "missing/nonexistent.yaml", ""],
                        "model": [EMPTY, RANDOM_BYTES, "missing/nonexistent.yaml", ""],
                        "config": [_DEV, *EXAMPLES, EMPTY, RANDOM_BYTES, ""],
                        "code": [".", "missing", RANDOM_BYTES, ""],
                        "out": ["record.json", "missing/r.json", ".", ""],
                        "verify": ["record.json", EMPTY, RANDOM_BYTES, "missing/r.json", ""]},
    ("serve",): {"scenario": [_DEV, *EXAMPLES, EMPTY, RANDOM_BYTES, "nope", ""],
                 "record": ["missing/record.json", ".", "", "record.json"],
                 # the sandbox records a valid fleet (serve_fleet) instead of starting it
                 "replicas": ["1", "2", "3", "0", "-1", "x", ""],
                 "lb": ["haproxy", "nginx", "", "x"],
                 "balance": ["random2", "hash", "nope", ""]},
    # ops debug (H7): read-only bundled logs and CSVs, relative outputs; demo trains for real.
    ("ops", "debug", "timeline"): {"log_dir": [_DEBUG_LOGS, EMPTY, RANDOM_BYTES, "/proc", ".",
                                               "missing", ""],
                                   "out": ["trace.json", "missing/t.json", ".", "", "/proc/x"]},
    ("ops", "debug", "stragglers"): {"log_dir": [_DEBUG_LOGS, EMPTY, "/proc", ".", ""]},
    ("ops", "debug", "gradients"): {"log_dir": [_DEBUG_LOGS, EMPTY, "/proc", ".", ""]},
    ("ops", "debug", "changepoints"): {"series": [*_DEBUG_CSVS, EMPTY, RANDOM_BYTES, "/proc", ""],
                                       "window": ["1", "2", "0", "-1", "1000000", "x"]},
    ("ops", "debug", "drift"): {"reference": [*_DEBUG_CSVS, EMPTY, RANDOM_BYTES, ""],
                                "current": [*_DEBUG_CSVS, EMPTY, RANDOM_BYTES, ""]},
    ("ops", "debug", "staleness"): {  # trials x lstsq(train_samples x dims)
        "series": [_DEBUG_CSVS[3], _DEBUG_CSVS[0], EMPTY, RANDOM_BYTES, "missing.csv", ""],
        "dims": ["1", "8", "0", "-1", "1001", "x"],
        "train_samples": ["10", "500", "3", "0", "100001", "x"]},
    ("ops", "debug", "demo"): {
        "ranks": ["3", "2", "9", "-1", "x"], "steps": ["30", "29", "501", "-1", "x"],
        "seed": ["0", "1", "-1", "x"], "log_dir": ["logs", EMPTY, "/proc/nope", ""],
        "trace": ["trace.json", ".", "", "/proc/x"]},
    # ops registry (H1): stores only in the scratch directory; the bundled fixture read only.
    **{("ops", "registry", *name): {"store": _REGISTRY_STORES}
       for name in (("ensemble", "create"), ("promote",), ("canary",),
                    ("rollback",), ("deprecate",), ("retire",), ("retention",), ("show",),
                    ("resolve",), ("history",))},
    ("ops", "registry", "register"): {"store": _REGISTRY_STORES,
                                      "file": [_REGISTRY_MODELS, *EXAMPLES, EMPTY, RANDOM_BYTES,
                                               "missing.yaml", ""]},
    ("ops", "registry", "demo"): {  # a new store each time, or one that exists: refused
        "store": ["demo-registry.db", "registry.db", EMPTY, "/proc/nope", ".", ""]},
    # ops canary (H4): judge reads series files; real starts two servers (~15 s a run).
    ("ops", "canary", "judge"): {
        "baseline": [CANARY_BASELINE, EMPTY, RANDOM_BYTES, "/proc", ".", "missing.csv", ""],
        "canary": [CANARY_SERIES, EMPTY, RANDOM_BYTES, "/proc", "missing.csv", ""],
        "config": [EMPTY, RANDOM_BYTES, *EXAMPLES, "/proc", "missing.yaml", ""]},
    ("ops", "canary", "sim"): {"rate": ["20", "5", "0", "-1", "nan", "x", "1e9"],
                               "regression": ["none", "latency=1.3", "errors=0.02",
                                              "variance=0.5", "latency=0.5", "x", ""],
                               "seed": _SIM_SEEDS},
    ("ops", "canary", "real"): {"duration": ["2s", "0", "-1s", "1e9s", "x"],
                                "interval": ["0.5s", "0", "x"],
                                "rate": ["20", "0", "-1", "nan", "x", "1e9"],
                                "regression": ["none", "latency=2", "errors=0.1",
                                               "variance=0.5", "x", ""],
                                "seed": ["0", "-1", "x"]},
    # report (issue 18 item 1): writes an HTML file (~3 s a run); --sweep files are all bad.
    ("report",): {"scenario": [*EXAMPLES, EMPTY, RANDOM_BYTES, "nope", ""],
                  "out": ["report.html", "missing/report.html", "/proc/nope/r.html", "/proc",
                          ".", ""],
                  "sweep": [RANDOM_BYTES, EMPTY, "missing.parquet", "/proc", ""],
                  "seed": ["0", "1", "-1", "x"]},
    # book (issue 18, part E): tables write files, only in the scratch directory.
    ("book", "tables"): {"out": ["book-tables", ".", EMPTY, RANDOM_BYTES, "/proc/nope", ""],
                         "chapter": ["comm", "ops", "edge", ""],
                         "id": ["ops.experiment-sample-size", "comm.nope", ""]},
    ("book", "check"): {"chapters": [*PATHS, "book-tables/index.md"]},
    # validate: SMALL_DEFAULTS keep it to the quick comm checks (a full run takes a minute);
    # outputs relative (the scratch directory) or refused.
    ("validate",): {"only": ["comm", "serving.erlang-b", "ops.peeking.armitage", "nope", " "],
                    "results": ["results.json", "missing/r.json", ".", "/proc/nope/r.json", ""],
                    "baseline": ["results.json", EMPTY, RANDOM_BYTES, "missing.json", "/proc",
                                 ""],
                    "save_baseline": ["baseline.json", ".", "/proc/nope/b.json", ""],
                    "write_docs": ["validation.md", ".", "/proc/nope/v.md", ""],
                    "seed": ["0", "1", "-1", "x"]},
    # sweep: small grids only (a 10^5-point grid validates for a minute); never a valid
    # --sim (it starts Ray); outputs relative (the scratch directory) or refused.
    ("sweep",): {"scenario": [*EXAMPLES, EMPTY, RANDOM_BYTES, "nope", ""],
                 "set": ["cluster.gpus=8192", "training.mfu=0.3,0.4", "training.zero_stage=0:3:1",
                         "cluster.gpus=1024:16384:x2", "training.parallelism.data=100",
                         "cluster.gpu=8", "cluster.gpus=x", "cluster.gpus=", "=", "",
                         "cluster.gpus=1:1e9:1", "training.mfu=1:0:1"],
                 "out": ["sweep.parquet", ".", "missing/s.parquet", "/proc/nope/s.parquet", ""],
                 "metric": ["step_compute_s", "fits_hbm", "nope", ""],
                 "sim": ["nope", "", "serve"], "address": ["127.0.0.1:1", "nope", ""],
                 "num_cpus": ["1", "0", "-1", "x"], "requests": ["1", "0", "-1", "x"],
                 "seed": ["0", "1", "-1", "x"]},
}
# Put first, so that a fuzzed value of the same option (last one wins) still applies.
SMALL_DEFAULTS: dict[tuple[str, ...], list[str]] = {
    ("ops", "debug", "demo"): ["--ranks", "3", "--steps", "30"],
    ("run", "collective"): ["--ranks", "2", "--sizes", "4K", "--repeats", "1", "--warmup", "0",
                            "--timeout", "20s"],
    ("run", "compression"): ["--ranks", "2", "--steps", "3", "--methods", "dense",
                             "--backend", "loopback"],
    ("run", "train"): ["--ranks", "2", "--steps", "4", "--ckpt-every", "2"],
    ("run", "loader"): ["--workers", "1", "--samples", "50", "--sample-bytes", "256",
                        "--decode-cost", "0", "--shards", "2"],
    ("loadgen",): ["--rate", "20", "--duration", "0.2", "--timeout", "2"],
    ("sim", "mmc"): ["--requests", "2000"],
    ("sim", "serve"): ["--requests", "100"],
    ("infra", "probe"): ["--rounds", "1"],
    ("infra", "topology", "compare"): ["--nodes", "2"],
    ("sim", "cache"): ["--trace", "zipf:items=1000,accesses=3000"],
    ("sim", "autoscale"): ["--hours", "0.1", "--rate", "5", "--period", "1h"],
    ("run", "pinning"): ["--duration", "0.5s", "--rate", "20", "--hogs", "1"],
    ("sim", "goodput"): ["--solve", "20h", "--seeds", "2"],
    ("sim", "degrade", "feature-fallback"): ["--samples", "2000"],
    ("sim", "degrade", "ensemble"): ["--samples", "2000"],
    ("sim", "degrade", "geo"): ["--samples", "2000"],
    ("sim", "degrade", "quality"): ["--delta", "0.5", "--trials", "2", "--max-windows", "3"],
    ("sim", "stragglers"): ["--ranks", "4", "--steps", "100", "--ssp-steps", "20"],
    ("ops", "experiment", "split"): ["--units", "1000"],
    ("ops", "experiment", "cuped"): ["--users", "2000", "--replicates", "5"],
    ("ops", "experiment", "peeking"): ["--sims", "2000", "--power-sims", "100"],
    ("ops", "experiment", "interleaving"): ["--users", "2000", "--reps", "20", "--gap", "0.5"],
    ("ops", "canary", "sim"): ["--rate", "20"],
    ("ops", "canary", "real"): ["--duration", "2s", "--interval", "0.5s", "--rate", "20"],
    ("validate",): ["--quick", "--only", "comm"],
}
SANDBOXED: dict[tuple[str, ...], str] = {
    ("serve",): "serves until stopped: the sandbox records the config instead of binding",
    ("lab", "hosts", "up"): "creates network namespaces: the sandbox records the lab instead",
    ("lab", "hosts", "down"): "deletes network namespaces: the sandbox records the names instead",
}
"""Commands whose every option value is fuzzed, but only inside ``cli_fuzz_sandbox``."""
_ARG_TEXT = st.text(st.characters(blacklist_characters="\x00"), max_size=8)
"""Any text a shell can pass: an argument of a real process cannot hold a NUL byte."""
COMMANDS = leaf_commands()
GROUPS = sorted({path[:i] for path in COMMANDS for i in range(len(path))})
_NAMES = {name for path in COMMANDS for name in path}  # garbage never names a real command


def pool_key(param: click.Parameter) -> str:
    """The name :data:`BOUNDED` uses for a parameter: its long flag as the user types it,
    without dashes (``--ranks-per-node`` -> ``ranks_per_node``), or an argument's name."""
    return max(param.opts, key=len).lstrip("-").replace("-", "_")


def _values(path: tuple[str, ...], param: click.Parameter) -> st.SearchStrategy[str]:
    bounded = BOUNDED.get(path, {})
    if pool_key(param) in bounded:
        return st.sampled_from(bounded[pool_key(param)])
    kind = param.type
    if isinstance(kind, click.Choice):
        return st.sampled_from([*map(str, kind.choices), "nope", ""])
    if isinstance(kind, click.Path | click.File):
        return st.sampled_from(PATHS)
    if isinstance(kind, click.types.IntParamType):
        return st.one_of(st.sampled_from(INTS), st.integers(-10, 10**6).map(str))
    if isinstance(kind, click.types.FloatParamType):
        return st.one_of(st.sampled_from(FLOATS), st.floats(-10, 1e6).map(str))
    return st.one_of(st.sampled_from(TEXTS), _ARG_TEXT)


@st.composite
def _option(draw: st.DrawFn, path: tuple[str, ...], param: click.Option) -> list[str]:
    flag = draw(st.sampled_from([*param.opts, *param.secondary_opts]))
    if param.is_flag or flag in param.secondary_opts:
        return [flag]
    return [flag, draw(_values(path, param))]


@st.composite
def command_argv(draw: st.DrawFn) -> list[str]:
    """A command path and arguments drawn from its own parameters, plus some garbage; half
    start from a valid argument list (``cli_cases.CASES``) so the fuzz gets past the first
    check."""
    path = draw(st.sampled_from(sorted(COMMANDS)))
    command = COMMANDS[path]
    base = draw(st.sampled_from([[], *CASES.get(path, [])])) if draw(st.booleans()) else []
    options = [p for p in command.params if isinstance(p, click.Option)]
    chosen = draw(st.lists(st.sampled_from(options), max_size=5)) if options else []
    tail = [token for param in chosen for token in draw(_option(path, param))]
    required = [p for p in options if p.required and p not in chosen]
    tail += [token for param in required if draw(st.integers(0, 9)) > 0
             for token in draw(_option(path, param))]
    for argument in (p for p in command.params if isinstance(p, click.Argument)):
        if draw(st.integers(0, 9)) > 0:
            tail.insert(0, draw(_values(path, argument)))
    if draw(st.integers(0, 9)) == 0:
        tail.insert(draw(st.integers(0, len(tail))), draw(st.sampled_from(TEXTS)))
    return [*path, *SMALL_DEFAULTS.get(path, []), *base, *tail]


@st.composite
def group_argv(draw: st.DrawFn) -> list[str]:
    """A group (``comm``, ``sim``, the top level) with a garbage sub-command or option."""
    path = draw(st.sampled_from(GROUPS))
    junk = draw(st.lists(st.one_of(st.sampled_from(["--nope", "-x", "nope", "--json", ""]),
                                   _ARG_TEXT.filter(lambda t: t not in _NAMES)),
                         min_size=1, max_size=2))
    return [*path, *junk]


def argv_lists() -> st.SearchStrategy[list[str]]:
    """Mostly real commands with their own options; one list in ten is a group's garbage."""
    return st.one_of(command_argv(), command_argv(), command_argv(), command_argv(),
                     command_argv(), command_argv(), command_argv(), command_argv(),
                     command_argv(), group_argv())
