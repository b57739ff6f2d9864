"""Liveness and readiness with a cold start, as one explicit state machine.

=============  ======  ======  ==========================================================
phase          live    ready   left by
=============  ======  ======  ==========================================================
``starting``   yes     no      ``loaded()`` → warming; ``fail()`` → failed
``warming``    yes     no      ``warmed()`` → ready; ``fail()`` → failed
``ready``      yes     yes*    ``drain()`` → draining; ``fail()`` → failed
``draining``   yes     no      (terminal until exit) ``fail()`` → failed
``failed``     no      no      (terminal: the orchestrator restarts the process)
=============  ======  ======  ==========================================================

\\* ready also needs every named readiness check (a dependency probe) to pass.
Kubernetes semantics (https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/):
a failing liveness probe restarts the container, a failing readiness probe only takes
it out of the load balancer. So a cold replica is live but not ready (restarting it
would only restart the load), and a draining one stops taking new requests while it
finishes those it has. The real server's ``/healthz`` and ``/readyz``
(``serving/server/app.py``) answer exactly this table; HAProxy health-checks
``/readyz``. Thread-safe.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mlfleet.errors import MlfleetError


class Phase(enum.Enum):
    STARTING = "starting"
    WARMING = "warming"
    READY = "ready"
    DRAINING = "draining"
    FAILED = "failed"


class ProbeTransitionError(MlfleetError):
    """A transition the table does not allow (a bug in the caller, not bad input)."""


_NEXT: dict[str, tuple[Phase, Phase]] = {
    "loaded": (Phase.STARTING, Phase.WARMING),
    "warmed": (Phase.WARMING, Phase.READY),
    "drain": (Phase.READY, Phase.DRAINING),
}


@dataclass(frozen=True, kw_only=True)
class ProbeResult:
    """One probe's answer: HTTP 200 when ``ok``, else 503 (readiness) or 500 (liveness)."""

    ok: bool
    reasons: tuple[str, ...]


class Probes:
    """The phase of one serving process and the answers of its two probes."""

    def __init__(self, checks: Mapping[str, Callable[[], bool]] | None = None) -> None:
        self.checks = dict(checks or {})
        self._phase = Phase.STARTING
        self._failure = ""
        self._lock = threading.Lock()

    @property
    def phase(self) -> Phase:
        with self._lock:
            return self._phase

    def loaded(self) -> None:
        """The model is in memory; warming up (first batches, compilation) starts."""
        self._step("loaded")

    def warmed(self) -> None:
        """Warm-up done: ready (if the checks pass)."""
        self._step("warmed")

    def drain(self) -> None:
        """Stop taking new requests (shutdown began)."""
        self._step("drain")

    def fail(self, reason: str) -> None:
        """A fatal fault (load failed, a worker died): not live, not ready."""
        with self._lock:
            self._phase, self._failure = Phase.FAILED, reason

    def liveness(self) -> ProbeResult:
        with self._lock:
            if self._phase is Phase.FAILED:
                return ProbeResult(ok=False, reasons=(f"failed: {self._failure}",))
            return ProbeResult(ok=True, reasons=())

    def readiness(self) -> ProbeResult:
        with self._lock:
            phase, failure = self._phase, self._failure
        reasons = [] if phase is Phase.READY else [
            f"failed: {failure}" if phase is Phase.FAILED else phase.value]
        reasons += [f"check {name} failing" for name, check in self.checks.items() if not check()]
        return ProbeResult(ok=not reasons, reasons=tuple(reasons))

    def _step(self, event: str) -> None:
        source, target = _NEXT[event]
        with self._lock:
            if self._phase is not source:
                raise ProbeTransitionError(
                    f"{event}() in phase {self._phase.value!r}: only from {source.value!r}")
            self._phase = target
