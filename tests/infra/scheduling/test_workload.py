"""Workload files: the three layouts, and one-line errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlfleet.infra.scheduling.pollux_data import WorkloadNameError
from mlfleet.infra.scheduling.workload import WorkloadError, load_workload

POLLUX_HEADER = "name,time,application,num_replicas,batch_size\n"


def write(tmp_path: Path, text: str, name: str = "w.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_bundled_workload_by_name() -> None:
    w = load_workload("workload-3@0.5")
    assert w.kind == "pollux" and len(w.specs) == 80
    first = w.specs[0]
    assert first.application is not None and first.batch_size is not None
    assert first.min_gpus == 1 and first.max_gpus is not None


def test_trace_layout_with_optional_columns(tmp_path: Path) -> None:
    w = load_workload(write(tmp_path, "name,submit_s,gpus,duration_s,team,priority\n"
                                      "a,0,2,100,ml,5\n\nb,10,1,50,,\n"))
    assert [s.name for s in w.specs] == ["a", "b"]
    assert w.specs[0].team == "ml" and w.specs[0].priority == 5
    assert w.specs[1].team == "default" and w.specs[1].duration_s == 50.0


@pytest.mark.parametrize(("text", "fragment"), [
    ("name,time,application,num_replicas\nx,0,cifar10,2\n", "missing column(s) batch_size"),
    (POLLUX_HEADER + "x,0,cifar10,-2,2048\n", "num_replicas(='-2') must be an integer > 0"),
    (POLLUX_HEADER + "x,0,cifar10,0,2048\n", "num_replicas(='0')"),
    (POLLUX_HEADER + "x,0,cifar10,two,2048\n", "num_replicas(='two')"),
    (POLLUX_HEADER + "x,0,cifar10,1.5,2048\n", "must be an integer"),
    (POLLUX_HEADER + "x,-5,cifar10,2,2048\n", "time(='-5') must be a number >= 0"),
    (POLLUX_HEADER + "x,0,gpt5,2,2048\n", "application(='gpt5') is not profiled; known: bert"),
    (POLLUX_HEADER + "x,0,cifar10,2,99999\n", "batch_size(=99999) of cifar10 must lie in"),
    (POLLUX_HEADER + "x,0,cifar10,2\n", "line 2: 4 fields, header has 5"),
    ("name,submit_s,gpus,duration_s\nx,0,1,0\n", "duration_s(='0') must be a number > 0"),
    ("name,submit_s,gpus,duration_s\nx,0,1,nan\n", "duration_s(='nan')"),
    ("", "empty file"),
    (POLLUX_HEADER, "no jobs"),
])
def test_bad_files_raise_one_line_errors(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(WorkloadError) as err:
        load_workload(write(tmp_path, text))
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(WorkloadError, match="not a readable CSV"):
        load_workload(str(path))


def test_unknown_bundled_name() -> None:
    with pytest.raises(WorkloadNameError, match="workload-9"):
        load_workload("workload-9")
