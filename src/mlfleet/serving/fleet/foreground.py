"""``mlfleet serve --replicas N --lb haproxy``: run a fleet in the foreground until stopped."""

from __future__ import annotations

import time
from collections.abc import Callable

from mlfleet.errors import RunError
from mlfleet.serving.fleet.launcher import Fleet
from mlfleet.serving.fleet.processes import log_tail
from mlfleet.serving.fleet.spec import FleetSpec


def run_fleet(spec: FleetSpec, *, echo: Callable[[str], None]) -> None:
    """Start the fleet, announce it (the last line is ``ready on URL``, as a single
    server's), then wait until Ctrl-C/SIGTERM (KeyboardInterrupt) or HAProxy exits.

    Replicas may die meanwhile (HAProxy routes around them); HAProxy exiting ends the run
    with RunError. Every process is stopped on the way out.
    """
    with Fleet.start(spec) as fleet:
        for replica in fleet.replicas:
            echo(f"mlfleet serve: replica {replica.name} (pid {replica.pid}) on {replica.url}")
        echo(f"mlfleet serve: HAProxy (pid {fleet.haproxy_pid}, balance {spec.balance}) "
             f"in front of {spec.replicas} replicas")
        echo(f"mlfleet serve: ready on {fleet.url}")
        while fleet.haproxy_alive():
            time.sleep(0.1)
        raise RunError(f"HAProxy exited: {log_tail(fleet.workdir / 'haproxy.log', 3)}")
