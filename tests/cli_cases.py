"""Small, fast, valid arguments for every command that has ``--json``.

``tests/test_json_strict.py`` runs each row with ``--json``; the CLI fuzz starts half of its
argument lists from one of them, so that it reaches past the first check of each command.
"""

from __future__ import annotations

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
# Per command, one or more argument lists; several rows exercise several payload shapes.
CASES: dict[tuple[str, ...], list[list[str]]] = {
    ("catalog", "list"): [[]],
    ("catalog", "show"): [["H100"]],
    ("comm", "allreduce"): [["--cluster", "DGX-H100", "--size", "64MB"]],
    ("comm", "bucket"): [["--cluster", "DGX-H100", "--backward-time", "100ms",
                          "--workload", "Llama-3-8B"]],
    ("comm", "crossover"): [["--cluster", "DGX-H100"]],
    ("comm", "patterns"): [[]],
    ("comm", "topology"): [["--cluster", "DGX-H100"]],
    ("comm", "zero"): [["--workload", "Llama-3-8B", "--gpus", "8"]],
    ("infra", "accelerators"): [[], ["-p", "fp8", "-a", "H100", "-a", "TPU-v5p"]],
    ("infra", "power", "bandwidth"): [["-a", "A100"]],
    ("infra", "power", "cap"): [["-a", "H100", "--cap", "0.7"],
                                ["-a", "H100", "--cap", "0.9", "--load", "0.5"]],
    ("infra", "power", "facility"): [["--cluster", "DGX-H100"],
                                     ["--gpus", "72", "-a", "B200", "--cooling", "liquid"]],
    ("infra", "power", "nextgen"): [["--from", "H100", "--to", "B200", "--facility-mw", "2"]],
    ("infra", "isolation"): [[], ["--job", "a:intensity=1,busy=0.8", "--job",
                                   "b:intensity=1000,busy=0.9,profile=3g.40gb"]],
    ("infra", "probe"): [["--rounds", "1"]],
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
    ("sim", "stragglers"): [["--ranks", "4", "--steps", "400", "--ssp-steps", "50"]],
    ("sim", "mmc"): [["--servers", "2", "--requests", "2000", "--seed", "1"]],
    ("sim", "autoscale"): [["--hours", "0.25", "--rate", "5", "--period", "1h",
                            "--window", "5min"]],
    ("sim", "serve"): [["--requests", "200", "--seed", "1"]],
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
}
