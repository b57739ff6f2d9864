"""The health-check cycle's phase at a fault: observed from the client's records.

HAProxy probes each replica every ``inter``; a fault lands at a uniform point of that
cycle, so its detection time (:func:`~.prediction.detection_s`) spreads over one
``inter`` (0.5–1.0 s for a refused connection or a 503 with inter 0.5 s, fall 2). A run's
own phase is visible from the client's side: HAProxy sends the faulty replica requests
until it marks it DOWN, so the last request that reached it (its reply names it; a killed
replica's requests fail without a name) was sent just before the detection.

    detected_s = (last such request's send time) − fault time
    phase_s    = detected_s − detection at phase 0, clipped to [0, inter]

``detected_s`` is a lower bound of the real detection, short of it by the gap to the
next request the balancer would have sent there. For Poisson arrivals that gap has mean
1/λ, λ being the rate of requests the replica got during the fault (memoryless), so the
phase is read from ``detected_s + 1/λ̂``, λ̂ = hits / detected_s
(:func:`expected_gap_s`): on the kill runs of docs/serving-chaos.md, ~30 ms, about one
failure per kill that the raw reading left out of the prediction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from mlfleet.reliability.chaos.faults import FaultStep
from mlfleet.reliability.chaos.prediction import HealthCheck, detection_s
from mlfleet.reliability.chaos.recorder import ClientRecords

FloatArray = npt.NDArray[np.float64]
OBSERVABLE = ("kill", "drain", "stop")
"""Faults whose detection the records show (``slow`` is never detected)."""


def observed_detection_s(rec: ClientRecords, episode: Sequence[FaultStep], *,
                         end_s: float) -> float:
    """Seconds from the episode's fault to the last request HAProxy sent its replica
    before the episode's undo (or ``end_s``); nan when none was sent or the fault is
    not observable. For ``kill`` these are the requests that failed unnamed."""
    if episode[0].action not in OBSERVABLE:
        return math.nan
    sent = _hits(rec, episode, end_s)
    return float(sent.max() - episode[0].at_s) if sent.size else math.nan


def _hits(rec: ClientRecords, episode: Sequence[FaultStep], end_s: float) -> FloatArray:
    fault = episode[0]
    until_s = episode[1].at_s if len(episode) > 1 else end_s
    sent = rec.sent_s
    window = (sent >= fault.at_s) & (sent < until_s)
    if fault.action == "kill":
        hit = window & ~rec.ok & (rec.replica < 0)
    else:
        hit = window & (rec.replica == fault.replica)
    out: FloatArray = sent[hit]
    return out


def expected_gap_s(rec: ClientRecords, episode: Sequence[FaultStep], *, end_s: float) -> float:
    """Mean time from the last request the replica got to its detection: 1/λ̂, with λ̂
    its hits per second from the fault to the last hit (0 with fewer than two hits or
    an unobservable fault)."""
    if episode[0].action not in OBSERVABLE:
        return 0.0
    sent = _hits(rec, episode, end_s)
    span_s = float(sent.max() - episode[0].at_s) if sent.size else 0.0
    return span_s / sent.size if sent.size >= 2 and span_s > 0 else 0.0


def observed_phase_s(detected_s: float, action: str, check: HealthCheck, *,
                     redispatch: bool) -> float | None:
    """The probe phase that gives ``detected_s`` (None: not observed, a fault whose
    detection does not depend on it, or a ``stop``).

    A paused replica's reading is not used: once it holds requests, HAProxy's
    ``random(2)`` sends it only the requests whose two draws both land on it (its ring
    share², ~9 %), so its last hit precedes the detection by a few hundred ms, not by a
    steady gap (readings 2.18–2.44 s, below the 2.5 s minimum, in seven of nine runs,
    docs/serving-chaos.md); its prediction takes the expected phase instead."""
    if math.isnan(detected_s) or (action == "kill" and redispatch) or action == "stop":
        return None
    at_zero = detection_s(action, check, phase_s=0.0, redispatch=redispatch)
    return float(np.clip(detected_s - at_zero, 0.0, check.inter_s))


def step_phases(steps: Sequence[FaultStep], episodes: Sequence[Sequence[FaultStep]],
                phases: Sequence[float | None]) -> list[float | None]:
    """``phases`` (one per episode) laid out per step, for :func:`~.prediction.predict`."""
    by_fault = {ep[0]: ph for ep, ph in zip(episodes, phases, strict=True)}
    return [by_fault.get(step) for step in steps]
