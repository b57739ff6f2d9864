"""Allocation files: the bundled example reads; bad files name file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlfleet.ops.cost.allocation_file import AllocationFileError, read_allocations
from mlfleet.ops.cost.cli_options import example
from mlfleet.ops.cost.resources import Resource

HEADER = "name,team,model,duration_h,gpu_requested,gpu_used"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alloc.csv"
    path.write_text(text)
    return path


def test_bundled_example_reads_with_a_mig_slice() -> None:
    found = {a.name: a for a in read_allocations(example("allocations.csv"),
                                                 metrics=["requests"])}
    assert found["notebook-ranker"].requested[Resource.GPU] == pytest.approx(1 / 7)
    assert found["serve-dlrm"].metrics["requests"] == 9e6
    assert found["gateway"].team == "shared"


def test_start_and_end_give_the_period(tmp_path: Path) -> None:
    path = write(tmp_path, "name,team,model,start_s,end_s,gpu_requested,gpu_used\n"
                           "j,t,m,3600,10800,1,1\n")
    assert read_allocations(path)[0].duration_h == pytest.approx(2.0)


@pytest.mark.parametrize(("text", "fragments"), [
    ("name,team,duration_h,gpu_requested,gpu_used\nj,t,1,1,1\n", ["missing column(s) model"]),
    ("name,team,model,gpu_requested,gpu_used\nj,t,m,1,1\n", ["duration_h (or start_s"]),
    (f"{HEADER}\nj,t,m,1,1,-0.5\n", ["line 2", "gpu_used(='-0.5')"]),
    (f"{HEADER}\nj,t,m,1,nan,1\n", ["line 2", "gpu_requested(='nan')"]),
    (f"{HEADER}\nj,t,m,0,1,1\n", ["line 2", "period must be > 0"]),
    (f"{HEADER}\nj,,m,1,1,1\n", ["line 2", "team is empty"]),
    (f"{HEADER},mig\nj,t,m,1,1,1,A100-80GB:5g.50gb\n", ["line 2", "5g.50gb"]),
    (f"{HEADER}\n", ["no allocations"]),
    ("", ["empty file"]),
])
def test_bad_files_are_named(tmp_path: Path, text: str, fragments: list[str]) -> None:
    with pytest.raises(AllocationFileError) as info:
        read_allocations(write(tmp_path, text))
    for fragment in fragments:
        assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_a_metric_column_the_file_lacks_is_named(tmp_path: Path) -> None:
    with pytest.raises(AllocationFileError, match="missing column.*requests"):
        read_allocations(write(tmp_path, f"{HEADER}\nj,t,m,1,1,1\n"), metrics=["requests"])
