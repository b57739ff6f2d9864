"""Network topologies as graphs: builders, bisection, hops, ECMP routing of collectives,
cost in switches and cables, and the feed back into :mod:`mlfleet.comm`.

Importing the package is light (closed forms only); the graph modules import networkx.
"""

from __future__ import annotations

from mlfleet.infra.topology.summary import FabricSummary, summary_for, summary_for_cluster

__all__ = ["FabricSummary", "summary_for", "summary_for_cluster"]
