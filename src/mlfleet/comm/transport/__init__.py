"""Point-to-point transports the collective algorithms are written against."""

from mlfleet.comm.transport.base import Transport

__all__ = ["Transport"]
