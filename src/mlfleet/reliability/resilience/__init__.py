"""Serving resilience primitives shared by the real server, the load generator and the
simulator: circuit breaker, bulkhead, retry budget and backoff, deadlines, fallback chain,
probes (docs/serving-resilience.md)."""
