"""The recorder's header parsing: the replica that answered, the server's own time."""

from __future__ import annotations

import math

import pytest

from mlfleet.reliability.chaos.recorder import app_time_s, replica_index


def test_app_time_is_read_from_server_timing() -> None:
    header = "pre;dur=0.120, queue;dur=1.500, service;dur=3.250, post;dur=0.080, app;dur=12.500"
    assert app_time_s(header) == pytest.approx(0.0125)
    assert math.isnan(app_time_s(None))
    assert math.isnan(app_time_s("service;dur=3.0"))
    assert math.isnan(app_time_s("happ;dur=3.0"))  # another name ending in "app"


def test_replica_index_is_the_server_name_number() -> None:
    assert replica_index("r2") == 2
    assert replica_index(None) == -1
