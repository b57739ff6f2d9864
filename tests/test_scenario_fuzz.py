"""Fuzzing: malformed scenarios and CLI argument lists end in an MlfleetError, never a crash.

Scenario inputs are mutated from valid ones (the bundled examples and two small builders), one
defect each, so every generated input must be rejected, by a ScenarioError that names the path
of the defect. CLI argument lists are drawn from fragments of real commands; they run in-process
through ``mlfleet.cli.main`` and must end in exit 0 or 2, with one ``error:`` line for 2.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import subprocess
import sys
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mlfleet.cli import SUBCOMMANDS, main
from mlfleet.errors import ScenarioError
from mlfleet.scenario import Scenario, bundled_scenarios, loads_scenario, parse_scenario

FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIGHT = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _bases() -> list[dict[str, Any]]:
    """Valid raw scenarios to mutate; a bare cluster name becomes the equivalent mapping."""
    bases = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in bundled_scenarios()]
    bases += [
        {"name": "t", "workload": "Llama-3-8B", "cluster": {"name": "DGX-H100", "gpus": 8},
         "training": {"global_batch_tokens": "1Mi", "seq_len": 8192,
                      "parallelism": {"data": 8}, "mfu": 0.4}},
        {"name": "s", "workload": "DLRM", "cluster": {"name": "DGX-H100"},
         "serving": {"qps": 1000, "slo": {"p99_s": "10ms"}}, "prices": {"pue": 1.2}},
    ]
    for base in bases:
        if isinstance(base["cluster"], str):
            base["cluster"] = {"name": base["cluster"]}
    return bases


BASES = _bases()

# Every leaf field of the format and the kind of value it takes.
LEAVES: dict[str, str] = {
    "name": "text", "description": "optional_text", "workload": "name",
    "cluster.name": "name", "cluster.accelerator": "name", "cluster.gpus": "count",
    "cluster.gpus_per_node": "count", "cluster.scaleup": "name", "cluster.scaleout": "name",
    "cluster.rails_per_node": "count", "cluster.oversubscription": "ratio",
    "training.global_batch_tokens": "count", "training.global_batch_samples": "count",
    "training.seq_len": "count", "training.precision": "choice", "training.zero_stage": "stage",
    "training.total_tokens": "count", "training.total_samples": "count",
    "training.epochs": "ratio", "training.duration_s": "quantity", "training.mfu": "ratio",
    "training.parallelism.data": "count", "training.parallelism.tensor": "count",
    "training.parallelism.pipeline": "count", "training.parallelism.expert": "count",
    "serving.qps": "quantity", "serving.peak_to_mean": "ratio", "serving.prompt_tokens": "count",
    "serving.output_tokens": "count", "serving.items_per_request": "count",
    "serving.request_bytes": "quantity", "serving.response_bytes": "quantity",
    "serving.precision": "choice", "serving.slo.p50_s": "quantity", "serving.slo.p99_s": "quantity",
    "serving.slo.ttft_p99_s": "quantity", "serving.slo.tpot_p99_s": "quantity",
    "serving.slo.availability": "ratio", "storage.dataset_bytes": "quantity",
    "storage.sample_bytes": "quantity", "storage.dataset_samples": "count",
    "storage.medium": "name", "storage.checkpoint_every_s": "quantity",
    "prices.electricity_usd_per_kwh": "quantity", "prices.pue": "ratio",
    "prices.cloud_usd_per_gpu_h": "quantity", "prices.purchase_usd_per_gpu": "quantity",
    "prices.amortization_s": "quantity", "constraints.max_cost_usd": "quantity",
    "constraints.max_step_time_s": "quantity", "constraints.max_training_time_s": "quantity",
    "constraints.min_goodput": "ratio", "constraints.max_power_w": "quantity",
}
SECTIONS = ("cluster", "training", "serving", "storage", "prices", "constraints",
            "training.parallelism", "serving.slo")
REQUIRED = ("name", "workload", "cluster")

# --- values that no field of a kind accepts -------------------------------------------------

containers = st.one_of(st.lists(st.integers(), max_size=3),
                       st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
garbage_text = st.one_of(
    st.text(max_size=30).map(lambda s: "x" + s),
    st.sampled_from(["3 apples", "1 W/kg", "5 GB/s/s", "1e999s", "--5", "nan", "inf", "-1ms",
                     "$-3/h", "", " ", "1/0", "5 /", "0x10", "1e400GB", "½", "\x00", "٣GB/s"]),
)
non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
negative = st.one_of(st.integers(max_value=-1), st.floats(max_value=-1e-9, allow_nan=False))
non_integral = st.floats(allow_nan=False).filter(lambda f: not f.is_integer())
BAD: dict[str, st.SearchStrategy[Any]] = {
    "count": st.one_of(st.integers(max_value=0), st.integers(min_value=10**19), non_integral,
                       non_finite, st.booleans(), garbage_text, containers),
    "stage": st.one_of(st.integers(max_value=-1), st.integers(min_value=4), non_finite,
                       st.booleans(), garbage_text, containers),
    "quantity": st.one_of(negative, non_finite, st.booleans(), garbage_text, containers),
    "ratio": st.one_of(st.integers(max_value=0), st.floats(max_value=0.0), st.floats(min_value=1e7),
                       non_finite, st.booleans(), garbage_text, containers),
    "name": st.one_of(st.text(max_size=20).map(lambda s: "no-such-" + s), st.integers(),
                      st.booleans(), containers, st.just(""), st.text(min_size=201, max_size=250)),
    "choice": st.one_of(st.text(max_size=10).map(lambda s: "p-" + s), st.integers(), containers),
    "text": st.one_of(st.just(""), st.just("  "), st.just("two\nlines"), st.integers(),
                      st.floats(), containers, st.none(), st.text(min_size=101, max_size=120)
                      .filter(lambda s: s.strip() and len(s) > 100)),
    "optional_text": st.one_of(st.just(""), st.integers(), st.floats(), containers),
}
non_mapping = st.one_of(st.integers(), st.floats(), st.booleans(), st.lists(st.integers()),
                        st.text(max_size=10).map(lambda s: "no-such-" + s))


def _get(raw: dict[str, Any], dotted: str) -> Any:
    node: Any = raw
    for key in dotted.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


@st.composite
def malformed(draw: st.DrawFn) -> tuple[Any, str]:
    """(a raw scenario with exactly one defect, the path its error must start with)."""
    raw = copy.deepcopy(draw(st.sampled_from(BASES)))
    how = draw(st.sampled_from(["leaf", "leaf", "leaf", "unknown", "drop", "section", "top"]))
    if how == "leaf":
        dotted = draw(st.sampled_from(sorted(LEAVES)))
        parent, _, key = dotted.rpartition(".")
        node = _get(raw, parent) if parent else raw
        assume(isinstance(node, dict))
        node[key] = draw(BAD[LEAVES[dotted]])
        return raw, dotted
    if how == "unknown":
        parent = draw(st.sampled_from(["", *SECTIONS]))
        node = _get(raw, parent) if parent else raw
        assume(isinstance(node, dict))
        unknown: str | int | bool | None = draw(st.one_of(
                             st.from_regex(r"zz[A-Za-z0-9_-]{0,10}", fullmatch=True),
                             st.text(max_size=8).map(lambda s: "zz " + s), st.integers(),
                             st.none(), st.booleans()))
        node[unknown] = draw(st.one_of(st.integers(), st.text(max_size=5), containers))
        dotted = f"{parent}.{unknown}" if parent else str(unknown)
        return raw, dotted if isinstance(unknown, str) and " " not in unknown else parent
    if how == "drop":
        key = draw(st.sampled_from([*REQUIRED, "training+serving"]))
        if key == "training+serving":
            raw.pop("training", None), raw.pop("serving", None)
            return raw, "training"
        del raw[key]
        return raw, key
    if how == "section":
        dotted = draw(st.sampled_from(SECTIONS))
        parent, _, key = dotted.rpartition(".")
        node = _get(raw, parent) if parent else raw
        assume(isinstance(node, dict))
        node[key] = draw(non_mapping)
        return raw, dotted
    return draw(st.one_of(st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=3),
                          st.floats(), st.booleans())), ""


def test_bases_are_valid() -> None:
    for base in BASES:
        assert isinstance(parse_scenario(base), Scenario)


@FUZZ
@given(malformed())
def test_malformed_scenarios_raise_scenario_error_naming_the_path(case: tuple[Any, str]) -> None:
    raw, path = case
    with pytest.raises(ScenarioError) as info:
        parse_scenario(raw)
    message = str(info.value)
    assert message and "\n" not in message
    assert message.startswith(path), message
    try:
        text = yaml.dump(raw, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper))
    except yaml.YAMLError:
        return
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text, source="fuzz.yaml")
    assert "\n" not in str(info.value)


YAML_TOKENS = ["name: t", "workload: DLRM", "cluster: DGX-H100", "serving:", "qps: 5", "\n", "  ",
               "- ", ": ", "{", "}", "[", "]", ",", "&a ", "*a", "<<: *a", "!!binary ", "!!int ",
               "!!timestamp ", "!!python/object ", "'", '"', "# c", "%YAML 1.1", "---", "...",
               "\t", "? ", "|", ">", "1e999", "0x1F", ".nan", "2001-13-01", "~", "null", "\\",
               "9" * 5000, "\ufeff", "\x85"]


@LIGHT
@given(st.one_of(st.text(max_size=200),
                 st.lists(st.one_of(st.sampled_from(YAML_TOKENS), st.text(max_size=5)),
                          max_size=30).map("".join)))
def test_arbitrary_text_never_escapes_as_another_exception(text: str) -> None:
    try:
        loads_scenario(text)
    except ScenarioError as exc:
        assert "\n" not in str(exc)


@LIGHT
@given(st.sampled_from(bundled_scenarios()), st.lists(
    st.tuples(st.integers(min_value=0), st.sampled_from(["del", "ins", "sub"]),
              st.sampled_from([*"-:{}[]#&*!|>'\"\t\n 0123456789.", "nan", "é"])),
    min_size=1, max_size=5))
def test_mutated_example_text_loads_or_raises_scenario_error(
        path: Any, edits: list[tuple[int, str, str]]) -> None:
    text = path.read_text(encoding="utf-8")
    for position, op, char in edits:
        i = position % (len(text) + 1)
        text = {"del": text[:i] + text[i + 1:], "ins": text[:i] + char + text[i:],
                "sub": text[:i] + char + text[i + 1:]}[op]
    try:
        assert isinstance(loads_scenario(text, source=path.name), Scenario)
    except ScenarioError as exc:
        assert "\n" not in str(exc)


# --- the CLI --------------------------------------------------------------------------------

OTHER_COMMANDS = set(SUBCOMMANDS) - {"scenario", "catalog"}
BAD_FILE = "/nonexistent/dir/scenario.yaml"
FRAGMENTS = ["scenario", "catalog", "check", "schema", "list", "show", "--json", "--help", "-h",
             "--version", "--nope", "--size", "-x", "", "--", "recsys-serving", "llm-pretraining",
             BAD_FILE, "/", ".", "/etc/hostname", "H100", "H100-SXM", "h100", "accelerator",
             "workload", "cluster", "interconnect", "400Gb/s", "80GiB", "2ms", "$2.50/h", "-8",
             "1e999", "nan", "--json=1", "-hx", "Llama-3-70B", "name: x\nworkload: DLRM"]
FRAGMENTS += [str(path) for path in bundled_scenarios()]


@st.composite
def argv_lists(draw: st.DrawFn) -> list[str]:
    head = draw(st.sampled_from([[], ["scenario"], ["catalog"], ["scenario", "check"],
                                 ["catalog", "show"], ["catalog", "list"], ["scenario", "schema"]]))
    tail = draw(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=5))
    argv = head + tail
    assume(not OTHER_COMMANDS & set(argv) and "-" not in argv)  # no stdin; others' commands
    return argv


def run_main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


@FUZZ
@given(argv_lists())
def test_cli_argument_lists_end_in_exit_0_or_2_without_traceback(argv: list[str]) -> None:
    rc, out, err = run_main(argv)
    assert rc in (0, 2), (argv, rc, err)
    assert "Traceback" not in out + err
    if rc == 2:
        assert err.startswith("error: ") and err.count("\n") == 1, (argv, err)
        assert err.endswith("\n"), (argv, err)


@pytest.mark.parametrize("argv", [
    ["scenario", "check", BAD_FILE],
    ["scenario", "check", "/"],
    ["scenario", "check", "name: x\nworkload: [DLRM"],
    ["scenario", "nope"],
    ["catalog", "show", "no-such-accelerator"],
    ["--nope"],
])
def test_cli_subprocess_exits_2_with_one_line(argv: list[str]) -> None:
    code = "import sys; from mlfleet.cli import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
