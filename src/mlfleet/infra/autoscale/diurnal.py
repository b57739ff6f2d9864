"""A diurnal load: a daily sinusoid times a seeded noise, one noise factor per bin.

λ(t) = λ̄ · (1 + A · cos(2π(t − t_peak)/T)) · ε_k for t in bin k, with ε_k log-normal of
mean 1 (exp(σ z − σ²/2), z standard normal, one per ``bin_s``), drawn once for every
bin from ``start_s`` (a day before the run, for a forecaster's history) to the end.
Arrivals are a non-homogeneous Poisson process drawn by thinning (Lewis & Shedler 1979,
"Simulation of nonhomogeneous Poisson processes by thinning"); the history before 0 is
kept as per-bin counts only (Poisson with the bin's exact mean), which is all a
forecaster reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import finite, fraction, non_negative, positive
from mlfleet.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DAY_S = 86400.0


@dataclass(frozen=True, kw_only=True)
class DiurnalLoad:
    """The shape of the day (no randomness): mean, swing, period, peak time, noise size."""

    mean_rate_per_s: float
    amplitude: float = 0.8
    """Relative swing in [0, 1): peak λ̄(1 + A), trough λ̄(1 − A) before noise."""
    period_s: float = DAY_S
    peak_at_s: float = 14 * 3600.0
    """Time of day of the peak (14:00)."""
    noise_sigma: float = 0.1
    """σ of the log-normal factor of each bin (0: a pure sinusoid)."""
    bin_s: float = 300.0

    def __post_init__(self) -> None:
        positive("mean_rate_per_s", self.mean_rate_per_s)
        fraction("amplitude", self.amplitude, open_high=True)
        positive("period_s", self.period_s)
        finite("peak_at_s", self.peak_at_s)
        non_negative("noise_sigma", self.noise_sigma)
        positive("bin_s", self.bin_s)

    def base_rate_per_s(self, t_s: npt.ArrayLike) -> FloatArray:
        """The sinusoid alone at each time."""
        phase = 2.0 * np.pi * (np.asarray(t_s, dtype=np.float64) - self.peak_at_s) / self.period_s
        return np.asarray(self.mean_rate_per_s * (1.0 + self.amplitude * np.cos(phase)))

    def base_integral(self, a_s: npt.ArrayLike, b_s: npt.ArrayLike) -> FloatArray:
        """∫ base rate over [a, b] (expected arrivals without noise), in closed form."""
        a_s, b_s = np.asarray(a_s, dtype=np.float64), np.asarray(b_s, dtype=np.float64)
        w = 2.0 * np.pi / self.period_s
        swing = self.amplitude / w * (np.sin(w * (b_s - self.peak_at_s))
                                      - np.sin(w * (a_s - self.peak_at_s)))
        return np.asarray(self.mean_rate_per_s * (b_s - a_s + swing))


@dataclass(frozen=True, kw_only=True)
class LoadRealisation:
    """One seeded day (or more): the noise of every bin, today's arrivals, the history."""

    load: DiurnalLoad
    start_s: float
    """Start of the first bin (``-history_s``)."""
    noise: FloatArray
    """Noise factor of each bin from ``start_s``."""
    arrival_s: FloatArray
    """Arrival times in [0, end_s)."""
    history_counts: IntArray
    """Arrivals in each bin of [start_s, 0)."""

    def rate_per_s(self, t_s: npt.ArrayLike) -> FloatArray:
        """λ(t), noise included."""
        t = np.asarray(t_s, dtype=np.float64)
        k = np.clip(((t - self.start_s) // self.load.bin_s).astype(np.int64), 0,
                    self.noise.size - 1)
        return np.asarray(self.load.base_rate_per_s(t) * self.noise[k])

    def bin_rates_per_s(self) -> FloatArray:
        """The mean rate of every bin from ``start_s`` (exact: the integral over the bin)."""
        a = self.start_s + self.load.bin_s * np.arange(self.noise.size)
        return np.asarray(self.load.base_integral(a, a + self.load.bin_s)
                          * self.noise / self.load.bin_s)

    def observed_counts(self, end_s: float) -> IntArray:
        """Arrivals per bin from ``start_s`` to ``end_s``: history, then today's arrivals."""
        bins_today = math.ceil(end_s / self.load.bin_s - 1e-9)
        today, _ = np.histogram(self.arrival_s, bins=bins_today,
                                range=(0.0, bins_today * self.load.bin_s))
        return np.concatenate([self.history_counts, today.astype(np.int64)])


def realise(load: DiurnalLoad, *, end_s: float, history_s: float,
            rng: np.random.Generator) -> LoadRealisation:
    """Draw the noise of every bin of [-history_s, end_s), the history's counts and the
    arrivals of [0, end_s). ``history_s`` must be a whole number of bins."""
    positive("end_s", end_s)
    non_negative("history_s", history_s)
    past_bins = round(history_s / load.bin_s)
    if not math.isclose(past_bins * load.bin_s, history_s):
        raise InputError(f"history_s(={history_s:g}) must be a multiple of bin_s(={load.bin_s:g})")
    r_noise, r_history, r_arrivals = rng.spawn(3)
    bins = past_bins + math.ceil(end_s / load.bin_s - 1e-9)
    sigma = load.noise_sigma
    noise = np.exp(sigma * r_noise.standard_normal(bins) - sigma * sigma / 2.0)
    start = -past_bins * load.bin_s
    partial = LoadRealisation(load=load, start_s=start, noise=noise,
                              arrival_s=np.empty(0), history_counts=np.empty(0, np.int64))
    history = r_history.poisson(partial.bin_rates_per_s()[:past_bins] * load.bin_s)
    return LoadRealisation(load=load, start_s=start, noise=noise,
                           arrival_s=_thinned(partial, end_s, r_arrivals),
                           history_counts=history.astype(np.int64))


def _thinned(load: LoadRealisation, end_s: float, rng: np.random.Generator) -> FloatArray:
    """Arrivals in [0, end_s) at rate ``load.rate_per_s`` by thinning, in blocks."""
    peak = float(load.noise.max()) * load.load.mean_rate_per_s * (1.0 + load.load.amplitude)
    kept: list[FloatArray] = []
    t = 0.0
    block = max(1024, min(1 << 20, int(peak * end_s / 8)))
    while t < end_s:
        cand = t + np.cumsum(rng.exponential(1.0 / peak, block))
        cand = cand[cand < end_s]
        kept.append(cand[rng.random(cand.size) * peak < load.rate_per_s(cand)])
        t = float(cand[-1]) if cand.size == block else end_s
    return np.concatenate(kept)
