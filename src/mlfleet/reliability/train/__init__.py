"""Real fault-tolerant data-parallel training (``mlfleet run train``): ranks, supervisor,
fault injection, checkpoints through :mod:`mlfleet.storage.checkpoint`, and the report."""
