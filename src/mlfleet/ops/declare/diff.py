"""``ops diff``: a scenario's declared deployment against every running replica.

Each replica's reported configuration is compared with the declared fields
(:func:`~mlfleet.ops.declare.drift.find_drift`); the number of replicas checked is
compared with ``deployment.replicas``. The fetch is a parameter, so the comparison runs
against real servers in the CLI and against anything that returns a configuration
mapping elsewhere. A replica that cannot be reached is drift too (the declared state says
it runs); a URL that answers as something else is bad input, raised by the fetch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlfleet.errors import InputError
from mlfleet.ops.declare.drift import FieldDrift, find_drift
from mlfleet.ops.declare.mapping import declared_values, running_values
from mlfleet.ops.declare.server_info import ServerUnreachable
from mlfleet.scenario import Scenario
from mlfleet.scenario.deployment_spec import DeploymentSpec

FetchConfig = Callable[[str], Mapping[str, Any]]
"""URL -> the server's configuration mapping (``/v1/info``'s ``config``)."""


@dataclass(frozen=True, kw_only=True)
class ReplicaDrift:
    """One replica's drifted fields (empty: in sync)."""

    url: str
    drift: tuple[FieldDrift, ...]
    unreachable: str | None = None
    """``cannot reach URL/v1/info: Connection refused`` (or timed out ...), else None."""

    def lines(self, *, prefix: str) -> list[str]:
        """``prefix`` + one line per drifted field, or the one line saying it is unreachable."""
        if self.unreachable is not None:
            return [self.unreachable]
        return [prefix + d.describe() for d in self.drift]


@dataclass(frozen=True, kw_only=True)
class DriftReport:
    """The declared deployment against the replicas checked."""

    declared: dict[str, Any]
    """The declared fields, path -> value (``replicas`` included)."""
    replicas: tuple[ReplicaDrift, ...]
    replicas_drift: FieldDrift | None
    """``replicas: declared 2, running 1`` when the count differs, else None."""

    @property
    def in_sync(self) -> bool:
        """No field of any replica and not the replica count drifted."""
        return self.replicas_drift is None and not any(
            r.drift or r.unreachable for r in self.replicas)

    def lines(self) -> list[str]:
        """One line per drifted field (prefixed with the URL when several replicas)."""
        out = [] if self.replicas_drift is None else [self.replicas_drift.describe()]
        for replica in self.replicas:
            prefix = f"{replica.url}: " if len(self.replicas) > 1 else ""
            out += replica.lines(prefix=prefix)
        return out


def _replica(url: str, declared: Mapping[str, Any], fetch: FetchConfig) -> ReplicaDrift:
    try:
        config = fetch(url)
    except ServerUnreachable as exc:
        return ReplicaDrift(url=url, drift=(), unreachable=str(exc))
    return ReplicaDrift(url=url, drift=find_drift(declared, running_values(config)))


def deployment_of(scenario: Scenario, source: str) -> DeploymentSpec:
    """The scenario's ``deployment:`` section; :class:`InputError` when it has none."""
    if scenario.deployment is None:
        raise InputError(f"{source} declares no deployment: section; add one (fields in "
                         "docs/scenario.md) to compare it with a running server")
    return scenario.deployment


def check_drift(scenario: Scenario, urls: Sequence[str], *, fetch: FetchConfig,
                source: str = "scenario") -> DriftReport:
    """Compare ``scenario.deployment`` with every server in ``urls`` (one per replica)."""
    spec = deployment_of(scenario, source)
    if not urls:
        raise InputError("--against: give the URL of at least one running mlfleet serve")
    repeated = sorted({u for u in urls if list(urls).count(u) > 1})
    if repeated:
        raise InputError(f"--against(={repeated[0]!r}) is given twice; give each replica once")
    declared = declared_values(spec)
    replicas = tuple(_replica(url, declared, fetch) for url in urls)
    count = None if len(urls) == spec.replicas else FieldDrift(
        field="replicas", declared=spec.replicas, running=len(urls))
    return DriftReport(declared={"replicas": spec.replicas, **declared}, replicas=replicas,
                       replicas_drift=count)
