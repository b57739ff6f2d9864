"""Small, fast, valid arguments for every command that has ``--json``.

``tests/test_json_strict.py`` runs each row with ``--json``; the CLI fuzz starts half of its
argument lists from one of them, so that it reaches past the first check of each command.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

RECSYS = str(Path(__file__).resolve().parents[1] / "examples" / "recsys-serving.yaml")
CLICKS = str(Path(__file__).resolve().parent / "storage" / "datasets" / "data" / "clicks")
"""A three-version Delta dataset (``mlfleet storage dataset demo --rows 400``), read only."""
FEATURE_REPO = str(Path(__file__).resolve().parents[1] / "src" / "mlfleet" / "examples"
                   / "feature_repo")
"""Read-only here: ``apply --check`` and ``historical`` without ``--out`` write nothing."""
SLURM_WORKLOAD = str(Path(__file__).resolve().parent / "infra" / "slurm" / "data"
                     / "workload.csv")
"""Five sleep jobs in partitions batch and urgent (``mlfleet infra scheduler``), read only."""
AB_METRICS = str(Path(__file__).resolve().parent / "ops" / "experiment" / "data" / "ab.csv")
"""2000 users of an A/B test with pre_value and arm_b (``mlfleet ops experiment analyze``)."""
CANARY_BASELINE = str(Path(__file__).resolve().parent / "ops" / "canary" / "data" / "baseline.csv")
CANARY_SERIES = str(Path(__file__).resolve().parent / "ops" / "canary" / "data" / "canary.csv")
"""Metric series of a baseline and a 30 %-slower canary (``mlfleet ops canary judge``)."""
ENVIRONMENTS = (Path(__file__).resolve().parents[1] / "src" / "mlfleet" / "examples"
                / "environments")
DEV, STAGING = str(ENVIRONMENTS / "dev.yaml"), str(ENVIRONMENTS / "staging.yaml")
"""Bundled dev/staging scenarios with a ``deployment:`` section, read only."""
DEBUG_DATA = Path(__file__).resolve().parent / "ops" / "debug" / "data"
"""Read only: real per-rank logs of a 3-rank ``run train`` (rank 2 slowed, a NaN at step 6),
a latency series, feature samples and an error-vs-age series (``mlfleet ops debug``)."""
DEBUG_TRACE = str(Path(tempfile.gettempdir()) / "mlfleet-cli-cases-trace.json")
"""Where ``ops debug timeline`` writes in these cases (overwritten each time)."""
REGISTRY = str(Path(__file__).resolve().parent / "ops" / "registry" / "data"
               / "recsys-registry.db")
"""``mlfleet ops registry demo --store`` in journal mode DELETE: reading it writes nothing."""
VALIDATE_RESULTS = str(Path(tempfile.gettempdir()) / "mlfleet-cli-cases-validate.json")
"""Where ``validate`` stores its results in these cases (its baseline on the next run)."""
SWEEP_OUT = str(Path(tempfile.gettempdir()) / "mlfleet-cli-cases-sweep.parquet")
"""Where ``sweep`` writes in these cases (overwritten each time)."""
HOST_PROBE = str(Path(__file__).resolve().parent / "infra" / "accel" / "data" / "host-probe.json")
"""A probe of a 2-core CPU (``mlfleet infra probe --out``), read only (``infra calibrate``)."""
PROBE_OUT = str(Path(tempfile.gettempdir()) / "mlfleet-cli-cases-probe.json")
"""Where ``infra probe --out`` writes in these cases (overwritten each time)."""
# Per command, one or more argument lists; several rows exercise several payload shapes.
CASES: dict[tuple[str, ...], list[list[str]]] = {
    ("catalog", "list"): [[]],
    ("chaos",): [["--replicas", "1", "--rate", "5", "--duration", "1s"]],  # one replica, 1 s: ~7 s
    ("catalog", "show"): [["H100"]],
    ("comm", "allreduce"): [["--cluster", "DGX-H100", "--size", "64MB"]],
    ("comm", "bucket"): [["--cluster", "DGX-H100", "--backward-time", "100ms",
                          "--workload", "Llama-3-8B"]],
    ("comm", "crossover"): [["--cluster", "DGX-H100"]],
    ("comm", "patterns"): [[]],
    ("comm", "topology"): [["--cluster", "DGX-H100"]],
    ("comm", "zero"): [["--workload", "Llama-3-8B", "--gpus", "8"]],
    ("infra", "accelerators"): [[], ["-p", "fp8", "-a", "H100", "-a", "TPU-v5p"]],
    ("infra", "cases", "dojo"): [[], ["--defects-per-cm2", "0.2"]],
    ("infra", "cases", "electricity"): [["--peak-price", "$0.30/kWh", "--off-peak-price",
                                         "$0.12/kWh"]],
    ("infra", "cases", "gpu-fallacy"): [["--tables", "1TB", "--rates", "1e6", "--core-rate",
                                         "500"]],
    ("infra", "cases", "recsys"): [[], ["--batch", "64", "-p", "fp32"]],
    ("infra", "power", "bandwidth"): [["-a", "A100"]],
    ("infra", "power", "cap"): [["-a", "H100", "--cap", "0.7"],
                                ["-a", "H100", "--cap", "0.9", "--load", "0.5"]],
    ("infra", "power", "facility"): [["--cluster", "DGX-H100"],
                                     ["--gpus", "72", "-a", "B200", "--cooling", "liquid"]],
    ("infra", "power", "nextgen"): [["--from", "H100", "--to", "B200", "--facility-mw", "2"]],
    ("infra", "isolation"): [[], ["--job", "a:intensity=1,busy=0.8", "--job",
                                   "b:intensity=1000,busy=0.9,profile=3g.40gb"]],
    ("infra", "probe"): [["--rounds", "1"], ["--rounds", "1", "--out", PROBE_OUT]],
    ("infra", "calibrate"): [[HOST_PROBE]],
    ("infra", "topology", "bisection"): [["--k", "8", "-o", "2"],
                                         ["--kind", "torus", "--dims", "4x4x4"]],
    ("infra", "topology", "build"): [["--k", "4"], ["--kind", "rail-optimized", "--nodes", "2"]],
    ("infra", "topology", "case-study"): [["superpod", "--sus", "1"], ["tpu-v4"]],
    ("infra", "topology", "compare"): [["--table", "comm", "--nodes", "2"]],
    ("infra", "topology", "cost"): [["--endpoints", "1024", "--kind", "rail-optimized",
                                     "--rails", "8"]],
    ("infra", "topology", "route"): [["--k", "4", "--size", "16MB"],
                                     ["--kind", "rail-optimized", "--nodes", "2", "--channels",
                                      "8", "--pxn", "-a", "alltoall"]],
    ("infra", "transfer"): [["--bytes", "1GB", "--link", "pcie5x16", "--pageable"],
                            ["--bytes", "16GB", "--link", "nvlink4"]],
    ("infra", "roofline"): [["-a", "H100", "--flop", "1e12", "--bytes", "0"],
                            ["-a", "H100", "--flop", "0", "--bytes", "0"],
                            ["-a", "H100", "--gemm", "1024x1024x1024"],
                            ["-a", "H100", "-w", "Llama-3-8B", "--phase", "decode",
                             "--batch", "1,8"]],
    ("infra", "tco", "breakeven"): [["--gpus", "64"], ["--cloud-prices", "$2/h,$8/h"]],
    ("infra", "tco", "compare"): [["--gpus", "64", "--pue", "1.3", "--years", "4"],
                                  ["--gpus", "8", "--restart", "1e9s"]],
    ("infra", "tco", "hybrid"): [["--gpus", "64", "--hours", "24"]],
    ("infra", "tco", "scale"): [["--scales", "8,1024"]],
    ("infra", "tco", "scaling"): [["--gpus", "1,64,4096"]],
    ("infra", "tco", "sensitivity"): [["--gpus", "64"]],
    ("lab", "hosts", "status"): [[]],
    ("lab", "slurm", "status"): [[]],
    ("infra", "scheduler", "priority"): [[SLURM_WORKLOAD, "--nodes", "2"]],
    ("infra", "scheduler", "predict"): [[SLURM_WORKLOAD, "--nodes", "2"],
                                        [SLURM_WORKLOAD, "--nodes", "2", "--easy"]],
    ("plan",): [[], [RECSYS]],
    ("reliability", "failures"): [[], ["--gpus", "8,1024", "--gpus-per-node", "4"]],
    ("reliability", "interval"): [["--cluster", "H100-16k-fat-tree", "--ckpt-size", "1TB",
                                   "--write-bw", "100GB/s"],
                                  ["--gpus", "64", "--workload", "Llama-3-8B", "--write-bw",
                                   "10GB/s", "--mtbf", "1h", "--price", "$2/h"]],
    ("reliability", "policies"): [["--gpus", "512", "--ckpt-size", "100GB", "--write-bw",
                                   "20GB/s"]],
    ("reliability", "predict"): [[]],
    ("reliability", "strategies"): [[], ["--gpus", "64"]],
    ("run", "collective"): [["allreduce", "--ranks", "2", "--sizes", "4K", "--repeats", "1",
                             "--warmup", "0"]],
    ("run", "compression"): [["--ranks", "2", "--steps", "3", "--methods", "dense",
                              "--backend", "loopback"]],
    ("run", "pinning"): [["--duration", "0.5s", "--rate", "20", "--hogs", "1"]],
    ("run", "train"): [["--ranks", "2", "--steps", "4", "--ckpt-every", "2"]],
    ("run", "loader"): [["--workers", "1,2", "--samples", "100", "--sample-bytes", "256",
                         "--decode-cost", "0", "--shards", "4"],
                        ["--workers", "1", "--samples", "64", "--format", "parquet"]],
    ("scenario", "check"): [[RECSYS]],
    ("scenario", "list"): [[]],
    ("serving", "embedding"): [["-w", "DLRM", "-a", "H100"]],
    ("serving", "erlang"): [["-c", "8", "--utilization", "0.9"],
                            ["-c", "100000", "--utilization", "0.5"]],
    ("serving", "kv"): [["-w", "Llama-3-8B", "-a", "H100"]],
    ("serving", "replicas"): [["-w", "DLRM", "-a", "H100", "--qps", "1000"],
                              ["-w", "Llama-3-8B", "-a", "H100", "--qps", "10",
                               "--prompt-tokens", "100", "--output-tokens", "50"]],
    ("serving", "speculative"): [["--cost-ratio", "0.1", "--alpha", "0.8", "--k", "4"]],
    ("serving", "step"): [["-w", "Llama-3-8B", "-a", "H100"]],
    ("serving", "tables"): [["-a", "H100"]],
    ("sim", "goodput"): [["--solve", "20h", "--mtbf", "6h", "--seeds", "3"]],
    ("sim", "degrade", "feature-fallback"): [["--samples", "2000"]],
    ("sim", "degrade", "llm-inflight"): [["--prompt", "100", "--output", "20", "--points", "3"],
                                         ["--output", "10", "--points", "2", "--simulate"]],
    ("sim", "degrade", "ensemble"): [["--samples", "2000"]],
    ("sim", "degrade", "geo"): [["--samples", "2000"],
                                ["--mode", "active-passive", "--rtt-ms", "5,60;60,5",
                                 "--samples", "2000"]],
    ("sim", "degrade", "quality"): [["--delta", "0.5", "--trials", "2", "--max-windows", "3"]],
    ("sim", "stragglers"): [["--ranks", "4", "--steps", "400", "--ssp-steps", "50"]],
    ("sim", "mmc"): [["--servers", "2", "--requests", "2000", "--seed", "1"]],
    ("sim", "autoscale"): [["--hours", "0.25", "--rate", "5", "--period", "1h",
                            "--window", "5min"]],
    ("sim", "serve"): [["--requests", "200", "--seed", "1"]],
    ("sim", "cluster"): [["workload-3@0.5", "--policy", "tiresias"],
                         ["workload-5@0.5", "--policy", "optimus", "--interval", "2min"]],
    ("sim", "cache"): [["--trace", "zipf:items=1000,accesses=5000", "--size", "1%,10%"],
                       ["--trace", "sequential:items=200,epochs=2", "--size", "10%",
                        "--tiers", "nvme,s3", "--prefetch", "4"]],
    ("storage", "io"): [[], ["-w", "ResNet-50", "--decode", "3ms", "--medium", "s3"]],
    ("storage", "starvation"): [[], ["--workers", "1,16", "--cores", "4", "--storage-bw",
                                     "100MB/s", "--prefetch", "0"]],
    ("storage", "dataset", "log"): [[CLICKS]],
    ("storage", "dataset", "show"): [[CLICKS], [CLICKS, "--version", "0", "--limit", "0"]],
    ("storage", "dataset", "diff"): [[CLICKS, "--from", "0"]],
    ("storage", "dataset", "quality"): [[CLICKS], [CLICKS, "--version", "0"]],
    ("storage", "tiers"): [[]],
    ("storage", "latency"): [[]],
    ("storage", "small-files"): [[], ["--medium", "hdfs", "--sizes", "100KB"]],
    ("storage", "checkpoint"): [["-w", "Llama-3-8B"],
                                ["-w", "DLRM-DCNv2", "--precision", "fp32", "--optimizer",
                                 "adagrad", "--changed-rows", "0.05", "--medium", "s3"]],
    ("features", "apply"): [[FEATURE_REPO, "--check"]],
    ("features", "historical"): [[FEATURE_REPO, "--entities",
                                  FEATURE_REPO + "/data/entities.parquet", "--features",
                                  "user_stats:ctr,user_derived:ctr_pct,user_profile:age"]],
    # materialize only with --dry-run: a real one would write online.db into src/ (the fuzz
    # cannot drop a flag from a base row); online only reads (an absent store reads empty).
    ("features", "materialize"): [[FEATURE_REPO, "--end", "2026-01-03T00:00:00", "--dry-run"]],
    ("features", "online"): [[FEATURE_REPO, "--entity", "user_id=1,2,99", "--features",
                              "user_stats:ctr,user_derived:ctr_pct,user_profile:age",
                              "--now", "2026-01-02T12:00:00"]],
    ("ops", "cost", "allocate"): [[], ["--split", "metric:requests", "--by", "model",
                                       "--capacity", "gpu=8,cpu=64,ram_gb=512", "--window",
                                       "24h", "--overhead", "$24", "--offer", "aws-p4d"]],
    ("ops", "cost", "cluster"): [[], ["--policy", "fifo", "--split", "uniform", "--keep-idle"]],
    ("ops", "cost", "serving"): [["--requests", "200"],
                                 ["--requests", "200", "--split", "metric:requests",
                                  "--by", "model", "--overhead", "$500"]],
    ("ops", "cost", "run"): [[], ["--device", "gpu", "--team", "vision"]],
    ("ops", "cost", "budget"): [[], ["--budget", "llm=$50000", "--day", "5"]],
    ("ops", "cost", "rightsize"): [[], ["--percentile", "99", "--gpu-step", "0.142857"]],
    ("ops", "cost", "commit"): [[], ["--no-spot", "--tier", "reserved-3y"]],
    ("ops", "experiment", "split"): [["--units", "1000"],
                                     ["--units", "500", "--weights", "a=20,b=30,c=50",
                                      "--salt-b", "other"]],
    ("ops", "experiment", "analyze"): [[AB_METRICS],
                                       [AB_METRICS, "--cuped", "--bootstrap", "50",
                                        "--correction", "bh"]],
    ("ops", "experiment", "power"): [["--mde", "0.1", "--std", "1"],
                                     ["--mde", "1%", "--cv", "2", "--users-per-day", "1e6",
                                      "--days", "14", "--layers", "2"]],
    ("ops", "experiment", "cuped"): [["--users", "2000", "--replicates", "5"],
                                     ["--in-experiment", "--users", "2000", "--replicates", "0"]],
    ("ops", "experiment", "peeking"): [["--sims", "2000", "--power-sims", "200"],
                                       ["--looks", "1,5", "--sims", "500", "--power-sims", "50",
                                        "--alpha", "0.1", "--tau-se", "1"]],
    ("ops", "experiment", "monitor"): [[AB_METRICS], [AB_METRICS, "--every", "500", "--tau", "0.5",
                                                      "--control", "treatment"]],
    ("ops", "experiment", "interleaving"): [["--users", "2000", "--reps", "20", "--gap", "0.5"]],
    ("ops", "platform", "oncall"): [["--models", "1,10,100"],
                                    ["--models", "10", "--simulate-weeks", "20", "--seed", "1",
                                     "--coupling", "0"]],
    ("ops", "platform", "payback"): [[], ["--models", "5,50", "--engineer-cost", "$180k"]],
    ("ops", "platform", "teams"): [[], ["--product-teams", "3", "--engineers-per-team", "2"]],
    ("ops", "diff"): [[DEV, "--against", "http://127.0.0.1:9"]],  # refused: drift, exit 3
    ("ops", "promote"): [[DEV, STAGING]],
    ("ops", "record"): [["--data", DEV, "--config", DEV]],
    ("ops", "debug", "timeline"): [[str(DEBUG_DATA / "train-logs"), "--out", DEBUG_TRACE]],
    ("ops", "debug", "stragglers"): [[str(DEBUG_DATA / "train-logs")]],
    ("ops", "debug", "gradients"): [[str(DEBUG_DATA / "train-logs")]],
    ("ops", "debug", "changepoints"): [[str(DEBUG_DATA / "latency.csv"), "--baseline", "40"]],
    ("ops", "debug", "drift"): [[str(DEBUG_DATA / "features-reference.csv"),
                                 str(DEBUG_DATA / "features-current.csv")]],
    ("ops", "debug", "staleness"): [[], ["--series", str(DEBUG_DATA / "decay.csv")]],
    ("ops", "debug", "demo"): [["--ranks", "3", "--steps", "30"]],
    ("ops", "registry", "show"): [["recsys", "--store", REGISTRY],
                                  ["recsys", "--version", "2", "--store", REGISTRY]],
    ("ops", "registry", "history"): [["recsys", "--store", REGISTRY]],
    ("ops", "registry", "resolve"): [["recsys", "--store", REGISTRY],
                                     ["recsys", "--unit", "user-1", "--store", REGISTRY]],
    ("ops", "registry", "demo"): [[]],
    ("ops", "canary", "judge"): [[CANARY_BASELINE, CANARY_SERIES],
                                 [CANARY_BASELINE, CANARY_SERIES, "--kayenta-only"]],
    ("ops", "canary", "sim"): [["--rate", "20"]],
    ("ops", "canary", "real"): [["--duration", "2s", "--interval", "0.5s", "--rate", "20"]],
    ("validate",): [["--quick", "--only", "comm", "--results", VALIDATE_RESULTS]],
    ("sweep",): [[str(Path(__file__).resolve().parents[1] / "examples" / "llm-pretraining.yaml"),
                  "--set", "training.mfu=0.3,0.4", "--out", SWEEP_OUT]],
}
