"""``mlfleet.sim``: the chapter-neutral discrete-event kernel and ``mlfleet sim``.

:class:`~mlfleet.sim.kernel.Simulation` owns the clock, the event heap and the
sequence counter; chapters build their simulators on it (serving's engine in
``serving/sim``; fault tolerance, storage and scheduling next). See ``docs/sim.md``
for the kernel's contract and a worked M/M/c example in about 30 lines.
"""

from mlfleet.sim.kernel import (
    Event,
    FollowUp,
    Handler,
    Handlers,
    Simulation,
    SimulationError,
    Source,
    stream_seed,
)

__all__ = ["Event", "FollowUp", "Handler", "Handlers", "Simulation", "SimulationError", "Source",
           "stream_seed"]
