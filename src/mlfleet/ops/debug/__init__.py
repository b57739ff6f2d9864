"""Debugging at scale: per-rank timelines, stragglers, gradient anomalies, latency change points, feature drift, staleness."""
