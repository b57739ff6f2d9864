"""A user catalog (``MLFLEET_CATALOG`` / ``mlfleet --catalog DIR``) adds and overrides entries,
value by value, keeping a source for every value; bad user files are one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli_helpers import assert_one_line_error, run_cli
from mlfleet import catalog
from mlfleet.catalog.types import Accelerator
from mlfleet.catalog.user import USER_CATALOG_ENV, using_catalog
from mlfleet.errors import CatalogError

QUOTE = "Our vendor quote (2026), https://example.com/quote"


def write_catalog(directory: Path, entries: dict[str, Any], *, kind: str = "accelerator",
                  name: str = "mine.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    doc = {"kind": kind, "sources": {"quote": QUOTE}, "entries": entries}
    (directory / name).write_text(yaml.safe_dump(doc, sort_keys=False))
    return directory


MY_CHIP = {"aliases": ["mychip"], "summary": "an in-house accelerator", "source": "quote",
           "values": {"flops_per_s": {"bf16": "500TFLOP/s"}, "hbm_bytes": "64GB",
                      "hbm_bw_bytes_per_s": "2TB/s"}}
H100_PRICE = {"source": "quote", "values": {"price": {"cloud_usd_per_h_low": 1.5,
                                                      "cloud_usd_per_h_high": 1.8}}}


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = write_catalog(tmp_path / "cat", {"MyChip": MY_CHIP, "H100": H100_PRICE})
    monkeypatch.setenv(USER_CATALOG_ENV, str(directory))
    return directory


def test_an_entry_is_added_with_its_sources(user_dir: Path) -> None:
    chip = catalog.get("mychip")
    assert chip.name == "MyChip" and chip.origin == str(user_dir / "mine.yaml")
    assert chip.values["hbm_bytes"].source == QUOTE
    assert Accelerator.from_name("MyChip").hbm_bytes == 64e9
    assert "MyChip" in catalog.names("accelerator")


def test_an_override_replaces_only_the_values_it_gives(user_dir: Path) -> None:
    h100 = catalog.get("H100")
    assert h100.name == "H100-SXM" and "H100" in h100.aliases
    assert h100.values["price.cloud_usd_per_h_low"].value == 1.5
    assert h100.values["price.cloud_usd_per_h_low"].source == QUOTE
    assert h100.values["hbm_bytes"].source.startswith("NVIDIA H100")  # the bundled value stays
    assert h100.summary.startswith("NVIDIA Hopper H100 SXM5")


def test_without_a_user_catalog_the_bundled_entries_are_untouched(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(USER_CATALOG_ENV, raising=False)
    assert catalog.get("H100").get("price.cloud_usd_per_h_low") == 2.99
    with pytest.raises(CatalogError, match="unknown name 'MyChip'"):
        catalog.get("MyChip")


def test_using_catalog_restores_the_previous_setting(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(USER_CATALOG_ENV, raising=False)
    directory = write_catalog(tmp_path / "cat", {"MyChip": MY_CHIP})
    with using_catalog([str(directory)]):
        assert catalog.get("MyChip").name == "MyChip"
    assert USER_CATALOG_ENV not in os.environ
    with pytest.raises(CatalogError, match="--catalog"), \
            using_catalog([str(tmp_path / "missing")]):
        pass


@pytest.mark.parametrize(("entries", "fragment"), [
    ({"NoSource": {"summary": "x", "values": {"hbm_bytes": "1GB"}}},
     "NoSource: hbm_bytes has no source"),
    ({"Empty": {"summary": "x", "source": "quote"}}, "Empty: has no values"),
    ({"Bad": {"source": "quote", "values": {"hbm_bytes": "lots"}}}, "Bad: hbm_bytes"),
    ({"Bad": "just a string"}, "Bad: an entry must be a mapping"),
    ({"Bad": {"source": "nope", "values": {"hbm_bytes": "1GB"}}}, "cites unknown source 'nope'"),
    ({"Mine": {"aliases": ["H100"], "source": "quote", "values": {"hbm_bytes": "1GB"}},
      "Other": {"aliases": ["h100"], "source": "quote", "values": {"hbm_bytes": "1GB"}}},
     "also defined in"),
])
def test_bad_user_entries_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      entries: dict[str, Any], fragment: str) -> None:
    directory = write_catalog(tmp_path / "cat", entries)
    monkeypatch.setenv(USER_CATALOG_ENV, str(directory))
    with pytest.raises(CatalogError, match=fragment.replace("(", r"\(")):
        catalog.get("H100")


def test_an_override_of_another_kind_is_refused(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    directory = write_catalog(tmp_path / "cat", {"H100": H100_PRICE}, kind="storage")
    monkeypatch.setenv(USER_CATALOG_ENV, str(directory))
    with pytest.raises(CatalogError, match="H100 is of kind 'accelerator' in the catalog, not 'storage'"):
        catalog.names()


def test_cli_catalog_option_and_env_var(user_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shown = run_cli("catalog", "show", "MyChip", "--json")
    assert shown.returncode == 0, shown.stderr  # from MLFLEET_CATALOG
    assert json.loads(shown.stdout)["values"]["hbm_bytes"]["source"] == QUOTE
    monkeypatch.delenv(USER_CATALOG_ENV)
    assert run_cli("catalog", "show", "MyChip").returncode == 2
    via_option = run_cli("--catalog", str(user_dir), "catalog", "show", "MyChip")
    assert via_option.returncode == 0, via_option.stderr
    assert f"added or overridden by the user catalog file {user_dir / 'mine.yaml'}" in (
        via_option.stdout)
    roofline = run_cli("--catalog", str(user_dir), "infra", "roofline", "-a", "MyChip",
                       "--flop", "1e12", "--bytes", "1e9", "--json")
    assert roofline.returncode == 0, roofline.stderr


@pytest.mark.parametrize(("setup", "fragment"), [
    ("missing", "--catalog(="),
    ("empty", "has no *.yaml files"),
    ("binary", "not UTF-8 text"),
    ("badyaml", "invalid YAML"),
    ("nosource", "has no source"),
])
def test_cli_bad_user_catalog_is_one_line(tmp_path: Path, setup: str, fragment: str) -> None:
    directory = tmp_path / "cat"
    if setup != "missing":
        directory.mkdir()
    if setup == "binary":
        (directory / "x.yaml").write_bytes(b"\xff\xfe\x00\x01")
    if setup == "badyaml":
        (directory / "x.yaml").write_text("kind: accelerator\nentries: {a: [\n")
    if setup == "nosource":
        write_catalog(directory, {"X": {"values": {"hbm_bytes": "1GB"}}})
    assert_one_line_error(run_cli("--catalog", str(directory), "catalog", "list"), fragment)


def test_the_catalog_option_does_not_outlive_its_command(
        user_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from mlfleet.cli import main

    monkeypatch.delenv(USER_CATALOG_ENV)
    assert main(["--catalog", str(user_dir), "catalog", "show", "MyChip", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "MyChip"
    assert USER_CATALOG_ENV not in os.environ
    with pytest.raises(CatalogError, match="unknown name 'MyChip'"):
        catalog.get("MyChip")
