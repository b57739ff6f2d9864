"""Predicting published training runs' interruptions and effective training time.

* Llama 3 405B (Llama Team, "The Llama 3 Herd of Models", 2024, Sec. 3.3.4, Table 5): a
  54-day snapshot on 16,384 H100s (2,048 hosts) had 466 interruptions, 419 unexpected, and
  "> 90% effective training time". The per-cause catalog rates are fitted on this very table,
  so the per-cause prediction is a fit (it must return the counts); the validation is the
  total predicted from an independent fleet rate (Meta RSC-1, Kokolis et al., HPCA 2025),
  and the two per-cause rates with an independent source (GPU: Titan; SSD: Backblaze).
* OPT-175B (metaseq ``projects/OPT/chronicles``): 992 A100s (124 hosts), "~2 machines go down
  every day", ~90 restarts over about two months, and ~33 days of compute stretched over
  the run: the order of magnitude, and the restart downtime Daly's model needs to explain it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.catalog.types import FailureCause, Workload
from mlfleet.reliability.checkpoint_interval import daly_goodput, daly_interval_s
from mlfleet.reliability.checkpoint_policy import sync_policy
from mlfleet.reliability.failures import (
    DAY_S,
    cause_rate,
    fleet_rate,
    poisson_interval,
)
from mlfleet.reliability.job import (
    DEFAULT_DETECTION_S,
    DEFAULT_RESTART_S,
    JobShape,
    checkpoint_setting,
)

LLAMA3_GPUS = 16384
LLAMA3_GPUS_PER_NODE = 8
LLAMA3_DAYS = 54.0
LLAMA3_INTERRUPTIONS = 466
LLAMA3_UNEXPECTED = 419
LLAMA3_EFFECTIVE_MIN = 0.90
LLAMA3_BY_CAUSE: dict[str, int] = {
    "gpu-faulty": 148, "gpu-hbm3": 72, "software-bug": 54, "network-switch-cable": 35,
    "host-maintenance": 32, "gpu-sram": 19, "gpu-system-processor": 17, "host-nic": 7,
    "nccl-watchdog": 7, "silent-data-corruption": 6, "gpu-thermal": 6, "host-ssd": 3,
    "host-psu": 3, "host-other": 8, "dependency": 2}
"""Table 5's counts (chassis, IO board, CPU and system memory, 2 each, as host-other)."""
LLAMA3_STORAGE_BW_BYTES_PER_S = 2e12
"""Tectonic's sustained throughput for Llama 3 checkpoints, 2 TB/s (paper, Sec. 3.3.1)."""
INDEPENDENT_FLEET = "fleet-meta-rsc1"

OPT_NODES = 124
OPT_GPUS_PER_NODE = 8
OPT_DAYS = 60.0
"""About two months of the run-12 lineage (late October 2021 to 6 January 2022)."""
OPT_MACHINES_LOST_PER_DAY = 2.0
OPT_RESTARTS = 90
OPT_COMPUTE_DAYS = 33.0
"""'roughly ~33 days of continuous training on 1024 80GB A100s' (final update)."""
OPT_CKPT_BYTES = 1.6e12
"""'1.6TB of a single model checkpoint (992 files, each ~1.7GB)' (27% update)."""


@dataclass(frozen=True, kw_only=True)
class CountPrediction:
    """A predicted interruption count against the published one."""

    label: str
    published: int
    predicted: float
    low: int
    high: int
    """95% Poisson interval of the count, given the predicted mean."""
    basis: str
    """'fit' (rates fitted on this run) or 'independent' (rates from another fleet)."""
    source: str

    @property
    def error(self) -> float:
        """Predicted / published - 1."""
        return self.predicted / self.published - 1.0

    @property
    def published_in_interval(self) -> bool:
        return self.low <= self.published <= self.high


def _count(label: str, published: int, rate_per_gpu_s: float, basis: str, source: str,
           *, gpus: int, days: float) -> CountPrediction:
    mean = rate_per_gpu_s * gpus * days * DAY_S
    low, high = poisson_interval(mean)
    return CountPrediction(label=label, published=published, predicted=mean, low=low, high=high,
                           basis=basis, source=source)


def llama3_by_cause(*, independent: bool = False) -> tuple[CountPrediction, ...]:
    """Per cause: the catalog's rate (a fit), or the independent rate where one exists."""
    out = []
    for name, published in LLAMA3_BY_CAUSE.items():
        rate = cause_rate(FailureCause.from_name(name), gpus_per_node=LLAMA3_GPUS_PER_NODE,
                          independent=independent)
        if rate is not None:
            out.append(_count(name, published, rate.rate_per_gpu_s,
                              "independent" if independent else "fit", rate.source,
                              gpus=LLAMA3_GPUS, days=LLAMA3_DAYS))
    return tuple(out)


def llama3_total() -> tuple[CountPrediction, CountPrediction]:
    """Unexpected interruptions: (sum of the fitted causes, independent RSC-1 fleet rate)."""
    fitted = llama3_by_cause()
    fit_rate = sum(c.predicted for c in fitted) / (LLAMA3_GPUS * LLAMA3_DAYS * DAY_S)
    fleet = fleet_rate(INDEPENDENT_FLEET, gpus_per_node=LLAMA3_GPUS_PER_NODE)
    return (_count("all causes", LLAMA3_UNEXPECTED, fit_rate, "fit", fitted[0].source,
                   gpus=LLAMA3_GPUS, days=LLAMA3_DAYS),
            _count("all causes", LLAMA3_UNEXPECTED, fleet.rate_per_gpu_s, "independent",
                   fleet.source, gpus=LLAMA3_GPUS, days=LLAMA3_DAYS))


