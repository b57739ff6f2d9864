"""mlfleet: ML systems at production scale, made executable.

Three fidelities, checked against each other: closed-form *models*
(pure, vectorised functions), *simulations* (discrete-event engines) and
*real runs* (real processes, sockets, files). Heavy modules are imported
lazily, so ``import mlfleet`` stays cheap.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
