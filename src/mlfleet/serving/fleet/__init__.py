"""A real fleet: N `mlfleet serve` replicas behind HAProxy (random(2), leastconn, roundrobin,
consistent hashing), health-checked on the readiness probe."""
