"""Drift between declared and running values: exact names, numbers within 1e-9."""

from __future__ import annotations

from mlfleet.ops.declare.drift import FieldDrift, find_drift, same_value


def test_names_every_drifted_field_in_order() -> None:
    declared = {"rank.max_batch_size": 16, "model_version": "v2", "device": "cpu"}
    running = {"rank.max_batch_size": 8, "model_version": "v1", "device": "cpu"}
    drift = find_drift(declared, running)
    assert [d.field for d in drift] == ["rank.max_batch_size", "model_version"]
    assert drift[0].describe() == "rank.max_batch_size: declared 16, running 8"
    assert drift[1].describe() == "model_version: declared 'v2', running 'v1'"


def test_undeclared_fields_are_not_checked() -> None:
    assert find_drift({}, {"rank.max_batch_size": 8}) == ()


def test_a_field_the_server_does_not_report() -> None:
    (drift,) = find_drift({"model_version": "v1"}, {"model_version": None})
    assert drift == FieldDrift(field="model_version", declared="v1", running=None)
    assert drift.describe() == "model_version: declared 'v1', running not reported"


def test_numbers_compare_within_relative_1e9() -> None:
    assert same_value(0.004, 4 / 1000)
    assert same_value(65536, 65536.0)
    assert not same_value(0.004, 0.0041)
    assert not same_value(1, True)
    assert same_value({"rate_per_s": 100}, {"rate_per_s": 100.0})
    assert not same_value({"rate_per_s": 100}, {"rate_per_s": 100, "burst": 5})
