"""A profiled application: measured step times by placement and statistical efficiency.

Semantics of the Pollux artifact's application model (Qiao et al., OSDI'21, Sec. 5.3,
"Simulator construction"; the artifact's ``simulator/applications.py``), re-implemented:

- **Step time.** ``placements.csv`` gives step and gradient-sync time per placement (GPUs
  per node as digits, ``22`` = two nodes with two GPUs) and local batch size; a placement
  is looked up in the canonical order the artifact's allocations produce (GPUs per node
  in decreasing order, then the lexicographically smallest rotation) and interpolated
  linearly in local batch size. A placement not measured (more than 4 nodes) is
  interpolated piecewise-linearly over (nodes, replicas, local batch) on a Delaunay
  triangulation of the measured points (placement means plus ``scalability.csv``).
- **Statistical efficiency.** ``validation-<B>.csv`` gives, per epoch, the cumulative
  progress, iterations, and the gradient's squared norm and variance at total batch B;
  other batch sizes interpolate linearly between the two bracketing B. Progress is
  counted in iterations at the smallest profiled batch (``init_batch_size``).
"""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from mlfleet.errors import InputError
from mlfleet.infra.scheduling.pollux_data import DATA_DIR, read_numeric_csv

if TYPE_CHECKING:
    from scipy.interpolate import LinearNDInterpolator

FloatArray = npt.NDArray[np.float64]

MAX_EPOCHS = {"bert": 2, "cifar10": 100, "ncf": 10, "imagenet": 90, "deepspeech2": 80,
              "yolov3": 50}
"""Epochs each application trains for (the artifact's application table)."""
MAX_LOCAL_BSZ = {"yolov3": 8}
"""Per-GPU batch caps that differ from the largest profiled one (the artifact's table)."""
NODES_CAP = 16
"""The unmeasured-placement interpolation clamps the node count here (as the artifact)."""


class ProfileRangeError(InputError):
    """A placement or batch size outside what an application's profiles cover."""


def canonical_counts(counts: tuple[int, ...]) -> tuple[int, ...]:
    """GPUs per node as the artifact looks them up: decreasing, then smallest rotation."""
    ordered = tuple(sorted((c for c in counts if c), reverse=True))
    return min(ordered[i:] + ordered[:i] for i in range(len(ordered)))


