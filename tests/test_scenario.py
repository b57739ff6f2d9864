"""Scenario files: the bundled examples load, every defect is one clear ScenarioError line."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlfleet.errors import MlfleetError, ScenarioError
from mlfleet.scenario import (
    Scenario,
    bundled_scenarios,
    default_scenario_path,
    load_scenario,
    loads_scenario,
    parse_scenario,
    scenario_json_schema,
)

EXAMPLES = {"llm-pretraining", "recsys-serving", "vision-training"}
POSITIVE = "is not allowed; must be a positive integer"


def training_scenario(**overrides: Any) -> dict[str, Any]:
    """A small valid training scenario; ``overrides`` set dotted paths (``cluster__gpus``)."""
    raw: dict[str, Any] = {
        "name": "test-training",
        "workload": "Llama-3-8B",
        "cluster": {"name": "DGX-H100", "gpus": 8},
        "training": {"global_batch_tokens": "1Mi", "seq_len": 8192, "parallelism": {"data": 8}},
    }
    return _apply(raw, overrides)


def serving_scenario(**overrides: Any) -> dict[str, Any]:
    """A small valid serving scenario (DLRM)."""
    raw: dict[str, Any] = {
        "name": "test-serving",
        "workload": "DLRM",
        "cluster": "DGX-H100",
        "serving": {"qps": "50k", "slo": {"p99_s": "10ms"}},
    }
    return _apply(raw, overrides)


_DROP = object()


def _apply(raw: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    for dotted, value in overrides.items():
        *parents, last = dotted.split("__")
        node = raw
        for key in parents:
            node = node.setdefault(key, {})
        if value is _DROP:
            node.pop(last, None)
        else:
            node[last] = value
    return raw


def error_of(raw: Any) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(raw)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- the bundled examples -----------------------------------------------------------------


def test_at_least_three_examples_are_bundled() -> None:
    assert {path.stem for path in bundled_scenarios()} >= EXAMPLES


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda p: p.stem)
def test_bundled_example_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.training is not None or scenario.serving is not None
    assert scenario.cluster.to_cluster().accelerator.name == scenario.cluster.accelerator


def test_default_scenario_is_llm_pretraining_at_scale() -> None:
    scenario = load_scenario(default_scenario_path())
    assert scenario.training is not None and scenario.training.parallelism is not None
    assert scenario.training.parallelism.product() == scenario.cluster.gpus >= 1024
    assert scenario.training.batch_tokens == 2**24
    assert scenario.training.seq_len is not None
    assert scenario.training.batch_samples == 2**24 // scenario.training.seq_len


def test_examples_hold_si_values() -> None:
    recsys = load_scenario("recsys-serving")  # a bundled example by name
    assert recsys.serving is not None and recsys.serving.slo is not None
    assert recsys.serving.qps == 50_000.0
    assert recsys.serving.slo.p99_s == pytest.approx(0.010)
    vision = load_scenario("vision-training")
    assert vision.storage is not None and vision.storage.dataset_bytes == 150e9
    assert vision.storage.samples == 1_281_167
    assert vision.constraints.max_training_time_s == 12 * 3600.0


# --- values, units and catalog names ------------------------------------------------------


@pytest.mark.parametrize(("dotted", "text", "si"), [
    ("serving__slo__p99_s", "10ms", 0.010),
    ("serving__slo__p99_s", 0.25, 0.25),
    ("serving__slo__ttft_p99_s", "2 s", 2.0),
    ("serving__qps", "50000/s", 50_000.0),
    ("serving__request_bytes", "80GiB", 80 * 2.0**30),
    ("storage__dataset_bytes", "15TB", 15e12),
    ("storage__checkpoint_every_s", "30min", 1800.0),
    ("prices__electricity_usd_per_kwh", "$0.10/kWh", 0.10),
    ("prices__cloud_usd_per_gpu_h", "$2.50/GPU-h", 2.50),
    ("prices__amortization_s", "4year", 4 * 365.2425 * 86400),
    ("constraints__max_power_w", "30MW", 30e6),
    ("constraints__min_goodput", "90%", 0.9),
    ("prices__pue", "1.25", 1.25),
])
def test_quantities_accept_unit_strings_and_numbers(dotted: str, text: Any, si: float) -> None:
    scenario = parse_scenario(serving_scenario(**{dotted: text}))
    node: Any = scenario
    for key in dotted.split("__"):
        node = getattr(node, key)
    assert node == pytest.approx(si)


@pytest.mark.parametrize(("text", "count"), [("16Mi", 2**24), ("4096Ki", 2**22), (2**20, 2**20),
                                              (1048576.0, 2**20), ("1_048_576", 2**20)])
def test_counts_accept_suffixes(text: Any, count: int) -> None:
    scenario = parse_scenario(training_scenario(training__global_batch_tokens=text))
    assert scenario.training is not None and scenario.training.global_batch_tokens == count


def test_names_are_canonicalised() -> None:
    scenario = parse_scenario(training_scenario(workload="llama-3-8b", cluster__accelerator="H100"))
    assert scenario.workload == "Llama-3-8B"
    assert scenario.cluster.accelerator == "H100-SXM"


def test_cluster_by_name_fills_every_field_and_takes_overrides() -> None:
    whole = parse_scenario(serving_scenario(cluster="DGX-H100")).cluster
    assert whole.name == "DGX-H100" and whole.gpus >= 1 and whole.gpus_per_node >= 1
    assert whole.scaleup and whole.scaleout and whole.accelerator == "H100-SXM"
    part = parse_scenario(serving_scenario(cluster={"name": "H100-1k-fat-tree", "gpus": 32,
                                                    "oversubscription": 2})).cluster
    assert (part.gpus, part.oversubscription) == (32, 2.0)
    assert part.nodes == 32 // part.gpus_per_node


def test_more_gpus_than_the_catalog_cluster_is_refused() -> None:
    # issue 10 item 13: the rule `mlfleet comm --cluster NAME --ranks N` applies too
    message = error_of(serving_scenario(cluster={"name": "H100-1k-fat-tree", "gpus": 100000}))
    assert "cluster.gpus" in message and "100000" in message
    assert "1,024 GPUs of catalog cluster H100-1k-fat-tree" in message
    assert "custom cluster" in message
    at_size = parse_scenario(serving_scenario(cluster={"name": "H100-1k-fat-tree",
                                                       "gpus": 1024})).cluster
    assert at_size.gpus == 1024


def test_custom_cluster_from_catalog_parts() -> None:
    base = parse_scenario(serving_scenario()).cluster
    custom = {"accelerator": "H100", "gpus": 64, "gpus_per_node": 8,
              "scaleup": base.scaleup, "scaleout": base.scaleout}
    cluster = parse_scenario(serving_scenario(cluster=custom)).cluster
    assert cluster.name is None and cluster.nodes == 8
    assert cluster.to_cluster().gpus == 64


def test_scenario_is_frozen() -> None:
    scenario = parse_scenario(serving_scenario())
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        scenario.__setattr__("name", "other")


def test_empty_prices_section_means_defaults() -> None:
    scenario = parse_scenario(serving_scenario(prices=None, constraints=None))
    assert scenario.prices.pue is None and scenario.constraints.max_cost_usd is None


# --- error messages: path, value, what is allowed -----------------------------------------


def test_negative_gpus_message_is_exact() -> None:
    assert error_of(training_scenario(cluster__gpus=-8)) == (
        "cluster.gpus: -8 is not allowed; must be a positive integer")


@pytest.mark.parametrize(("raw", "expected"), [
    (training_scenario(cluster__gpus=0), f"cluster.gpus: 0 {POSITIVE}"),
    (training_scenario(cluster__gpus=2.5), f"cluster.gpus: 2.5 {POSITIVE}"),
    (training_scenario(cluster__gpus=True), f"cluster.gpus: true {POSITIVE}"),
    (training_scenario(cluster__gpus="many"), f"cluster.gpus: 'many' {POSITIVE}"),
    (training_scenario(cluster__gpus=10**9),
     f"cluster.gpus: 1000000000 {POSITIVE} no larger than 10,000,000"),
    (training_scenario(cluster__gpus=12), "cluster.gpus: 12 is not allowed; must be at most "
     "cluster.gpus_per_node (8) or a multiple of it"),
    (serving_scenario(serving__slo__p99_s="10 GB"),
     "serving.slo.p99_s: '10 GB' is not allowed; must be a positive duration such as 10ms, 30d or "
     "a number of seconds"),
    (serving_scenario(serving__qps=float("nan")),
     "serving.qps: nan is not allowed; must be a positive rate such as 50000/s, 50k or a number "
     "per second"),
    (serving_scenario(prices__pue=0.9),
     "prices.pue: 0.9 is not allowed; must be a power usage effectiveness, a number in [1, 3]"),
    (serving_scenario(serving__precision="int4"),
     "serving.precision: 'int4' is not allowed; must be one of fp32, tf32, bf16, fp16, fp8, int8"),
    (serving_scenario(serving=5),
     "serving: 5 is not allowed; must be a mapping with fields qps, peak_to_mean, prompt_tokens, "
     "output_tokens, items_per_request, request_bytes, response_bytes, precision, slo"),
    (serving_scenario(serving__slo__p50_s="20ms"),
     "serving.slo.p50_s: 0.02 is not allowed; must not exceed slo.p99_s (0.01 s)"),
    (training_scenario(training__global_batch_tokens="1M"),
     "training.global_batch_tokens: 1000000 is not allowed; must be a multiple of training.seq_len "
     "(8192), e.g. 999424"),
    (training_scenario(training__global_batch_samples=128),
     "training.global_batch_samples: 128 is not allowed; give global_batch_tokens or "
     "global_batch_samples, not both"),
    (training_scenario(training__parallelism={"data": 2, "tensor": 2, "pipeline": 1}),
     "training.parallelism: {'data': 2, 'pipeline': 1, 'tensor': 2} is not allowed; "
     "data x tensor x pipeline = 4 must equal cluster.gpus (8)"),
    (training_scenario(training__parallelism={"data": 3}),
     "training.parallelism.data: 3 is not allowed; must divide the global batch (128 samples)"),
    (training_scenario(training__seq_len=_DROP),
     "training.seq_len: missing; required with global_batch_tokens (tokens per sequence)"),
    (training_scenario(training__epochs=2),
     "training.epochs: 2.0 is not allowed; needs storage.dataset_samples (or dataset_bytes and "
     "sample_bytes)"),
    (serving_scenario(workload="Llama-3-8B"),
     "serving.prompt_tokens: missing; required for a token workload (Llama-3-8B)"),
    (serving_scenario(storage={"dataset_bytes": "1GB", "sample_bytes": "2GB"}),
     "storage.sample_bytes: 2000000000.0 is not allowed; must not exceed storage.dataset_bytes "
     "(1e+09)"),
    (serving_scenario(serving=_DROP), "training: missing; a scenario needs a training section, a "
     "serving section or both"),
])
def test_error_names_path_value_and_what_is_allowed(raw: Any, expected: str) -> None:
    assert error_of(raw) == expected


def test_unknown_workload_lists_closest_names() -> None:
    message = error_of(training_scenario(workload="Llama-3-7B"))
    assert message.startswith("workload: unknown workload name 'Llama-3-7B'; closest: ")
    assert "Llama-3-70B" in message


def test_unknown_cluster_name_lists_closest_names() -> None:
    message = error_of(serving_scenario(cluster={"name": "DGX-H10", "gpus": 8}))
    assert message.startswith("cluster.name: unknown cluster name 'DGX-H10'; closest: DGX-H100")


def test_precision_must_be_defined_for_the_accelerator() -> None:
    message = error_of(training_scenario(cluster__accelerator="A100-80GB",
                                         training__precision="fp8"))
    assert message.startswith("training.precision: 'fp8' is not allowed; A100-80GB has a catalog "
                              "peak only for ")


def test_unknown_field_suggests_the_closest() -> None:
    assert error_of(serving_scenario(serving__slo__p99="10ms")) == (
        "serving.slo.p99: unknown field is not allowed; did you mean 'p99_s'? serving.slo has "
        "fields p50_s, p99_s, ttft_p99_s, tpot_p99_s, availability")
    assert error_of(training_scenario(clustr="x")).startswith(
        "clustr: unknown field is not allowed; did you mean 'cluster'? allowed at the top level")


def test_missing_field_says_what_is_required() -> None:
    assert error_of(training_scenario(workload=_DROP)) == (
        "workload: missing; required: catalog workload name, e.g. Llama-3-70B")
    custom = {"accelerator": "H100", "gpus": 8, "gpus_per_node": 8}
    message = error_of(serving_scenario(cluster=custom))
    assert message.startswith("cluster.scaleup: missing; required: ")
    assert "when cluster.name is given" in message


def test_several_errors_are_all_reported_one_per_line() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(serving_scenario(serving__qps=-1, prices__pue=9, name=""))
    lines = info.value.details
    assert [line.split(":")[0] for line in lines] == ["name", "serving.qps", "prices.pue"]
    assert all("\n" not in line for line in lines)
    assert str(info.value) == " | ".join(lines)  # Python callers see them all, on one line


@pytest.mark.parametrize(("raw", "expected"), [
    (None, "empty scenario; expected a mapping with fields name, description, workload"),
    ([1, 2], "top level: [1, 2] is not allowed; must be a mapping with fields name, "),
    ("DLRM", "top level: 'DLRM' is not allowed; must be a mapping with fields name, "),
])
def test_top_level_must_be_a_mapping(raw: Any, expected: str) -> None:
    assert error_of(raw).startswith(expected)


# --- files and YAML -----------------------------------------------------------------------

GOOD_YAML = """\
name: t
workload: DLRM
cluster:
  name: H100-1k-fat-tree
  gpus: 16