@dataclass(frozen=True, kw_only=True)
class GoodputPrediction:
    """Effective training time predicted by Daly's model for a run."""

    mtbf_s: float
    ckpt_bytes: float
    ckpt_s: float
    interval_s: float
    failure_cost_s: float
    goodput: float
    published_min: float


def llama3_goodput(*, mtbf_s: float | None = None, detection_s: float = DEFAULT_DETECTION_S,
                   restart_s: float = DEFAULT_RESTART_S) -> GoodputPrediction:
    """Daly goodput of Llama 3 405B with synchronous checkpoints to Tectonic at 2 TB/s.

    The checkpoint is the model's bf16 weights, fp32 master weights and Adam moments
    (:func:`mlfleet.storage.checkpoint.size.checkpoint_bytes`); ``mtbf_s`` defaults to the
    published one (54 days / 419 unexpected interruptions).
    """
    from mlfleet.storage.checkpoint.size import checkpoint_bytes

    size = checkpoint_bytes(Workload.from_name("Llama-3-405B")).total_bytes
    mtbf = mtbf_s or LLAMA3_DAYS * DAY_S / LLAMA3_UNEXPECTED
    shape = JobShape(gpus=LLAMA3_GPUS, gpus_per_node=LLAMA3_GPUS_PER_NODE,
                     node_net_bw_bytes_per_s=400e9)
    setting = checkpoint_setting(shape, ckpt_bytes=size,
                                 write_bw_bytes_per_s=LLAMA3_STORAGE_BW_BYTES_PER_S,
                                 mtbf_s=mtbf, detection_s=detection_s, restart_s=restart_s)
    result = sync_policy(setting)
    return GoodputPrediction(mtbf_s=mtbf, ckpt_bytes=size, ckpt_s=result.stall_s,
                             interval_s=result.interval_s, failure_cost_s=result.failure_cost_s,
                             goodput=result.goodput, published_min=LLAMA3_EFFECTIVE_MIN)


@dataclass(frozen=True, kw_only=True)
class OptPrediction:
    """OPT-175B: machines lost per day predicted vs logged, and the restart time it implies."""

    predicted_per_day: dict[str, float]
    """Predicted job-interrupting failures per day, by the rate used."""
    published_per_day: float
    published_restarts: int
    effective: float
    """Logged compute days / elapsed days."""
    implied_failure_cost_s: float
    """Downtime per failure that makes Daly's goodput equal ``effective``."""

    def ratio(self, basis: str) -> float:
        return self.predicted_per_day[basis] / self.published_per_day


def opt175b() -> OptPrediction:
    """Order of magnitude of OPT-175B's failures, and what its log leaves out."""
    gpus = OPT_NODES * OPT_GPUS_PER_NODE
    fleet = fleet_rate(INDEPENDENT_FLEET, gpus_per_node=OPT_GPUS_PER_NODE).rate_per_gpu_s
    fitted = sum(c.predicted for c in llama3_by_cause()) / (LLAMA3_GPUS * LLAMA3_DAYS * DAY_S)
    per_day = {"independent (RSC-1)": fleet * gpus * DAY_S, "Llama 3 fit": fitted * gpus * DAY_S}
    mtbf = DAY_S / OPT_MACHINES_LOST_PER_DAY
    effective = OPT_COMPUTE_DAYS / OPT_DAYS
    return OptPrediction(predicted_per_day=per_day, published_per_day=OPT_MACHINES_LOST_PER_DAY,
                         published_restarts=OPT_RESTARTS, effective=effective,
                         implied_failure_cost_s=implied_failure_cost_s(
                             goodput=effective, mtbf_s=mtbf, ckpt_s=_opt_ckpt_s()))


def _opt_ckpt_s() -> float:
    """1.6 TB to blob storage at 90 MB/s per connection, one connection per GPU (our
    assumption; the log gives no write time)."""
    from mlfleet.catalog.types import StorageMedium

    blob = StorageMedium.from_name("object-storage").write_bw_bytes_per_s
    return OPT_CKPT_BYTES / (blob * OPT_NODES * OPT_GPUS_PER_NODE)


def implied_failure_cost_s(*, goodput: float, mtbf_s: float, ckpt_s: float) -> float:
    """The per-failure cost R at which Daly's goodput (at its optimal interval) equals
    ``goodput``: bisection, since goodput falls monotonically as R grows."""
    tau = daly_interval_s(ckpt_s=ckpt_s, mtbf_s=mtbf_s)
    low, high = 0.0, 100.0 * mtbf_s
    if daly_goodput(interval_s=tau, ckpt_s=ckpt_s, restart_s=low, mtbf_s=mtbf_s) < goodput:
        return 0.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if daly_goodput(interval_s=tau, ckpt_s=ckpt_s, restart_s=mid, mtbf_s=mtbf_s) > goodput:
            low = mid
        else:
            high = mid
    return (low + high) / 2.0

