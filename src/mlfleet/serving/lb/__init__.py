"""Load balancers: which replica serves a request (one small module per policy).

Build one by name with :func:`mlfleet.serving.lb.registry.make_load_balancer`; every
policy implements :class:`mlfleet.serving.policy.LoadBalancer`.
"""