serving:
  qps: 50k
"""


def test_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD_YAML.replace("gpus: 16", "gpus: -8"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"^.*bad\.yaml:5: cluster\.gpus: -8 is not allowed; "
                                            r"must be a positive integer$"):
        load_scenario(path)


@pytest.mark.parametrize(("text", "expected"), [
    ("name: t\nworkload: [DLRM\n", r"^<string>:3: invalid YAML: .*expected ',' or ']'"),
    ("name: t\nname: u\n", r"^<string>:2: invalid YAML: duplicate key 'name'$"),
    ("name: t\n\tworkload: x\n", r"^<string>:2: invalid YAML: "),
    ("a: !!timestamp 99999-01-01\nb: 1\n", r"^<string>: invalid YAML: "),
    ("", r"^<string>: empty scenario"),
    ("- 1\n- 2\n", r"^<string>: top level: \[1, 2\] is not allowed"),
])
def test_yaml_defects_are_scenario_errors(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError, match=expected):
        loads_scenario(text)


def test_yaml_text_round_trips() -> None:
    assert loads_scenario(GOOD_YAML).cluster.gpus == 16
    assert load_scenario(GOOD_YAML).cluster.gpus == 16  # text with a newline is YAML, not a path


def test_unreadable_sources_are_scenario_errors(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    cases: list[tuple[str | Path, str]] = [
        (tmp_path / "absent.yaml", "does not exist; give a YAML file or a bundled example"),
        (tmp_path, "is not a regular file"), (binary, "not UTF-8 text"),
        ("nul\x00byte", "does not exist")]
    for source, expected in cases:
        with pytest.raises(ScenarioError, match=expected):
            load_scenario(source)


def test_scenario_error_is_an_input_error() -> None:
    with pytest.raises(MlfleetError) as info:
        parse_scenario({})
    assert info.value.exit_code == 2


# --- JSON Schema --------------------------------------------------------------------------


def test_schema_describes_every_field() -> None:
    schema = scenario_json_schema()
    json.dumps(schema)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"name", "workload", "cluster"} <= set(schema["required"])
    assert set(schema["properties"]) == set(Scenario.model_fields)
    assert {"type": "string", "description": "a catalog cluster name"} in (
        schema["properties"]["cluster"]["anyOf"])
    for name, definition in schema["$defs"].items():
        assert definition["additionalProperties"] is False, name
        for field, spec in definition["properties"].items():
            assert spec.get("description"), f"{name}.{field} has no description"


def test_examples_use_only_schema_fields() -> None:
    import yaml

    schema = scenario_json_schema()
    for path in bundled_scenarios():
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(raw) <= set(schema["properties"]), path.name


# --- docs/scenario.md ----------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[1] / "docs" / "scenario.md"


def _fields(model: type[Any]) -> set[str]:
    names = set(model.model_fields)
    for field in model.model_fields.values():
        for sub in (field.annotation, *getattr(field.annotation, "__args__", ())):
            if isinstance(sub, type) and hasattr(sub, "model_fields"):
                names |= _fields(sub)
    return names


def test_docs_describe_every_field() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert not {name for name in _fields(Scenario) if f"`{name}`" not in text}


def test_docs_first_example_is_valid() -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    scenario = loads_scenario(block, source="docs/scenario.md")
    assert scenario.training is not None and scenario.training.batch_samples == 2048


# --- the CLI --------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from mlfleet.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_cli_check_accepts_the_examples() -> None:
    done = run_cli("scenario", "check", str(default_scenario_path()))
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok: llama3-405b-pretraining\n", "")
    done = run_cli("scenario", "check", "recsys-serving", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["scenario"]["serving"]["slo"]["p99_s"] == pytest.approx(0.01)


def test_cli_check_rejects_with_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD_YAML.replace("gpus: 16", "gpus: -8"), encoding="utf-8")
    done = run_cli("scenario", "check", str(path))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: {path}:5: cluster.gpus: -8 {POSITIVE}\n"


def test_cli_schema_prints_json() -> None:
    done = run_cli("scenario", "schema")
    assert done.returncode == 0
    assert json.loads(done.stdout)["title"] == "mlfleet scenario"


def test_cli_list_names_the_examples() -> None:
    done = run_cli("scenario", "list", "--json")
    assert done.returncode == 0
    rows = json.loads(done.stdout)
    assert {row["name"] for row in rows} >= EXAMPLES
    assert [row["name"] for row in rows if row["default"]] == ["llm-pretraining"]
