"""The one mapping between ``deployment:`` and ``ServerConfig``: what serve applies is what
diff compares, for any declared deployment (property test)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.ops.declare.drift import find_drift
from mlfleet.ops.declare.mapping import (
    PATHS,
    apply_deployment,
    config_values,
    declared_values,
)
from mlfleet.scenario.deployment_spec import DeploymentSpec
from mlfleet.serving.server.config import ServerConfig


def spec(**fields: Any) -> DeploymentSpec:
    return DeploymentSpec.model_validate(fields)


_COUNT = st.integers(1, 64)
_RANK = st.fixed_dictionaries({}, optional={
    "max_batch_size": _COUNT, "max_queue_delay_s": st.sampled_from(["0ms", "4ms", "1.5ms", 0.01]),
    "queue_capacity": _COUNT, "max_items_per_request": _COUNT})
_GENERATE = st.fixed_dictionaries({}, optional={
    "max_running": _COUNT, "queue_capacity": _COUNT, "max_prompt_tokens": st.integers(1, 64),
    "max_new_tokens": st.integers(1, 64)})
_DEPLOYMENT = st.fixed_dictionaries({}, optional={
    "replicas": st.integers(1, 8), "model_version": st.sampled_from(["v1", "ranker-2026-12"]),
    "device": st.sampled_from(["auto", "cpu"]), "max_body_bytes": st.sampled_from(["64KiB", 4096]),
    "default_deadline_s": st.sampled_from(["500ms", 2]),
    "rank": _RANK, "generate": _GENERATE})
_ADMISSION = st.sampled_from([{}, {"admission": "token_bucket",
                                   "admission_params": {"rate_per_s": 100, "burst": 5}}])


@settings(max_examples=60, deadline=None)
@given(_DEPLOYMENT, _ADMISSION)
def test_applied_config_reports_every_declared_value(fields: dict[str, Any],
                                                     admission: dict[str, Any]) -> None:
    declared = spec(**fields, **admission)
    config = apply_deployment(declared, ServerConfig())
    assert find_drift(declared_values(declared), config_values(config)) == ()


def test_every_path_is_a_server_config_field() -> None:
    values = config_values(ServerConfig())
    assert set(values) == set(PATHS)
    assert values["rank.max_batch_size"] == 16 and values["admission_params"] == {}


def test_left_out_fields_are_not_declared_and_keep_the_default() -> None:
    declared = spec(rank={"max_batch_size": 32})
    assert declared_values(declared) == {"rank.max_batch_size": 32}
    config = apply_deployment(declared, ServerConfig())
    assert config.rank.max_batch_size == 32 and config.rank.queue_capacity == 64
    assert config.generate == ServerConfig().generate


def test_units_are_the_servers() -> None:
    declared = spec(max_body_bytes="64KiB", default_deadline_s="500ms",
                    rank={"max_queue_delay_s": "4ms"})
    assert declared_values(declared) == {"max_body_bytes": 65536, "default_deadline_s": 0.5,
                                         "rank.max_queue_delay_s": 0.004}


def test_kept_paths_are_not_applied() -> None:
    base = ServerConfig(rank=ServerConfig().rank.__class__(max_batch_size=8))
    config = apply_deployment(spec(rank={"max_batch_size": 32}), base,
                              keep=frozenset({"rank.max_batch_size"}))
    assert config.rank.max_batch_size == 8


def test_admission_params_become_pairs() -> None:
    config = apply_deployment(spec(admission="token_bucket",
                                   admission_params={"rate_per_s": 100}), ServerConfig())
    assert config.admission == "token_bucket"
    assert config.admission_params == (("rate_per_s", 100.0),)


def test_a_deployment_the_server_refuses_is_an_input_error() -> None:
    with pytest.raises(InputError, match="must fit max_seq_len"):
        apply_deployment(spec(generate={"max_prompt_tokens": 200, "max_new_tokens": 128}),
                         ServerConfig())
