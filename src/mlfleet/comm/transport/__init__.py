"""Point-to-point transports the collective algorithms are written against.

``base.Transport`` is the interface; ``socket.SocketTransport`` (no torch) and
``torch_dist.TorchTransport`` (imports torch) implement it; ``group.GroupTransport``
is a sub-communicator view used by hierarchical algorithms.
"""

from mlfleet.comm.transport.base import Transport
from mlfleet.comm.transport.group import GroupTransport

__all__ = ["GroupTransport", "Transport"]
