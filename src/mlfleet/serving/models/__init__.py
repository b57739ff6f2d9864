"""Closed-form serving models (the "model" fidelity of chapter 7, Inference at Scale).

One module per concept:

* :mod:`~mlfleet.serving.models.llm_step` — prefill / decode / mixed iteration time of
  an LLM replica sharded over tp × pp GPUs (roofline + per-layer TP AllReduce + PP
  bubble + fixed per-step overhead, calibratable from measurements);
* :mod:`~mlfleet.serving.models.kv_cache` — KV bytes per token, capacity, paged blocks;
* :mod:`~mlfleet.serving.models.speculative` — speculative decoding speed-up;
* :mod:`~mlfleet.serving.models.embedding` — sharded embedding-lookup latency (RecSys);
* :mod:`~mlfleet.serving.models.queueing` — M/M/c (Erlang B/C), waiting and response
  percentiles, capacity headroom;
* :mod:`~mlfleet.serving.models.tables` — the chapter's model-specific tables,
  computed from the catalog;
* :mod:`~mlfleet.serving.models.capacity` — replicas and batching for an SLO
  (``plan_serving``, used by ``mlfleet plan`` and ``mlfleet serving replicas``).

Every formula is a pure function of explicit arguments, vectorised over numpy arrays,
in SI units. Bad input raises :class:`~mlfleet.errors.ServingInputError`.
"""
