"""``mlfleet features materialize`` and ``mlfleet features online``: JSON, policies, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from feature_repo_builders import T0_S, make_repo
from redis_server import redis_server, redis_url  # noqa: F401  (fixtures)

from cli_helpers import assert_one_line_error, run_cli, run_main
from mlfleet.errors import InputError
from mlfleet.storage.features.online_cli import parse_time

ROWS = [(1, T0_S + 10, T0_S + 10, 1, 0.1), (1, T0_S + 20, T0_S + 21, 2, 0.2),
        (2, T0_S - 7200, T0_S - 7200, 7, 0.7)]   # user 2's only row is two hours old
END = "2023-11-14T22:14:00"                       # T0 + 40 s
NOW = "2023-11-14T22:15:00"                       # T0 + 100 s


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = run_main(capsys, "features", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def online(capsys: pytest.CaptureFixture[str], repo: Path, *extra: str,
           features: str = "user_stats:ctr,user_derived:ctr_pct") -> Any:
    return cli_json(capsys, "online", str(repo), "--entity", "user_id=1,2,9",
                    "--features", features, "--now", NOW, *extra)


def test_materialize_then_online_serves_values_with_age_and_staleness(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, ROWS)
    done = cli_json(capsys, "materialize", str(repo), "--start", "2023-11-14T00:00:00",
                    "--end", END)
    assert [(v["view"], v["entities"], v["rows_written"]) for v in done["views"]] == [
        ("user_stats", 2, 2)]
    rows = online(capsys, repo)["rows"]
    assert [r["entity"] for r in rows] == [{"user_id": "1"}, {"user_id": "2"}, {"user_id": "9"}]
    one, two, nine = (r["features"] for r in rows)
    assert one["user_stats:ctr"] == {"value": 0.2, "age_s": 80.0, "status": "fresh",
                                     "stale": False, "defaulted": False, "event_ts_s": T0_S + 20,
                                     "event_ts": "2023-11-14T22:13:40+00:00"}
    assert one["user_derived:ctr_pct"]["value"] == pytest.approx(20.0)
    assert (two["user_stats:ctr"]["value"], two["user_stats:ctr"]["stale"]) == (0.7, True)
    assert two["user_derived:ctr_pct"]["status"] == "stale"
    assert nine["user_stats:ctr"]["status"] == "missing"
    assert nine["user_stats:ctr"]["value"] is None and nine["user_stats:ctr"]["age_s"] is None


def test_default_policy_replaces_stale_and_missing_values(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, ROWS, stale_policy="default", defaults={"user_stats:ctr": 0.05})
    cli_json(capsys, "materialize", str(repo), "--start", "2023-11-14T00:00:00", "--end", END)
    one, two, nine = (r["features"] for r in online(capsys, repo)["rows"])
    assert (one["user_stats:ctr"]["value"], one["user_stats:ctr"]["defaulted"]) == (0.2, False)
    assert two["user_stats:ctr"] | {"age_s": None} == {
        "value": 0.05, "status": "stale", "stale": True, "defaulted": True,
        "event_ts_s": T0_S - 7200, "event_ts": "2023-11-14T20:13:20+00:00", "age_s": None}
    assert two["user_derived:ctr_pct"]["value"] == pytest.approx(5.0)
    assert (nine["user_stats:ctr"]["value"], nine["user_stats:ctr"]["status"]) == (0.05,
                                                                                   "missing")


def test_end_alone_continues_and_text_output_reads(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, ROWS)
    cli_json(capsys, "materialize", str(repo), "--start", "2023-11-14T00:00:00",
             "--end", "2023-11-14T22:13:35")
    second = cli_json(capsys, "materialize", str(repo), "--end", END)["views"][0]
    assert (second["start_ts_s"], second["entities"]) == (T0_S + 15, 1)
    code, out, _ = run_main(capsys, "features", "online", str(repo), "--entity", "user_id=1",
                            "--features", "user_stats:clicks", "--now", NOW)
    assert code == 0 and "user_stats:clicks = 2 (1.33 min old)" in out


def test_online_before_any_materialization_creates_nothing(capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, ROWS)
    rows = online(capsys, repo)["rows"]
    assert {r["features"]["user_stats:ctr"]["status"] for r in rows} == {"missing"}
    assert not (repo / "online.db").exists()


def test_redis_backend_end_to_end(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                  redis_url: str) -> None:  # noqa: F811
    repo = tmp_path / "repo"
    make_repo(repo, ROWS, backend="redis", url=redis_url)
    done = cli_json(capsys, "materialize", str(repo), "--start", "2023-11-14T00:00:00",
                    "--end", END)
    assert done["backend"] == "redis" and done["views"][0]["rows_written"] == 2
    one = online(capsys, repo)["rows"][0]["features"]
    assert one["user_stats:ctr"]["value"] == 0.2 and one["user_stats:ctr"]["age_s"] == 80.0
    assert not (repo / "online.db").exists()


@pytest.mark.parametrize(("args", "fragment"), [
    (["online", "{repo}", "--entity", "user_id=1", "--features", "user_stats:nope"],
     "user_stats:nope does not exist"),
    (["online", "{repo}", "--entity", "user_id=1", "--features", "nope:x"],
     "'nope' (in 'nope:x') does not exist"),
    (["online", "{repo}", "--entity", "user_id", "--features", "user_stats:ctr"],
     "--entity(='user_id') must be KEY=VALUE"),
    (["online", "{repo}", "--entity", "user_id=1,", "--features", "user_stats:ctr"],
     "--entity(='user_id=1,')"),
    (["online", "{repo}", "--entity", "item_id=1", "--features", "user_stats:ctr"],
     "needs join key 'user_id'"),
    (["online", "{repo}", "--entity", "user_id=1", "--features", "user_stats:ctr", "--now",
      "soon"], "--now(='soon')"),
    (["materialize", "{repo}", "--start", "2024-01-02", "--end", "2024-01-01"],
     "--start(='2024-01-02') is after --end(='2024-01-01')"),
    (["materialize", "{repo}", "--end", "2024-01-01", "--views", "nope"],
     "'nope' does not exist; known: user_stats"),
])
def test_bad_input_is_one_line_and_leaves_no_store(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path, args: list[str],
                                                   fragment: str) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, ROWS)
    code, _, err = run_main(capsys, "features", *(a.format(repo=repo) for a in args))
    assert code == 2 and err.count("\n") == 1 and fragment in err, err
    assert not (repo / "online.db").exists()


def test_corrupt_source_removes_the_store_it_created(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, ROWS)
    (repo / "data" / "user_stats.parquet").write_bytes(b"PAR1 garbage PAR1")
    proc = run_cli("features", "materialize", str(repo), "--end", END, "--json")
    assert_one_line_error(proc, "data/user_stats.parquet", "is not a readable Parquet file")
    assert proc.stdout == "" and sorted(p.name for p in repo.iterdir()) == ["data",
                                                                            "features.yaml"]


def test_unreachable_redis_is_one_line_naming_the_url(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, ROWS, backend="redis", url="redis://127.0.0.1:1/0")
    proc = run_cli("features", "materialize", str(repo), "--end", END)
    assert_one_line_error(proc, "redis://127.0.0.1:1/0", "unreachable")


def test_parse_time_reads_iso_with_and_without_offset() -> None:
    assert parse_time("--end", "2023-11-14T22:13:20") == T0_S
    assert parse_time("--end", "2023-11-14T23:13:20+01:00") == T0_S
    assert parse_time("--end", "2023-11-14T22:13:20Z") == T0_S


def test_dry_run_reports_what_would_be_written_and_writes_nothing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, ROWS)
    doc = cli_json(capsys, "materialize", str(repo), "--start", "2023-11-14T00:00:00",
                   "--end", END, "--dry-run")
    assert doc["dry_run"] is True
    assert [(v["entities"], v["rows_written"]) for v in doc["views"]] == [(2, 0)]
    assert not (repo / "online.db").exists()


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                  "nan", "8", "2026-01-01T00:00:00+25:00"])
def test_times_outside_what_prints_are_refused(text: str) -> None:
    with pytest.raises(InputError, match="must be an ISO 8601 time"):
        parse_time("--now", text)


def test_an_early_end_whose_ttl_start_is_before_year_1_still_reports(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, ROWS)
    view = cli_json(capsys, "materialize", str(repo), "--end", "0001-01-01T00:30:00",
                    "--dry-run")["views"][0]
    assert view["start"] is None and view["start_ts_s"] == pytest.approx(-62135596800 - 1800)


def test_composite_keys_from_int_and_double_columns(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    """Keys from an int64 and a double column match the CLI's text for the same entity."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    ts = pa.array([T0_S * 10**6] * 3, pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table({"user_id": pa.array([1, 1, 2], pa.int64()),
                             "item_id": pa.array([5.0, 6.0, 5.5], pa.float64()),
                             "ts": ts, "score": [0.1, 0.2, 0.3]}), repo / "data" / "s.parquet")
    (repo / "f.yaml").write_text(yaml.safe_dump({
        "entities": [{"name": "user", "join_key": "user_id"},
                     {"name": "item", "join_key": "item_id"}],
        "feature_views": [{"name": "pair", "entities": ["user", "item"],
                           "source": "data/s.parquet", "timestamp_field": "ts",
                           "features": [{"name": "score", "dtype": "float64"}]}]}))
    cli_json(capsys, "materialize", str(repo), "--end", END)
    rows = cli_json(capsys, "online", str(repo), "--entity", "user_id=1,1,2,2",
                    "--entity", "item_id=5,6.0,5.5,5", "--features", "pair:score",
                    "--now", NOW)["rows"]
    # Keys match as text: the double 6.0 is stored as "6", so a typed "6.0" finds nothing.
    assert [r["features"]["pair:score"]["value"] for r in rows] == [0.1, None, 0.3, None]
