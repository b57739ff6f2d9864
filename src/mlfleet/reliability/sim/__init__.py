"""Simulations of fault tolerance on the kernel in :mod:`mlfleet.sim`.

* :mod:`.failure_process` — exponential, Weibull and correlated (burst) failures;
* :mod:`.policies` — sync/async checkpoints, hot spares, elastic shrink and grow;
* :mod:`.job` — a training job of weeks (``mlfleet sim goodput``), set against Daly's
  model in :mod:`.replications` and :mod:`.optimum`;
* :mod:`.stragglers` — synchronous steps with slow ranks (``mlfleet sim stragglers``).
"""
