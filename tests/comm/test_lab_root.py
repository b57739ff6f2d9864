"""The lab for real: namespaces, shaped links, silence, exact counters, cleanup (needs root)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlfleet.comm.lab import Lab, QdiscCounters, netns
from mlfleet.comm.lab import lab as lab_mod
from mlfleet.comm.lab import state as state_mod
from mlfleet.comm.lab.shaping import payload_rate_bytes_per_s

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None
                       or shutil.which("tc") is None,
                       reason="the network lab needs root and iproute2 (ip, tc)"),
]

MBIT_100 = 12.5e6  # bytes/s


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "labs"
    monkeypatch.setenv(state_mod.STATE_DIR_ENV, str(directory))
    yield directory
    for leftover in state_mod.list_states():  # a failed test must not leave a lab behind
        lab_mod.destroy(leftover)


def lab_namespaces(lab_id: str) -> list[str]:
    return netns.lab_namespaces(lab_id)


def test_up_builds_shaped_links_and_down_removes_everything(state_dir: Path) -> None:
    with Lab(hosts=3, rate_bytes_per_s=MBIT_100, name="t-updown") as lab:
        state = lab.state
        assert sorted(lab_namespaces(state.lab_id)) == sorted(state.namespaces)
        assert state_mod.read_state("t-updown") == state
        for host in state.hosts:
            for ns, dev in ((host.namespace, host.ifname),
                            (state.switch_namespace, host.switch_port)):
                qdisc = json.loads(subprocess.run(
                    ["tc", "-n", ns, "-j", "qdisc", "show", "dev", dev],
                    capture_output=True, text=True, check=True).stdout)[0]
                assert qdisc["kind"] == "tbf" and qdisc["options"]["rate"] == MBIT_100
            link = json.loads(subprocess.run(
                ["ip", "-n", host.namespace, "-j", "link", "show", host.ifname],
                capture_output=True, text=True, check=True).stdout)[0]
            assert link["mtu"] == 9000 and link["address"] == host.mac
    assert lab_namespaces(state.lab_id) == []
    assert state_mod.read_state("t-updown") is None


def test_idle_links_are_silent() -> None:
    with Lab(hosts=2, rate_bytes_per_s=MBIT_100) as lab:
        before = lab.counters()
        time.sleep(1.5)
        after = lab.counters()
    assert before == after  # no ARP, IPv6, STP or anything else on an idle lab


RECEIVER = textwrap.dedent("""
    import socket, sys
    srv = socket.create_server((sys.argv[1], 5001))
    print("listening", flush=True)
    conn, _ = srv.accept()
    n, got, buf = int(sys.argv[2]), 0, bytearray(1 << 20)
    while got < n:
        k = conn.recv_into(buf)
        assert k, "sender closed early"
        got += k
    print("received", got, flush=True)
    sys.stdin.readline()
""")
SENDER = textwrap.dedent("""
    import socket, sys, time
    conn = socket.create_connection((sys.argv[1], 5001))
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print("connected", flush=True)
    sys.stdin.readline()
    t0 = time.monotonic()
    conn.sendall(b"x" * int(sys.argv[2]))
    print(t0, flush=True)
    sys.stdin.readline()
