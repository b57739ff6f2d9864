"""The error a bad topology argument raises (exit 2, one line naming the value)."""

from __future__ import annotations

from mlfleet.errors import InputError


class TopologyInputError(InputError):
    """A topology argument out of range: an odd k, an oversubscription below 1, a zero torus
    dimension, an unknown switch model, a rank placed on a node that is not a GPU."""
