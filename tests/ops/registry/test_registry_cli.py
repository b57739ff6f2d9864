"""``mlfleet ops registry``: the commands a user runs, their refusals (one line, exit 2) and
the read-only fixture store that ``cli_cases`` points the JSON checks at."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_helpers import ENTRY, assert_one_line_error, run_cli, run_main, run_main_json
from mlfleet.ops.registry.model_file import EXAMPLES

FIXTURE = Path(__file__).parent / "data" / "recsys-registry.db"
"""``mlfleet ops registry demo --store`` then ``PRAGMA journal_mode=DELETE``: reads write nothing."""
MODELS = str(EXAMPLES / "recsys-models.yaml")
SPEC = str(EXAMPLES / "recsys-12.yaml")
R = ("ops", "registry")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_reading_commands_on_the_fixture_write_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    before = _sha(FIXTURE)
    shown = run_main_json(capsys, *R, "show", "recsys", "--store", str(FIXTURE))
    assert shown["aliases"] == {"production": 1} and len(shown["members"]) == 12
    history = run_main_json(capsys, *R, "history", "recsys", "--store", str(FIXTURE))
    assert [(p["alias"], p["version"], p["action"]) for p in history["periods"]] == [
        ("production", 1, "promote"), ("production", 2, "promote"),
        ("production", 1, "rollback"), ("canary", 2, "canary")]
    found = run_main_json(capsys, *R, "resolve", "recsys", "--unit", "u1", "--store", str(FIXTURE))
    assert found["version"] == 1 and found["members"]["ranker-dnn"] == 1
    assert _sha(FIXTURE) == before
    assert not list(FIXTURE.parent.glob("*-wal")) and not list(FIXTURE.parent.glob("*-journal"))


@pytest.mark.slow
def test_a_session_from_register_to_rollback(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    store = str(tmp_path / "reg.db")
    code, out, err = run_main(capsys, *R, "register", "--file", MODELS, "--store", store)
    assert code == 0 and out.count("registered") == 12 and err == ""
    assert run_main(capsys, *R, "ensemble", "create", "recsys", "--spec", SPEC,
                    "--store", store)[0] == 0
    code, out, _ = run_main(capsys, *R, "promote", "recsys", "1", "--gate", "ndcg>=0.30",
                            "--who", "ana", "--why", "launch", "--store", store)
    assert code == 0 and "production vNone -> v1" in out
    code, out, _ = run_main(capsys, *R, "register", "ranker-dnn", "--source", "s3://m/dnn/2",
                            "--inputs", "user_emb:float32[64],item_emb:float32[64],"
                            "pool_top:int64[100],ctx:float32[16]",
                            "--outputs", "pool_top:int64[100],score:float32[100]",
                            "--metric", "ndcg=0.36", "--replicas", "8", "--gpus", "1",
                            "--team", "ranking", "--store", store)
    assert code == 0 and "ranker-dnn@v2" in out
    spec2 = tmp_path / "v2.yaml"
    spec2.write_text(Path(SPEC).read_text().replace("{name: ranker-dnn, version: 1}",
                                                    "{name: ranker-dnn, version: 2}"))
    assert run_main(capsys, *R, "ensemble", "create", "recsys", "--spec", str(spec2),
                    "--store", store)[0] == 0
    assert run_main(capsys, *R, "canary", "recsys", "2", "--share", "10%", "--store", store)[0] == 0
    assert run_main(capsys, *R, "promote", "recsys", "2", "--store", store)[0] == 0
    code, out, _ = run_main(capsys, *R, "rollback", "recsys", "--why", "CTR", "--store", store)
    assert code == 0 and "v2 -> v1" in out
    code, out, err = run_main(capsys, *R, "deprecate", "ranker-dnn", "1", "--reason", "old",
                              "--store", store)
    assert code == 0 and "warning: recsys v1 (production) still serves ranker-dnn@v1" in err
    code, out, _ = run_main(capsys, *R, "retire", "ranker-dnn", "1", "--migrate-to", "2",
                            "--store", store)
    assert code == 0 and "reclaimed 8 replicas, 8 GPUs" in out
    code, out, _ = run_main(capsys, *R, "retention", "ranker-dnn", "--keep", "0",
                            "--store", store)
    assert code == 0 and "keep v1, v2; would delete nothing" in out  # v1: rollback target
    history = run_main_json(capsys, *R, "history", "recsys", "--store", store)
    assert [p["version"] for p in history["periods"] if p["alias"] == "production"] == [1, 2, 1, 3]


def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    cyclic = tmp_path / "cycle.yaml"
    cyclic.write_text("members: [{name: a, version: 1}, {name: b, version: 1}]\n"
                      "edges: [[a, b], [b, a]]\n")
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    store = tmp_path / "reg.db"
    shutil.copyfile(FIXTURE, store)
    cases = [
        (["ensemble", "create", "x", "--spec", str(cyclic), "--store", str(store)],
         "cycle: a -> b -> a"),
        (["ensemble", "create", "x", "--spec", SPEC.replace("12", "13"), "--store", str(store)],
         "cannot be read"),
        (["promote", "recsys", "9", "--store", str(store)], "ensemble.recsys@v9 is unknown"),
        (["promote", "recsys", "2", "--gate", "ndcg=>0.3", "--store", str(store)],
         "gate(='ndcg=>0.3')"),
        (["show", "nope", "--store", str(store)], "ensemble(='nope') is unknown"),
        (["show", "recsys", "--store", str(not_sqlite)], "is not a SQLite file"),
        (["show", "recsys", "--store", str(tmp_path)], "is a directory"),
        (["show", "recsys", "--store", str(tmp_path / "none.db")], "does not exist"),
        (["register", "--store", str(store)], "give a model NAME or --file FILE"),
        (["register", "m", "--inputs", "a", "--store", str(store)], "inputs(='a')"),
        (["canary", "recsys", "2", "--share", "150%", "--store", str(store)], "share(=1.5)"),
        (["retire", "user-features", "1", "--store", str(store)], "serves live ensembles"),
        (["demo", "--store", str(store)], "already exists"),
    ]
    for args, fragment in cases:
        code, _, err = run_main(capsys, *R, *args)
        assert code == 2, (args, err)
        assert err.count("\n") == 1 and err.startswith("error: ") and fragment in err, (args, err)


def test_an_unknown_member_version_is_refused_at_ensemble_creation(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = tmp_path / "reg.db"
    shutil.copyfile(FIXTURE, store)
    spec = tmp_path / "spec.yaml"
    spec.write_text(Path(SPEC).read_text().replace("{name: ranker-mtl, version: 1}",
                                                   "{name: ranker-mtl, version: 7}"))
    code, _, err = run_main(capsys, *R, "ensemble", "create", "recsys", "--spec", str(spec),
                            "--store", str(store))
    assert code == 2 and "ranker-mtl@v7 is unknown; known versions: v1, v2" in err


def test_a_refused_command_leaves_no_store_behind(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    bad = tmp_path / "models.yaml"
    bad.write_text("models: [{name: m, resources: {replicas: 0}}]\n")
    for args in (["register", "--file", str(bad)], ["register", "ensemble.x"],
                 ["register", "m", "--metric", "ndcg"]):
        code, _, _ = run_main(capsys, *R, *args, "--store", str(tmp_path / "new.db"))
        assert code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models.yaml"]


@pytest.mark.slow
def test_stderr_stays_clean_and_errors_are_one_line_in_a_real_process(tmp_path: Path) -> None:
    store = str(tmp_path / "reg.db")
    proc = run_cli(*R, "register", "--file", MODELS, "--store", store)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr  # no MLflow INFO lines
    assert_one_line_error(run_cli(*R, "promote", "recsys", "1", "--store", store),
                          "ensemble.recsys@v1 is unknown")


@pytest.mark.slow
def test_demo_json_tours_promotion_canary_refusal_and_rollback(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    doc = run_main_json(capsys, *R, "demo")
    actions = [s["action"] for s in doc["steps"]]
    assert actions == ["register", "promote", "canary", "promote", "refused", "rollback"]
    assert "1044 of 10000 user ids" in doc["steps"][2]["detail"]  # hashing is deterministic
    assert "aliases unchanged: True" in doc["steps"][4]["detail"]
    assert "manifest identical to v1: True" in doc["steps"][5]["detail"]
    assert doc["store"] is None


@pytest.mark.slow
def test_ctrl_c_stops_the_demo_and_leaves_no_store(tmp_path: Path) -> None:
    store = tmp_path / "demo.db"
    proc = subprocess.Popen([sys.executable, "-c", ENTRY, *R, "demo", "--store", str(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                            env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"})
    deadline = time.monotonic() + 60
    while not list(tmp_path.iterdir()) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # until the store's temporary file appears: MLflow's migrations run
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted"
    assert list(tmp_path.iterdir()) == []


def test_without_the_ops_extra_the_registry_says_what_to_install(tmp_path: Path) -> None:
    probe = ("import sys; sys.modules['mlflow'] = None\n"
             "from mlfleet.cli import main\n"
             f"sys.exit(main(['ops', 'registry', 'show', 'recsys', '--store', {str(FIXTURE)!r}]))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=False, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: this command needs mlflow, an optional dependency that is not installed: "
        "pip install 'mlfleet[ops]'"]
