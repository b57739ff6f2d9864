"""The real inference server (``mlfleet serve``): aiohttp + tiny PyTorch models.

``app`` (routes, middleware chain, lifecycle), ``batcher`` (dynamic and continuous
batching), ``admission`` (429 policy), ``runner`` and ``models`` (torch), ``metrics``
(Prometheus text format), ``config``, ``cli``. See docs/serving-real.md.
"""
