"""The scenario's ``deployment:`` section: typed, units parsed, bad values one line."""

from __future__ import annotations

import pytest

from mlfleet.errors import ScenarioError
from mlfleet.scenario import loads_scenario

HEAD = """name: x
workload: DLRM-DCNv2
cluster: {name: H100-1k-fat-tree, gpus: 16}
serving: {qps: 1k}
deployment:
"""


def test_fields_parse_with_units() -> None:
    scenario = loads_scenario(HEAD + """  replicas: 2
  model_version: ranker-v2
  device: cuda:1
  max_body_bytes: 64KiB
  default_deadline_s: 500ms
  admission: token_bucket
  admission_params: {rate_per_s: 100}
  rank: {max_batch_size: 32, max_queue_delay_s: 4ms, queue_capacity: 64,
         max_items_per_request: 256}
  generate: {max_running: 8, queue_capacity: 16, max_prompt_tokens: 64, max_new_tokens: 64}
""")
    spec = scenario.deployment
    assert spec is not None and spec.replicas == 2 and spec.device == "cuda:1"
    assert spec.max_body_bytes == 65536 and spec.default_deadline_s == 0.5
    assert spec.rank is not None and spec.rank.max_queue_delay_s == pytest.approx(0.004)
    assert spec.admission_params == {"rate_per_s": 100.0}


@pytest.mark.parametrize(("line", "message"), [
    ("device: tpu", "deployment.device: 'tpu' is not allowed; must be auto, cpu, cuda or cuda:N"),
    ("admission: nope", "admission policy 'nope' is unknown; known: coalescing, priority"),
    ("max_body_bytes: 10.5", "must be a whole number of bytes"),
    ("rank: {max_batch_size: 0}", "deployment.rank.max_batch_size: 0 is not allowed"),
    ("admission_params: {rate_per_s: 1}", "needs deployment.admission"),
    ("rank: {max_queue_delay_s: -4ms}", "deployment.rank.max_queue_delay_s"),
    ("replicas: 0", "deployment.replicas: 0 is not allowed"),
    ("colour: blue", "deployment.colour"),
])
def test_bad_values_are_one_line(line: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        loads_scenario(HEAD + "  " + line + "\n")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_the_bundled_environments_validate() -> None:
    from importlib import resources

    folder = resources.files("mlfleet").joinpath("examples", "environments")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".yaml"))
    assert names == ["dev.yaml", "prod.yaml", "staging.yaml"]
    for name in names:
        assert loads_scenario(folder.joinpath(name).read_text()).deployment is not None
