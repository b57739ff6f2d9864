"""``mlfleet serve --scenario``: the declared deployment applied, explicit options win and
say so, a bad deployment or record path fails before the server binds. The last step
(binding) is replaced, as in the CLI fuzz sandbox; tests/ops/declare/test_diff_live.py
starts real servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_helpers import run_main
from mlfleet.serving.server import cli as server_cli
from mlfleet.serving.server.config import ServerConfig

DECLARED = (Path(__file__).parent / "data" / "declared.yaml").read_text(encoding="utf-8")


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ServerConfig]]:
    configs: list[ServerConfig] = []

    async def fake_serve(config: ServerConfig, **_: object) -> None:
        configs.append(config)

    monkeypatch.setattr(server_cli, "serve", fake_serve)
    monkeypatch.setattr(server_cli, "_apply_process_settings", lambda threads: None)
    yield configs


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "declared.yaml"
    path.write_text(DECLARED, encoding="utf-8")
    return path


def test_the_declared_deployment_is_applied(capsys: pytest.CaptureFixture[str],
                                            started: list[ServerConfig], scenario: Path) -> None:
    code, _, err = run_main(capsys, "serve", "--scenario", str(scenario))
    assert code == 0, err
    (config,) = started
    assert config.model_version == "ranker-v7" and config.device == "cpu"
    assert config.max_body_bytes == 32 * 1024
    assert (config.rank.max_batch_size, config.rank.max_queue_delay_s,
            config.rank.max_items_per_request, config.rank.queue_capacity) == (16, 0.002, 128, 32)
    assert (config.generate.max_running, config.generate.max_prompt_tokens,
            config.generate.max_new_tokens) == (4, 64, 64)
    assert err == f"mlfleet serve: {scenario} declares 2 replicas; this process is one of them\n"


def test_explicit_options_override_and_say_so(capsys: pytest.CaptureFixture[str],
                                              started: list[ServerConfig],
                                              scenario: Path) -> None:
    code, _, err = run_main(capsys, "serve", "--scenario", str(scenario), "--max-batch", "8",
                            "--max-delay-ms", "4", "--max-running", "16")
    assert code == 0, err
    (config,) = started
    assert (config.rank.max_batch_size, config.rank.max_queue_delay_s) == (8, 0.004)
    assert config.model_version == "ranker-v7"
    assert err.splitlines()[:3] == [  # in field-path order
        f"mlfleet serve: --max-running overrides {scenario}'s deployment.generate.max_running (4)",
        f"mlfleet serve: --max-batch overrides {scenario}'s deployment.rank.max_batch_size (16)",
        f"mlfleet serve: --max-delay-ms overrides {scenario}'s deployment.rank.max_queue_delay_s "
        "(0.002)"]


@pytest.mark.parametrize(("text", "fragment"), [
    (DECLARED.replace("max_new_tokens: 64", "max_new_tokens: 250"), "must fit max_seq_len"),
    (DECLARED.split("deployment:")[0], "declares no deployment: section"),
    (DECLARED.replace("device: cpu", "device: gpu"), "deployment.device: 'gpu' is not allowed"),
])
def test_a_bad_deployment_fails_before_binding(capsys: pytest.CaptureFixture[str],
                                               started: list[ServerConfig], tmp_path: Path,
                                               text: str, fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_main(capsys, "serve", "--scenario", str(path))
    assert code == 2 and started == [] and fragment in err and len(err.splitlines()) == 1, err


def test_a_record_path_in_a_missing_directory_fails_before_binding(
        capsys: pytest.CaptureFixture[str], started: list[ServerConfig], tmp_path: Path) -> None:
    code, _, err = run_main(capsys, "serve", "--record", str(tmp_path / "no" / "r.json"))
    assert code == 2 and started == [], err
    assert "--record(=" in err and "must be a file path in an existing directory" in err


def test_model_version_option(capsys: pytest.CaptureFixture[str],
                              started: list[ServerConfig]) -> None:
    assert run_main(capsys, "serve", "--model-version", "v3")[0] == 0
    assert started[0].model_version == "v3"