""")


def _start(prefix: list[str], code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*prefix, sys.executable, "-c", code, *args], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def _line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    return proc.stdout.readline().strip()


def _say(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()


def test_tcp_payload_on_each_link_is_exact_and_takes_the_shaped_time() -> None:
    n_bytes = 2_000_000
    with Lab(hosts=2, rate_bytes_per_s=MBIT_100) as lab:
        h0, h1 = lab.hosts
        receiver = _start(h1.exec_prefix, RECEIVER, h1.ip, str(n_bytes))
        sender = None
        try:
            assert _line(receiver) == "listening"
            sender = _start(h0.exec_prefix, SENDER, h1.ip, str(n_bytes))
            assert _line(sender) == "connected"
            time.sleep(0.3)  # the handshake's last ACK has crossed
            before = lab.counters()
            _say(sender)
            t0 = float(_line(sender))
            assert _line(receiver) == f"received {n_bytes}"
            elapsed_s = time.monotonic() - t0
            after = lab.counters()
        finally:
            for proc in (sender, receiver):
                if proc is not None:
                    proc.kill()
                    proc.wait()
    up0, down0 = after[0].uplink - before[0].uplink, after[0].downlink - before[0].downlink
    up1, down1 = after[1].uplink - before[1].uplink, after[1].downlink - before[1].downlink
    assert (up0.payload_bytes(), down1.payload_bytes()) == (n_bytes, n_bytes)
    assert (up1.payload_bytes(), down0.payload_bytes()) == (0, 0)  # pure ACKs only
    def seen(q: QdiscCounters) -> tuple[int, int, int]:
        return q.bytes, q.packets, q.drops

    assert seen(up0) == seen(down1) and seen(up1) == seen(down0)  # nothing else on the bridge
    assert up0.drops == down1.drops == 0
    assert after[0].tcp_retrans_segs == before[0].tcp_retrans_segs
    model_s = n_bytes / payload_rate_bytes_per_s(MBIT_100, 9000)
    assert model_s * 0.97 < elapsed_s < model_s * 1.3, (elapsed_s, model_s)


OWNER = textwrap.dedent("""
    import signal, sys, time
    from mlfleet.comm.lab import Lab
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started in background
    lab = Lab(hosts=2, rate_bytes_per_s=12.5e6, name=sys.argv[1]).__enter__()
    print(lab.state.lab_id, flush=True)
    time.sleep(60)
""")


def _owner(name: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-c", OWNER, name], text=True,
                            stdout=subprocess.PIPE)
    lab_id = _line(proc)
    assert len(lab_namespaces(lab_id)) == 3
    return proc, lab_id


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_removes_the_lab(signum: int) -> None:
    proc, lab_id = _owner(f"t-signal-{signum}")
    proc.send_signal(signum)
    proc.wait(timeout=30)
    assert lab_namespaces(lab_id) == []
    assert state_mod.read_state(f"t-signal-{signum}") is None


def test_down_all_leaves_a_lab_a_live_run_is_using() -> None:
    from cli_helpers import run_cli

    proc, lab_id = _owner("t-in-use")
    try:
        down = run_cli("lab", "hosts", "down", "--all")
        assert down.returncode == 0, down.stderr
        assert f"kept lab t-in-use (in use by pid {proc.pid})" in down.stdout
        assert len(lab_namespaces(lab_id)) == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert lab_namespaces(lab_id) == []


def test_leftovers_of_a_killed_run_are_removed_by_down() -> None:
    proc, lab_id = _owner("t-killed")
    proc.kill()  # SIGKILL: no handler runs
    proc.wait(timeout=30)
    assert len(lab_namespaces(lab_id)) == 3
    lab_mod.down("t-killed")
    assert lab_namespaces(lab_id) == []


def test_cli_up_status_run_down(state_dir: Path) -> None:
    from cli_helpers import run_cli

    up = run_cli("lab", "hosts", "up", "--hosts", "2", "--bw", "100mbit", "--name", "t-cli",
                 "--json")
    assert up.returncode == 0, up.stderr
    from test_json_strict import strict_loads  # lab hosts up's --json is strict JSON too

    doc = strict_loads(up.stdout)
    assert doc["rate_bytes_per_s"] == MBIT_100 and len(doc["hosts"]) == 2
    try:
        status = run_cli("lab", "hosts", "status", "--json")
        labs = json.loads(status.stdout)["labs"]
        assert [(lab["name"], lab["missing_namespaces"]) for lab in labs] == [("t-cli", [])]
        assert [h.ip for h in lab_mod.hosts_for("t-cli")] == [h["ip"] for h in doc["hosts"]]
        run = run_cli("run", "collective", "allreduce", "--ranks", "2", "--hosts", "t-cli",
                      "--sizes", "64K", "--repeats", "1", "--json")
        assert run.returncode == 0, run.stderr
        recorded = json.loads(run.stdout)["lab"]
        assert (recorded["name"], recorded["rate_bytes_per_s"]) == ("t-cli", MBIT_100)
        text = run_cli("run", "collective", "allreduce", "--ranks", "2", "--hosts", "t-cli",
                       "--sizes", "64K", "--repeats", "1")
        assert "lab t-cli: 2 hosts, every link shaped to" in text.stdout, text.stderr
    finally:
        down = run_cli("lab", "hosts", "down", "--name", "t-cli")
    assert down.returncode == 0, down.stderr
    assert "removed lab t-cli" in down.stdout
    assert run_cli("lab", "hosts", "status").stdout.startswith("no labs")
