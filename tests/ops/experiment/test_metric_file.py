"""The metric-file reader: columns, file order, arms, and one-line errors for bad files."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from mlfleet.ops.experiment import metric_file
from mlfleet.ops.experiment.errors import ExperimentInputError
from mlfleet.ops.experiment.metric_file import read_metric_file, require_arms


def _write(tmp_path: Path, text: str, name: str = "m.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_rows_in_file_order_with_optional_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "unit_id,arm,value,pre_value,arm_b,time\n"
                            "u1,control,1.5,1,off,0\nu2,treatment,2,0.5,on,1\n"
                            "u3,control,3,2,on,2\n")
    data = read_metric_file(path)
    assert data.arms == ("control", "treatment")
    assert data.arm_index.tolist() == [0, 1, 0]
    assert data.value.tolist() == [1.5, 2.0, 3.0]
    assert data.pre_value is not None and data.pre_value.tolist() == [1.0, 0.5, 2.0]
    assert data.arms_b == ("off", "on") and data.arm_b_index is not None
    assert data.arm_b_index.tolist() == [0, 1, 1]
    assert data.time is not None and data.time.tolist() == [0.0, 1.0, 2.0]
    assert data.counts().tolist() == [2, 1]
    assert data.arm_values("control").tolist() == [1.5, 3.0]


def test_optional_columns_absent_are_none(tmp_path: Path) -> None:
    data = read_metric_file(_write(tmp_path, "arm,unit_id,value\na,1,0\nb,2,1\n"))
    assert data.pre_value is None and data.arms_b is None and data.time is None
    assert data.rows == 2


def test_experiment_column_selects_rows(tmp_path: Path) -> None:
    text = "unit_id,arm,value,experiment\n1,a,1,e1\n2,b,2,e1\n3,a,5,e2\n4,b,6,e2\n"
    path = _write(tmp_path, text)
    assert read_metric_file(path, experiment="e2").value.tolist() == [5.0, 6.0]
    with pytest.raises(ExperimentInputError, match="holds 2 experiments"):
        read_metric_file(path)
    with pytest.raises(ExperimentInputError, match="experiment\\(='e9'\\) is not in"):
        read_metric_file(path, experiment="e9")


@pytest.mark.parametrize(("text", "fragment"), [
    ("unit_id,arm\n1,a\n", "column 'value' is missing; required: unit_id, arm, value"),
    ("unit_id,arm,value\n1,a,1\n2,b,x\n", "line 3: value(='x') must be a number"),
    ("unit_id,arm,value\n1,a,1\n2,b,nan\n", "line 3: value(='nan') must be a finite number"),
    ("unit_id,arm,value\n1,a,1\n2,a,2\n", "1 arm (a); an experiment needs at least 2 arms"),
    ("unit_id,arm,value\n1,,1\n", "line 2: column 'arm' is empty"),
    ("unit_id,arm,value\n", "no rows"),
    ("", "column 'unit_id' is missing"),
    ("unit_id,arm,value\n1,a\n", "line 2: expected 3 fields"),
])
def test_bad_files_raise_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ExperimentInputError) as err:
        read_metric_file(_write(tmp_path, text))
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(ExperimentInputError, match="does not exist"):
        read_metric_file(tmp_path / "nope.csv")
    path = tmp_path / "bin.csv"
    path.write_bytes(b"unit_id,arm,value\n\xff\xfe,a,1\n")
    with pytest.raises(ExperimentInputError, match="not a UTF-8"):
        read_metric_file(path)


def test_require_arms_names_the_arm_with_zero_users(tmp_path: Path) -> None:
    data = read_metric_file(_write(tmp_path, "unit_id,arm,value\n1,a,1\n2,b,2\n"))
    require_arms(data, ["a", "b"])
    with pytest.raises(ExperimentInputError, match="arm 'c' has zero users"):
        require_arms(data, ["a", "c"])


def test_parquet_matches_csv(tmp_path: Path) -> None:
    if importlib.util.find_spec("pyarrow") is None and not os.environ.get("CI"):
        pytest.skip("pyarrow (the data extra) is not installed")
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    arms = rng.choice(["control", "treatment"], size=100)
    values = rng.normal(size=100)
    pq.write_table(pa.table({"unit_id": np.arange(100), "arm": arms, "value": values}),
                   tmp_path / "m.parquet")
    data = read_metric_file(tmp_path / "m.parquet")
    assert np.array_equal(data.value, values)
    assert [data.arms[i] for i in data.arm_index] == arms.tolist()


def test_chunks_keep_order_labels_and_line_numbers(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 3 rows: arms keep their first-appearance order across chunks, the
    experiment filter applies per chunk, and an error's line counts a quoted newline."""
    monkeypatch.setattr(metric_file, "CHUNK_ROWS", 3)
    rows = [f"{i},{'ba'[i % 2] if i < 4 else 'c'},{i},{'e1' if i % 3 else 'e2'}\n"
            for i in range(10)]
    path = _write(tmp_path, "unit_id,arm,value,experiment\n" + "".join(rows))
    data = read_metric_file(path, experiment="e1")
    assert data.arms == ("a", "b", "c")
    assert data.value.tolist() == [1.0, 2.0, 4.0, 5.0, 7.0, 8.0]
    bad = _write(tmp_path, 'unit_id,arm,value\n"u\n1",a,1\nu2,b,2\nu3,a,3\nu4,b,x\n')
    with pytest.raises(ExperimentInputError, match="line 6: value\\(='x'\\)"):
        read_metric_file(bad)


def test_files_over_the_limit_are_refused(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metric_file, "MAX_FILE_BYTES", 10)
    with pytest.raises(ExperimentInputError, match="bytes; at most 10 bytes"):
        read_metric_file(_write(tmp_path, "unit_id,arm,value\n1,a,1\n"))
