"""The serving simulator: a discrete-event engine for request- and iteration-level serving.

* :mod:`.engine` — :class:`~.engine.Engine`: arrivals, admission, load balancing,
  replicas, failures and deployment hooks, a client of the kernel :mod:`mlfleet.sim`;
* :mod:`.arrivals` — Poisson, gamma, diurnal and trace-replay traffic, request sizes;
* :mod:`.replicas` — request-level (M/M/c), static, dynamic, continuous (Orca), paged
  (vLLM) and chunked-prefill (Sarathi-Serve) replicas;
* :mod:`.host` — what a replica may use of the engine; :mod:`.columns` — the
  per-request state they share; :mod:`.traffic` — splits and mirrors;
* :mod:`.steptime` — the injectable iteration / batch time models, meeting
  :mod:`.step_contract`; :mod:`.decode_run` the closed form that advances a decode
  batch k iterations in one event;
* :mod:`.results` — per-request records and metrics; :mod:`.mmc` — M/M/c vs Erlang C;
* :mod:`.reference` — a naive iteration-by-iteration simulator, the oracle of the tests;
* :mod:`.fleet` and :mod:`.cli` — ``mlfleet sim serve`` / ``mlfleet sim mmc``;
* the seams with the policies in ``serving/lb``, ``serving/admission`` and
  ``serving/deploy`` live in :mod:`mlfleet.serving.policy`, which the server uses too.

See ``docs/serving-simulator.md``.
"""
