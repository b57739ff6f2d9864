"""Replicas: what serves requests once the load balancer has routed them (one module each).

* :mod:`.request_level` — c servers, one FIFO queue, one request per server (M/M/c);
* :mod:`.static` — fixed-size batches (wait for N requests);
* :mod:`.dynamic` — Triton-style dynamic batching (max batch, max queue delay,
  preferred sizes);
* :mod:`.continuous` — Orca iteration-level batching with KV reserved per request;
* :mod:`.paged` — vLLM-style paged KV blocks with preemption by recompute;
* :mod:`.chunked` — Sarathi-Serve chunked prefill under a per-iteration token budget.

:mod:`.base` holds the contract between a replica and the engine; :mod:`.iteration`
the iteration-level machinery the three LLM schedulers share (coalesced decode runs).
"""
