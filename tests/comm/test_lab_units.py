"""The lab's pure parts, without root: naming, state files, tbf parameters, counters, commands."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from mlfleet.comm.lab import lab as lab_mod
from mlfleet.comm.lab import measure, netns, shaping
from mlfleet.comm.lab import state as state_mod
from mlfleet.comm.lab.counters import (
    HostCounters,
    QdiscCounters,
    diff_counters,
    parse_qdisc_json,
    parse_retrans_segs,
)
from mlfleet.errors import InputError, RunError

TC_JSON = json.dumps([{
    "kind": "tbf", "handle": "8001:", "root": True, "refcnt": 2,
    "options": {"rate": 125000000, "burst": 31250, "lat": 201000},
    "bytes": 6046674, "packets": 707, "drops": 0, "overlimits": 123, "requeues": 0,
    "backlog": 0, "qlen": 0}])
SNMP = ("Ip: Forwarding DefaultTTL\nIp: 1 64\n"
        "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails "
        "EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
        "Tcp: 1 200 120000 -1 3 3 0 0 6 1000 900 7 0 0 0\n")


class Recorder:
    """A fake :class:`netns.Runner`: records every command, answers a few."""

    def __init__(self, namespaces: Sequence[str] = (), fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.namespaces = list(namespaces)
        self.fail_on = fail_on

    def __call__(self, argv: Sequence[str], *, check: bool = True) -> str:
        argv = list(argv)
        self.calls.append(argv)
        if self.fail_on is not None and self.fail_on in " ".join(argv):
            raise RunError(f"lab command failed: {' '.join(argv)}: boom")
        if argv[:3] == ["ip", "netns", "list"]:
            return "".join(f"{ns} (id: {i})\n" for i, ns in enumerate(self.namespaces))
        if argv[:3] == ["ip", "netns", "add"]:
            self.namespaces.append(argv[3])
        if argv[:3] == ["ip", "netns", "delete"] and argv[3] in self.namespaces:
            self.namespaces.remove(argv[3])
        return ""

    def joined(self) -> list[str]:
        return [" ".join(c) for c in self.calls]


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "labs"
    monkeypatch.setenv(state_mod.STATE_DIR_ENV, str(directory))
    return directory


def make_state(**overrides: object) -> state_mod.LabState:
    args: dict[str, object] = {"n_hosts": 4, "rate_bytes_per_s": 125e6}
    args.update(overrides)
    return lab_mod.new_state(**args)  # type: ignore[arg-type]


# --- naming and state --------------------------------------------------------------


def test_new_state_names_fit_and_are_derived_from_the_id() -> None:
    state = make_state(name="bench")
    assert state_mod.NAMESPACE_RE.match(state.switch_namespace)
    assert [h.namespace for h in state.hosts] == [f"mfl-{state.lab_id}-h{i}" for i in range(4)]
    assert [h.ip for h in state.hosts] == [state.subnet.replace("0/24", str(i + 1))
                                           for i in range(4)]
    assert len({h.mac for h in state.hosts}) == 4
    assert all(len(dev) <= 15 for h in state.hosts for dev in (h.ifname, h.switch_port))
    assert state.status == "creating" and state.name == "bench"


def test_default_name_and_subnets_are_unique() -> None:
    a, b = make_state(), make_state()
    assert a.name == f"lab-{a.lab_id}" and a.lab_id != b.lab_id
    assert state_mod.subnet_for("000102") == "10.65.2.0/24"
    subnets = {state_mod.subnet_for(f"{i:06x}") for i in range(0, 2**15, 7)}
    assert all(s.startswith("10.") and 64 <= int(s.split(".")[1]) < 192 for s in subnets)


@pytest.mark.parametrize("bad", ["", "lab", "-x", "a b", "x" * 33, "é"])
def test_bad_names_are_rejected(bad: str) -> None:
    with pytest.raises(InputError, match="lab name"):
        make_state(name=bad)


@pytest.mark.parametrize(("field", "value", "match"), [
    ("n_hosts", 1, "hosts"), ("n_hosts", 65, "hosts"), ("mtu_bytes", 500, "mtu"),
    ("rate_bytes_per_s", 0.0, "rate"), ("burst_bytes", 9000, "burst"),
])
def test_bad_lab_arguments_quote_the_value(field: str, value: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        make_state(**{field: value})


def test_state_round_trips_and_names_are_claimed_once(state_dir: Path) -> None:
    state = make_state(name="one")
    state_mod.claim_name(state)
    assert state_mod.read_state("one") == state
    with pytest.raises(InputError, match="already exists"):
        state_mod.claim_name(make_state(name="one"))
    (state_dir / "junk.json").write_text("{not json")
    assert [s.name for s in state_mod.list_states()] == ["one"]
    state_mod.remove_state("one")
    assert state_mod.read_state("one") is None and state_mod.list_states() == []


def test_find_lab_and_hosts_for() -> None:
    with pytest.raises(InputError, match="exactly one lab"):
        lab_mod.find_lab("lab")
    up = dataclasses.replace(make_state(name="a"), status="up")
    state_mod.write_state(up)
    assert lab_mod.find_lab("lab").name == "a"
    hosts = lab_mod.hosts_for("a")
    assert [h.ip for h in hosts] == [h.ip for h in up.hosts]
    assert hosts[2].exec_prefix == ["ip", "netns", "exec", up.hosts[2].namespace]
    with pytest.raises(InputError, match="no lab named 'b'.*labs up: a"):
        lab_mod.hosts_for("b")


# --- shaping -------------------------------------------------------------------------


def test_payload_fraction_is_mss_over_frame() -> None:
    assert shaping.TCP_FRAME_HEADER_BYTES == 66
    assert shaping.payload_fraction(9000) == pytest.approx(8948 / 9014)
    assert shaping.payload_fraction(1500) == pytest.approx(1448 / 1514)
    assert shaping.payload_rate_bytes_per_s(125e6, 9000) == pytest.approx(125e6 * 8948 / 9014)


@pytest.mark.parametrize("rate", [1.25e6, 12.5e6, 125e6, 1.25e9])
def test_tbf_defaults_never_drop_and_never_time_out(rate: float) -> None:
    cfg = shaping.tbf_config(rate, mtu_bytes=9000, n_hosts=4)
    assert cfg.burst_bytes >= 2 * 9014
    assert cfg.burst_bytes >= shaping.gso_frame_bytes(9000) == 8 * 9014  # never split GSO
    assert cfg.burst_bytes >= rate * shaping.BURST_TIME_S
    assert cfg.limit_bytes >= 3 * cfg.window_bytes + cfg.burst_bytes  # every peer's window
    assert cfg.rto_min_s >= 0.2
    assert cfg.rto_min_s >= 3 * 3 * cfg.window_bytes / rate  # > the longest queueing delay


def test_tbf_command_line() -> None:
    cfg = shaping.tbf_config(125e6, mtu_bytes=9000, n_hosts=2, burst_bytes=20000,
                             limit_bytes=10**6)
    assert shaping.tbf_command("ns", "eth0", cfg) == [
        "tc", "-n", "ns", "qdisc", "replace", "dev", "eth0", "root", "tbf",
        "rate", "1000000000bit", "burst", "20000", "limit", "1000000"]


# --- counters ------------------------------------------------------------------------


def test_parse_counters_and_payload_accounting() -> None:
    q = parse_qdisc_json(TC_JSON, "eth0")
    assert (q.bytes, q.packets, q.drops, q.overlimits) == (6046674, 707, 0, 123)
    assert q.payload_bytes() == 6046674 - 707 * 66
    assert parse_retrans_segs(SNMP) == 7
    with pytest.raises(RunError, match="eth0"):
        parse_qdisc_json("[]", "eth0")
    with pytest.raises(RunError, match="RetransSegs"):
        parse_retrans_segs("Ip: a\nIp: 1\n")


def test_diff_and_account_per_link_direction() -> None:
    def host(i: int, up: int, down: int, pkts: int) -> HostCounters:
        def q(b: int) -> QdiscCounters:
            return QdiscCounters(bytes=b, packets=pkts, drops=0, overlimits=0)
        return HostCounters(index=i, uplink=q(up), downlink=q(down), tcp_retrans_segs=0)

    before = [host(0, 100, 100, 1), host(1, 100, 100, 1)]
    after = [host(0, 100 + 1000 + 66 * 3, 100 + 66 * 2, 1 + 3),
             host(1, 100 + 66 * 2, 100 + 1000 + 66 * 3, 1 + 3)]
    delta = diff_counters(after, before)
    predicted = [{1: 1000}, {0: 0}]
    assert measure.link_payloads(predicted) == ([1000, 0], [0, 1000])
    rows = measure.account(delta, predicted)
    assert [(r.host, r.direction, r.payload_bytes) for r in rows] == [
        (0, "up", 1000), (0, "down", -66), (1, "up", -66), (1, "down", 1000)]
    assert [r.exact for r in rows] == [True, False, False, True]


# --- commands --------------------------------------------------------------------------


def test_build_topology_makes_a_silent_network() -> None:
    rec = Recorder()
    state = make_state(n_hosts=3)
    netns.build_topology(state, rec)
    calls = rec.joined()
    assert sum(c.startswith("ip netns add") for c in calls) == 4
    assert sum("nud permanent" in c for c in calls) == 3 * 2  # every host knows every peer
    assert sum("fdb replace" in c and "static" in c for c in calls) == 3
    assert any("disable_ipv6=1" in c and state.switch_namespace in c for c in calls)
    assert all("tcp_early_retrans=0" in c for c in calls if "sysctl" in c and "-h" in c)
    assert sum("rps_cpus" in c for c in calls) == 2 * 3
    routes = [c for c in calls if " route add " in c]
    assert len(routes) == 3 and all(f"window {state.window_bytes}" in r for r in routes)
    assert all("mtu 9000" in c for c in calls if "type veth" in c)


def test_cpu_mask() -> None:
    assert netns.cpu_mask(2) == "00000003"
    assert netns.cpu_mask(40) == "000000ff,ffffffff"


def test_create_failure_removes_what_was_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns, "require_privileges", lambda: None)
    rec = Recorder(fail_on="type bridge")
    state = make_state(name="half")
    with pytest.raises(RunError, match="boom"):
        lab_mod.create(state, rec)
    assert rec.namespaces == []  # every namespace added was deleted again
    assert state_mod.read_state("half") is None


def test_create_then_destroy_with_fake_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns, "require_privileges", lambda: None)
    rec = Recorder(namespaces=["other-ns", "mfl-abcdef-h0"])
    up = lab_mod.create(make_state(name="x"), rec)
    assert up.status == "up" and state_mod.read_state("x") == up
    assert sum("tbf" in c for c in rec.joined()) == 2 * 4  # both directions of every link
    lab_mod.destroy(up, rec)
    assert rec.namespaces == ["other-ns", "mfl-abcdef-h0"]
    assert state_mod.read_state("x") is None
    kept = lab_mod.down_all(rec)  # a lab namespace with no state file here: --force only
    assert kept.removed_namespaces == [] and kept.kept_orphans == ["mfl-abcdef-h0"]
    removed = lab_mod.down_all(rec, force=True)  # leftovers of a crashed lab, found by name
    assert removed.removed_namespaces == ["mfl-abcdef-h0"] and rec.namespaces == ["other-ns"]


def test_down_all_keeps_labs_in_use_and_other_users_labs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns, "require_privileges", lambda: None)
    rec = Recorder()
    mine_done = lab_mod.create(make_state(name="done"), rec)  # its creator has exited
    state_mod.write_state(dataclasses.replace(mine_done, owner_pid=_exited_pid()))
    in_use = lab_mod.create(make_state(name="busy"), rec)  # created by a live process
    state_mod.write_state(dataclasses.replace(in_use, owner_pid=os.getppid()))
    theirs = lab_mod.create(make_state(name="theirs"), rec)
    state_mod.write_state(dataclasses.replace(theirs, owner_uid=state_mod.creator_uid() + 1,
                                              owner_pid=_exited_pid()))
    result = lab_mod.down_all(rec)
    assert result.removed_namespaces == sorted(mine_done.namespaces)
    assert dict(result.kept_labs) == {"busy": f"in use by pid {os.getppid()}",
                                      "theirs": f"created by uid {state_mod.creator_uid() + 1}"}
    assert result.kept_orphans == []
    assert [s.name for s in state_mod.list_states()] == ["busy", "theirs"]
    old_file = lab_mod.create(make_state(name="old"), rec)  # a state file without owner_uid
    state_mod.write_state(dataclasses.replace(old_file, owner_uid=None, owner_pid=_exited_pid()))
    assert lab_mod.down_all(rec).kept_labs[1] == ("old", "its creator was not recorded")
    forced = lab_mod.down_all(rec, force=True)
    assert forced.kept_labs == [] and state_mod.list_states() == [] and rec.namespaces == []


def _exited_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_the_creator_is_recorded_and_sudo_uid_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    state = make_state()
    assert (state.owner_pid, state.owner_uid) == (os.getpid(), state_mod.creator_uid())
    monkeypatch.setattr(os, "getuid", lambda: 0)
    monkeypatch.setenv("SUDO_UID", "1234")
    assert state_mod.creator_uid() == 1234


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda tmp: Path("/proc/nope"), "No such file or directory"),
    (lambda tmp: _plain_file(tmp), "it is a file, not a directory"),
])
def test_an_unusable_state_dir_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           make: object, fragment: str) -> None:
    from cli_helpers import assert_one_line_error, run_cli

    directory = make(tmp_path)  # type: ignore[operator]
    monkeypatch.setenv(state_mod.STATE_DIR_ENV, str(directory))
    with pytest.raises(InputError, match=fragment):
        state_mod.claim_name(make_state())
    proc = run_cli("lab", "hosts", "up", "--hosts", "2")
    if os.geteuid() == 0:  # without root the privilege check answers first (exit 1)
        assert_one_line_error(proc, f"MLFLEET_LAB_STATE_DIR(='{directory}')", fragment)


def _plain_file(tmp: Path) -> Path:
    path = tmp / "plain"
    path.write_text("")
    return path


def test_lab_context_manager_with_fake_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns, "require_privileges", lambda: None)
    rec = Recorder()
    with lab_mod.Lab(hosts=2, rate_bytes_per_s=12.5e6, runner=rec) as lab:
        assert len(lab.hosts) == 2 and len(rec.namespaces) == 3
        assert lab in lab_mod._REGISTRY._labs
    assert rec.namespaces == [] and lab not in lab_mod._REGISTRY._labs
    with pytest.raises(RunError, match="not up"):
        _ = lab.state


def test_not_root_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # the os module netns uses
    monkeypatch.setattr(shutil, "which", lambda tool: f"/usr/sbin/{tool}")
    with pytest.raises(RunError, match="needs root"):
        netns.require_privileges()
    from mlfleet.cli import main

    assert main(["lab", "hosts", "up", "--hosts", "2"]) == 1


def test_cli_rejects_bad_input() -> None:
    from cli_helpers import assert_one_line_error, run_cli

    assert_one_line_error(run_cli("lab", "hosts", "up", "--bw", "fast"), "fast")
    assert_one_line_error(run_cli("lab", "hosts", "up", "--hosts", "1"), "hosts(=1)")
    assert_one_line_error(run_cli("lab", "hosts", "down", "--name", "x", "--all"), "--all")
    assert_one_line_error(run_cli("lab", "hosts", "down", "--force"), "--force goes with --all")


def test_cli_status_reports_labs_and_missing_namespaces() -> None:
    from cli_helpers import run_cli

    state = dataclasses.replace(make_state(name="ghost"), status="up")
    state_mod.write_state(state)
    doc = json.loads(run_cli("lab", "hosts", "status", "--json").stdout)
    (lab,) = doc["labs"]
    assert lab["name"] == "ghost" and lab["missing_namespaces"] == state.namespaces
    assert lab["payload_rate_bytes_per_s"] == pytest.approx(125e6 * 8948 / 9014)
    text = run_cli("lab", "hosts", "status").stdout
    assert "lab ghost (up, MISSING" in text and state.hosts[3].ip in text


@pytest.mark.parametrize("name", ["../x", "a/b", "", "x" * 40])
def test_a_name_that_is_not_a_lab_name_never_becomes_a_path(name: str,
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from mlfleet.comm.lab import state as state_mod

    monkeypatch.setenv(state_mod.STATE_DIR_ENV, str(tmp_path / "labs"))
    with pytest.raises(InputError, match="not allowed"):
        state_mod.read_state(name)
    with pytest.raises(InputError, match="not allowed"):
        state_mod.remove_state(name)
