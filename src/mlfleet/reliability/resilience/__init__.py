"""Serving resilience primitives shared by the real server, the load generator and the
simulator (docs/serving-resilience-primitives.md). Each is pure state driven by an
injected clock (:mod:`.clock`), so tests and the discrete-event simulator drive time:

* :mod:`.breaker` — circuit breaker (closed / open / half-open; failure-rate and
  slow-call thresholds over a count or time window; recovery probes), resilience4j's.
* :mod:`.bulkhead` — bounded concurrency per pool with a bounded wait queue.
* :mod:`.retry_budget` — retries ≤ ratio × recent requests + a minimum (Finagle,
  Envoy), with how gRPC's retry throttling maps onto it.
* :mod:`.backoff` — exponential backoff with full jitter (AWS architecture blog).
* :mod:`.deadline` — absolute deadlines propagated as the time remaining.
* :mod:`.fallback` — the fallback chain (simpler model → cache → default).
* :mod:`.probes` — liveness and readiness with a cold start.
"""
