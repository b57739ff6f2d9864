"""The generated HAProxy config: every policy is valid for the real binary, the retry and
health-check lines are there, and bad specs are refused with one line."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.errors import ServingInputError
from mlfleet.serving.fleet.haproxy_config import render_config
from mlfleet.serving.fleet.spec import BALANCES, FleetSpec
from mlfleet.serving.fleet.stats import parse_servers

needs_haproxy = pytest.mark.skipif(shutil.which("haproxy") is None and not os.environ.get("CI"),
                                   reason="haproxy not installed (CI installs it)")


def render(**overrides: object) -> str:
    spec = FleetSpec(**overrides)  # type: ignore[arg-type]
    return render_config(spec, frontend_port=18080,
                         replica_ports=[18081 + i for i in range(spec.replicas)],
                         stats_socket=Path("/tmp/never-bound.sock"))


@needs_haproxy
@pytest.mark.parametrize("balance", sorted(BALANCES))
def test_haproxy_accepts_the_config_of_every_policy(balance: str, tmp_path: Path) -> None:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(render(balance=balance))
    proc = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(("balance", "line"), [
    ("random2", "balance random(2)"), ("leastconn", "balance leastconn"),
    ("roundrobin", "balance roundrobin"),
    ("hash", "balance hash req.body,json_query('$.user')")])
def test_each_policy_writes_its_haproxy_algorithm(balance: str, line: str) -> None:
    assert f"    {line}\n" in render(balance=balance)


def test_hash_is_consistent_and_buffers_the_body() -> None:
    text = render(balance="hash")
    assert "hash-type consistent" in text and "option http-buffer-request" in text
    assert "hash-type" not in render(balance="random2")


def test_retries_go_elsewhere_only_for_requests_no_replica_answered() -> None:
    text = render(retries=3)
    assert "    retries 3\n" in text
    assert "    retry-on conn-failure empty-response 503\n" in text
    assert "    option redispatch 1\n" in text


def test_health_checks_probe_readiness() -> None:
    text = render(check_interval_s=0.25, fall=3, rise=1)
    assert "option httpchk GET /readyz" in text
    assert "default-server inter 250ms fall 3 rise 1" in text


@settings(max_examples=30, deadline=None)
@given(replicas=st.integers(1, 16), balance=st.sampled_from(sorted(BALANCES)))
def test_one_server_line_per_replica_on_loopback(replicas: int, balance: str) -> None:
    servers = [line.split() for line in render(replicas=replicas, balance=balance).splitlines()
               if line.strip().startswith("server ")]
    assert [s[1] for s in servers] == [f"r{i}" for i in range(replicas)]
    assert all(s[2].startswith("127.0.0.1:") and s[3] == "check" for s in servers)
    assert len({s[2] for s in servers}) == replicas


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"replicas": 0}, "replicas(=0) must be an integer >= 1"),
    ({"balance": "nope"}, "balance(='nope') is unknown; known: random2, leastconn, "
                          "roundrobin, hash"),
    ({"check_interval_s": 0.0}, "check_interval_s(=0)"),
    ({"server_args": ("--port", "9")}, "must not set --port or --host"),
    ({"frontend_port": 70000}, "frontend_port(=70000) must be <= 65535"),
])
def test_bad_specs_are_refused_with_the_value(overrides: dict[str, object],
                                              fragment: str) -> None:
    with pytest.raises(ServingInputError) as err:
        FleetSpec(**overrides)  # type: ignore[arg-type]
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_stats_csv_keeps_only_the_backend_servers() -> None:
    text = ("# pxname,svname,qcur,scur,stot,status,wretr,wredis,hrsp_2xx,hrsp_5xx,\n"
            "fleet,FRONTEND,,0,30,OPEN,,,30,0,\n"
            "replicas,r0,0,1,10,UP,0,0,9,1,\n"
            "replicas,r1,0,0,20,DOWN,2,1,20,0,\n"
            "replicas,BACKEND,0,1,30,UP,2,1,29,1,\n")
    r0, r1 = parse_servers(text, "replicas")
    assert (r0.name, r0.status, r0.sessions_total, r0.sessions_current, r0.responses_5xx) == \
        ("r0", "UP", 10, 1, 1)
    assert (r1.name, r1.status, r1.retries, r1.redispatches, r1.responses_2xx) == \
        ("r1", "DOWN", 2, 1, 20)
