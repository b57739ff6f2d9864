"""The catalog loader: units from key suffixes, a source for every value, clear errors."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.catalog.loader import Entry, parse_data_file
from mlfleet.errors import CatalogError

SOURCE = "Example datasheet (2024), https://example.com/datasheet"


def data_file(values: dict[str, Any], **overrides: Any) -> str:
    """YAML text of a one-entry accelerator file; ``overrides`` replace top-level/entry keys."""
    entry: dict[str, Any] = {"aliases": ["ex"], "summary": "an example", "source": "ds",
                             "values": values}
    entry.update(overrides.pop("entry", {}))
    doc: dict[str, Any] = {"kind": "accelerator", "sources": {"ds": SOURCE},
                           "entries": {"Example": entry}}
    doc.update(overrides)
    return yaml.safe_dump(doc, sort_keys=False)


def parse_one(values: dict[str, Any], **overrides: Any) -> Entry:
    (entry,) = parse_data_file(data_file(values, **overrides), "test.yaml")
    return entry


def test_units_come_from_key_suffixes() -> None:
    entry = parse_one({"hbm_bytes": "80GiB", "bw_bytes_per_s": "400Gb/s", "latency_s": "2us",
                       "tdp_w": "0.7kW", "fwd_flop": "3GFLOP", "cost_usd_per_gb_month": "$0.023/GB-month"})
    assert entry.get("hbm_bytes") == 80 * 2**30
    assert entry.get("bw_bytes_per_s") == 50e9  # bits, not bytes
    assert entry.get("latency_s") == pytest.approx(2e-6)
    assert entry.get("tdp_w") == pytest.approx(700.0)
    assert entry.get("fwd_flop") == 3e9
    assert entry.get("cost_usd_per_gb_month") == pytest.approx(0.023)


def test_parent_key_suffix_applies_to_children() -> None:
    entry = parse_one({"flops_per_s": {"bf16": "989.5TFLOP/s", "fp8": "1.979PFLOP/s"}})
    assert entry.group("flops_per_s") == {"bf16": 989.5e12, "fp8": pytest.approx(1.979e15)}


def test_keys_without_suffix_keep_raw_values() -> None:
    entry = parse_one({"vendor": "NVIDIA", "year": 2022, "nvlink": True, "rows": [1, 2, 3],
                       "shape": {"layers": 32}})
    assert entry.get("vendor") == "NVIDIA"
    assert entry.get("year") == 2022
    assert entry.get("nvlink") is True
    assert entry.get("rows") == [1, 2, 3]
    assert entry.get("shape.layers") == 32


def test_value_level_source_and_note_override_the_default() -> None:
    other = "Other paper (2020), https://example.org/paper"
    text = data_file({"tdp_w": {"value": "700W", "source": "paper", "note": "configurable"}},
                     sources={"ds": SOURCE, "paper": other})
    (entry,) = parse_data_file(text, "test.yaml")
    item = entry.values["tdp_w"]
    assert (item.value, item.source, item.note) == (700.0, other, "configurable")


def test_default_source_applies_to_plain_values() -> None:
    entry = parse_one({"hbm_bytes": "16GB"})
    assert entry.values["hbm_bytes"].source == SOURCE
    assert entry.values["hbm_bytes"].note == ""


def test_value_without_any_source_is_rejected() -> None:
    with pytest.raises(CatalogError, match=r"hbm_bytes has no source"):
        parse_one({"hbm_bytes": "80GB"}, entry={"source": None})


def test_unknown_source_key_is_rejected_naming_it() -> None:
    with pytest.raises(CatalogError, match=r"tdp_w cites unknown source 'nope'"):
        parse_one({"tdp_w": {"value": "700W", "source": "nope"}})


def test_empty_source_text_is_rejected() -> None:
    with pytest.raises(CatalogError, match="unknown source 'ds'"):
        parse_one({"tdp_w": "700W"}, sources={"ds": "   "})


@pytest.mark.parametrize(("key", "raw"), [
    ("hbm_bytes", "80 parsecs"),     # unknown unit
    ("hbm_bytes", "3ms"),            # wrong dimension
    ("latency_s", "fast"),           # not a quantity
    ("bw_bytes_per_s", "400Gb"),     # size where a rate is expected
    ("tdp_w", "1e999W"),             # not finite
])
def test_bad_units_are_rejected_naming_file_entry_and_path(key: str, raw: str) -> None:
    with pytest.raises(CatalogError, match=rf"test.yaml:Example: {key}: "):
        parse_one({key: raw})


def test_bad_top_level_kind_is_rejected() -> None:
    with pytest.raises(CatalogError, match="top-level 'kind' must be one of"):
        parse_data_file(data_file({}, kind="gpu"), "test.yaml")


def test_non_mapping_document_is_rejected() -> None:
    with pytest.raises(CatalogError, match="top-level 'kind'"):
        parse_data_file("- just\n- a list\n", "test.yaml")


def test_as_dict_carries_sources_and_notes() -> None:
    entry = parse_one({"tdp_w": {"value": "700W", "note": "max"}, "hbm_bytes": "80GB"})
    values = entry.as_dict()["values"]
    assert values["tdp_w"] == {"value": 700.0, "source": SOURCE, "note": "max"}
    assert values["hbm_bytes"] == {"value": 80e9, "source": SOURCE}


@given(st.floats(min_value=1e-3, max_value=1e15, allow_nan=False, allow_infinity=False))
def test_numbers_with_units_round_trip(x: float) -> None:
    entry = parse_one({"hbm_bytes": f"{x!r} B", "latency_s": f"{x!r}s", "plain_bytes": x})
    assert math.isclose(entry.get("hbm_bytes"), x, rel_tol=1e-12)
    assert math.isclose(entry.get("latency_s"), x, rel_tol=1e-12)
    assert entry.get("plain_bytes") == x
