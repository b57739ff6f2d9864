"""The real server's specs and metrics raise mlfleet errors, never a bare ValueError."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mlfleet.errors import MlfleetError, ServingInputError
from mlfleet.serving.server.metrics import MetricError, Registry
from mlfleet.serving.server.models import GPTSpec, RankerSpec


@pytest.mark.parametrize(("spec", "message"), [
    (lambda: RankerSpec(n_users=0), r"^n_users\(=0\) must be an integer >= 1$"),
    (lambda: RankerSpec(score_hidden=()), r"^score_hidden\(=\(\)\) must hold at least one width$"),
    (lambda: RankerSpec(score_hidden=(64, 0)), r"^score_hidden width\(=0\) must be an integer"),
    (lambda: GPTSpec(n_head=0), r"^n_head\(=0\) must be an integer >= 1$"),
    (lambda: GPTSpec(d_model=130, n_head=4), r"^d_model\(=130\) must be a multiple of n_head\(=4\)$"),
])
def test_bad_model_spec_is_an_input_error(spec: Callable[[], object], message: str) -> None:
    with pytest.raises(ServingInputError, match=message):
        spec()


def test_metric_misuse_is_a_metric_error() -> None:
    registry = Registry()
    requests = registry.counter("requests_total", "Requests.", labels=("code",))
    with pytest.raises(MetricError, match=r"already registered"):
        registry.counter("requests_total", "Again.")
    with pytest.raises(MetricError, match=r"labels \['path'\] must be \['code'\]"):
        requests.inc(path="/")
    assert issubclass(MetricError, MlfleetError)