class ApplicationProfile:
    """One application's measured profiles; lookups are cached (pure functions of args)."""

    def __init__(self, name: str) -> None:
        folder = DATA_DIR / "traces" / name
        self.name = name
        self._batch_sizes = sorted(int(p.stem.split("-")[-1])
                                   for p in folder.glob("validation-*.csv"))
        self._validation = {b: read_numeric_csv(folder / f"validation-{b}.csv")
                            for b in self._batch_sizes}
        table = read_numeric_csv(folder / "placements.csv")
        self._measured: dict[tuple[int, ...], tuple[FloatArray, FloatArray, FloatArray]] = {}
        for pid in np.unique(table["placement"]):
            rows = table["placement"] == pid
            order = np.argsort(table["local_bsz"][rows])
            key = tuple(int(d) for d in str(int(pid)))
            self._measured[key] = (table["local_bsz"][rows][order],
                                   table["step_time"][rows][order],
                                   table["sync_time"][rows][order])
        self._placement_table, self._scalability = table, read_numeric_csv(
            folder / "scalability.csv")
        self._nd: LinearNDInterpolator | None = None
        self.init_batch_size = self._batch_sizes[0]
        """Smallest profiled total batch: progress is counted in its iterations."""
        self.max_batch_size = self._batch_sizes[-1]
        self.min_local_bsz = int(table["local_bsz"].min())
        self.max_local_bsz = MAX_LOCAL_BSZ.get(name, int(table["local_bsz"].max()))
        self.max_epochs = MAX_EPOCHS.get(name, min(len(v["progress"])
                                                   for v in self._validation.values()))
        self.step_and_sync_s = cache(self._step_and_sync_s)
        self.grad_stats = cache(self._grad_stats)
        self.iterations_after = cache(self._iterations_after)
        self.progress_after = cache(self._progress_after)

    # ------------------------------------------------------------------ throughput

    def _step_and_sync_s(self, counts: tuple[int, ...], local_bsz: int) -> tuple[float, float]:
        """(step time, sync time) in seconds of one step at ``local_bsz`` per GPU."""
        key = canonical_counts(counts)
        if key in self._measured:
            bsz, step, sync = self._measured[key]
            return float(np.interp(local_bsz, bsz, step)), float(np.interp(local_bsz, bsz, sync))
        point = [min(len(key), NODES_CAP), sum(key), local_bsz]
        step_s, sync_s = self._interpolator()(point)[0]
        if not math.isfinite(step_s + sync_s):
            raise ProfileRangeError(f"{self.name}: no profile near placement {key} (GPUs per "
                                    f"node) at local batch {local_bsz}; the profiles cover "
                                    "up to 16 nodes of 4 GPUs")
        return float(step_s), float(sync_s)

    def _interpolator(self) -> LinearNDInterpolator:
        if self._nd is None:
            from scipy.interpolate import LinearNDInterpolator  # 0.3 s: only when needed

            t, s = self._placement_table, self._scalability
            nodes = np.array([len(str(int(p))) for p in t["placement"]], dtype=np.float64)
            replicas = np.array([sum(map(int, str(int(p)))) for p in t["placement"]],
                                dtype=np.float64)
            keys = np.stack([nodes, replicas, t["local_bsz"]], axis=1)
            uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
            means = np.stack([np.bincount(inverse, weights=t[c]) / np.bincount(inverse)
                              for c in ("step_time", "sync_time")], axis=1)
            points = np.concatenate([uniq, np.stack(
                [s["num_nodes"], s["num_replicas"], s["local_bsz"]], axis=1)])
            values = np.concatenate([means, np.stack([s["step_time"], s["sync_time"]], axis=1)])
            self._nd = LinearNDInterpolator(points, values)
        return self._nd

    def batch_plan(self, replicas: int, batch_size: int) -> tuple[int, int]:
        """(per-GPU atomic batch, gradient-accumulation steps) for a fixed total batch
        on ``replicas`` GPUs (the artifact's rule: accumulate when the local batch
        exceeds the per-GPU cap, and always on one GPU above the initial batch)."""
        local = math.ceil(batch_size / replicas - 1e-8)
        accum = math.ceil(local / self.max_local_bsz - 1e-8) - 1
        if replicas == 1 and batch_size > self.init_batch_size:
            accum = max(1, accum)
        atomic = math.ceil(local / (accum + 1) - 1e-8)
        return min(atomic, int(self.max_batch_size / (replicas * (accum + 1)))), accum

    # ------------------------------------------------------------------ efficiency

    def _bracket(self, batch_size: float) -> tuple[int, int]:
        lower = max((b for b in self._batch_sizes if b <= batch_size), default=None)
        upper = min((b for b in self._batch_sizes if b >= batch_size), default=None)
        if lower is None or upper is None:
            raise ProfileRangeError(f"{self.name}: batch {batch_size} outside the profiled "
                                    f"{self._batch_sizes[0]}..{self._batch_sizes[-1]}")
        return lower, upper

    def _between(self, column: str, batch_size: float, epoch: int) -> float:
        lower, upper = self._bracket(batch_size)
        lo = float(self._validation[lower][column][epoch])
        if lower == upper:
            return lo
        hi = float(self._validation[upper][column][epoch])
        return ((batch_size - lower) * hi + (upper - batch_size) * lo) / (upper - lower)

    def _grad_stats(self, batch_size: float, epoch: int) -> tuple[float, float]:
        """(gradient squared norm, gradient variance) during ``epoch`` at ``batch_size``."""
        return (self._between("grad_sqr", batch_size, epoch),
                self._between("grad_var", batch_size, epoch))

    def _iterations_after(self, batch_size: float, epoch: int) -> float:
        """Iterations at ``batch_size`` to finish ``epoch`` (0-based) epochs' worth."""
        return self._between("iteration", batch_size, epoch)

    def _progress_after(self, epoch: int) -> float:
        """Progress (iterations at the initial batch) at the end of ``epoch`` epochs."""
        if epoch == 0:
            return 0.0
        return min(float(v["progress"][epoch - 1]) for v in self._validation.values())

    @property
    def completion_epoch(self) -> int:
        """The last epoch (0-based) a job trains; it finishes when it ends."""
        return self.max_epochs - 1

    @property
    def total_progress(self) -> float:
        """Progress at completion."""
        return self.progress_after(self.max_epochs)


def statistical_gain(grad_sqr: float, grad_var: float, scale: float) -> float:
    """Progress per step at ``scale`` times the initial batch, relative to one initial
    step: (σ² + |g|²) / (σ²/scale + |g|²) (Pollux, OSDI'21, Sec. 3.1, from McCandlish et
    al.'s gradient noise scale)."""
    return (grad_var + grad_sqr) / (grad_var / scale + grad_sqr)


@cache
def profile(name: str) -> ApplicationProfile:
    """The bundled profile of application ``name`` (loaded once per process)."""
    return ApplicationProfile(name)


APPLICATIONS = tuple(sorted(MAX_EPOCHS))
"""Profiled applications bundled."""
