"""Arrival processes (one module each) and the request stream they feed the engine.

* :mod:`.poisson` — homogeneous Poisson (exponential gaps);
* :mod:`.gamma` — renewal process with gamma gaps of a given coefficient of variation
  (CV > 1 is burstier than Poisson, CV < 1 smoother);
* :mod:`.diurnal` — non-homogeneous Poisson with a sinusoidal daily rate, by thinning;
* :mod:`.trace` — replay of a CSV trace (times and lengths);
* :mod:`.lengths` — prompt / output length and service-demand distributions;
* :mod:`.stream` — :class:`~.stream.RequestStream`, the arrays the engine consumes.
"""

from mlfleet.serving.sim.arrivals.base import ArrivalProcess
from mlfleet.serving.sim.arrivals.diurnal import DiurnalArrivals
from mlfleet.serving.sim.arrivals.gamma import GammaArrivals
from mlfleet.serving.sim.arrivals.lengths import (
    Exponential,
    Fixed,
    LengthDistribution,
    LogNormal,
    ServiceDistribution,
)
from mlfleet.serving.sim.arrivals.poisson import PoissonArrivals
from mlfleet.serving.sim.arrivals.stream import RequestStream, make_requests
from mlfleet.serving.sim.arrivals.trace import read_trace

__all__ = [
    "ArrivalProcess", "DiurnalArrivals", "Exponential", "Fixed", "GammaArrivals",
    "LengthDistribution", "LogNormal", "PoissonArrivals", "RequestStream",
    "ServiceDistribution", "make_requests", "read_trace",
]
