"""The bundled catalog data: sourced, complete, typed, physically sane, reachable from the CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlfleet import catalog
from mlfleet.catalog.loader import load_bundled
from mlfleet.catalog.types import Accelerator, Cluster, Interconnect, StorageMedium, Workload
from mlfleet.errors import CatalogError

REQUIRED = {
    "accelerator": ["A100-40GB", "A100-80GB", "H100-SXM", "H200", "B200", "MI300X", "TPU-v4",
                    "TPU-v5e", "TPU-v5p", "Gaudi3", "host-cpu", "L40S", "H100-PCIe", "GB200",
                    "TPU-v6e", "L4"],
    "interconnect": ["NVLink3", "NVLink4", "NVLink5", "NVSwitch", "PCIe4-x16", "PCIe5-x16",
                     "IB-HDR", "IB-NDR", "IB-XDR", "RoCE-100G", "RoCE-200G", "RoCE-400G",
                     "TPU-ICI"],
    "storage": ["NVMe-Gen4", "SATA-SSD", "HDD", "object-storage", "parallel-fs"],
    "workload": ["Llama-3-8B", "Llama-3-70B", "Llama-3-405B", "GPT-3-175B", "Mixtral-8x7B",
                 "DLRM-DCNv2", "ResNet-50", "ViT-L-16", "Whisper-large", "GraphSAGE-products"],
    "cluster": ["DGX-H100", "H100-1k-fat-tree", "H100-16k-fat-tree", "TPU-v5p-pod"],
    "facility": ["air-cooled", "liquid-cooled", "pdu-208v-60a", "DGX-H100-power",
                 "electricity-us-industrial", "construction-us"],
    "network": ["QM9700", "SN5600", "OSFP-2x400G-SR8", "MPO-fiber", "DAC-400G"],
    "offer": ["aws-p5-h100", "lambda-h100", "spot-market", "on-premises"],
}
# Every citation reads "Title (year), URL".
CITATION = re.compile(r"\S.* \((19|20)\d{2}\), https?://\S+")
# Google does not publish TDP, nor NVIDIA per GB200 GPU: Accelerator.tdp_w is None
NO_TDP = {"TPU-v5e", "TPU-v5p", "TPU-v6e", "GB200"}


def names(kind: str) -> list[Any]:
    """Canonical names of a kind, as pytest params."""
    return list(catalog.names(kind))


def every_value() -> list[tuple[str, str, Any]]:
    return [(e.name, path, item) for e in load_bundled().values() for path, item in e.values.items()]


# --- sources and completeness ------------------------------------------------------------

@pytest.mark.parametrize(("kind", "required"), REQUIRED.items())
def test_required_entries_exist(kind: str, required: list[str]) -> None:
    missing = sorted(set(required) - set(catalog.names(kind)))
    assert not missing, f"{kind}: missing {missing}"


def test_every_value_has_a_citation_with_year_and_url() -> None:
    bad = [(name, path, item.source) for name, path, item in every_value()
           if not CITATION.fullmatch(item.source.strip())]
    assert not bad, bad[:5]


def test_every_entry_has_a_summary_and_values() -> None:
    for entry in load_bundled().values():
        assert entry.summary.strip(), entry.name
        assert entry.values, entry.name


def test_names_and_aliases_are_unique_ignoring_case() -> None:
    seen: dict[str, str] = {}
    for entry in load_bundled().values():
        for key in {entry.name.lower(), *(a.lower() for a in entry.aliases)}:
            assert key not in seen, f"{key!r} names both {seen[key]} and {entry.name}"
            seen[key] = entry.name


@pytest.mark.parametrize(("alias", "name"), [
    ("H100", "H100-SXM"), ("A100", "A100-80GB"), ("mi300x", "MI300X"), ("v5p", "TPU-v5p"),
    ("ndr", "IB-NDR"), ("nvlink4", "NVLink4"), ("llama3-70b", "Llama-3-70B"), ("s3", "object-storage"),
    ("dlrm", "DLRM-DCNv2"), ("dgx", "DGX-H100"),
])
def test_short_forms_resolve(alias: str, name: str) -> None:
    assert catalog.get(alias).name == name


# --- typed views --------------------------------------------------------------------------

@pytest.mark.parametrize("name", names("accelerator"))
def test_accelerators_build_typed_views(name: str) -> None:
    acc = Accelerator.from_name(name)
    assert acc.peak_flops_per_s and acc.hbm_bytes > 0 and acc.hbm_bw_bytes_per_s > 0
    if name not in NO_TDP:
        assert acc.tdp_w is not None and acc.tdp_w > 0


@pytest.mark.parametrize("name", catalog.names("accelerator"))
def test_prices_are_indicative_usd_numbers_in_low_high_pairs(name: str) -> None:
    entry = catalog.get(name)
    prices = entry.group("price")
    assert all(isinstance(v, int | float) for v in prices.values()), prices
    assert all("indicative" in entry.values[f"price.{k}"].note for k in prices)
    for stem in ("purchase_usd", "cloud_usd_per_h"):
        if f"{stem}_low" in prices or f"{stem}_high" in prices:
            assert 0 < prices[f"{stem}_low"] <= prices[f"{stem}_high"]


@pytest.mark.parametrize("name", names("interconnect"))
def test_interconnects_build_typed_views(name: str) -> None:
    link = Interconnect.from_name(name)
    assert link.bw_bytes_per_s > 0 and 0 < link.latency_s < 1e-3
    assert link.scope in ("scale-up", "scale-out")


@pytest.mark.parametrize("name", names("storage"))
def test_storage_builds_typed_views(name: str) -> None:
    medium = StorageMedium.from_name(name)
    assert medium.read_bw_bytes_per_s > 0 and medium.write_bw_bytes_per_s > 0
    assert 0 < medium.latency_s < 1.0


@pytest.mark.parametrize("name", names("workload"))
def test_workloads_build_typed_views(name: str) -> None:
    w = Workload.from_name(name)
    assert w.family in ("llm", "moe", "recsys", "vision", "speech", "gnn")
    assert w.unit == ("token" if w.family in ("llm", "moe") else "sample")
    assert 0 < w.active_params <= w.params
    assert all(isinstance(v, int | float) for v in w.shape.values()), w.shape


@pytest.mark.parametrize("name", names("cluster"))
def test_clusters_build_typed_views(name: str) -> None:
    cluster = Cluster.from_name(name)
    assert cluster.gpus == cluster.nodes * cluster.gpus_per_node
    assert cluster.scaleup.scope == "scale-up"


# --- spot checks of well-known figures ---------------------------------------------------

@pytest.mark.parametrize(("name", "path", "expected"), [
    ("H100-SXM", "flops_per_s.bf16", 989.5e12),
    ("H100-SXM", "flops_per_s.fp8", 1979e12),
    ("H100-SXM", "hbm_bw_bytes_per_s", 3.35e12),
    ("A100-80GB", "hbm_bw_bytes_per_s", 2.039e12),
    ("A100-40GB", "hbm_bw_bytes_per_s", 1.555e12),
    ("A100-40GB", "flops_per_s.fp32", 19.5e12),
    ("A100-40GB", "flops_per_s.tf32", 156e12),
    ("A100-40GB", "flops_per_s.bf16", 312e12),
    ("A100-40GB", "flops_per_s.int8", 624e12),
    ("A100-40GB", "tdp_w", 400.0),
    ("H200", "hbm_bytes", 141e9),
    ("MI300X", "hbm_bytes", 192e9),
    ("TPU-v5p", "flops_per_s.bf16", 459e12),
    ("IB-NDR", "bw_bytes_per_s", 50e9),
    ("IB-HDR", "bw_bytes_per_s", 25e9),
    ("IB-XDR", "bw_bytes_per_s", 100e9),
    ("NVLink3", "bw_bytes_per_s", 300e9),
    ("NVLink4", "bw_bytes_per_s", 450e9),
    ("NVLink5", "bw_bytes_per_s", 900e9),
    ("object-storage", "cost_usd_per_gb_month", 0.023),
    ("ResNet-50", "fwd_flop", 8.18e9),
    ("Llama-3-70B", "shape.d_model", 8192),
    ("DGX-H100", "node_power_w", 10.2e3),
    ("L40S", "flops_per_s.bf16", 362.05e12),
    ("L40S", "hbm_bw_bytes_per_s", 864e9),
    ("H100-PCIe", "flops_per_s.bf16", 756.5e12),
    ("H100-PCIe", "hbm_bw_bytes_per_s", 2e12),
    ("GB200", "flops_per_s.bf16", 2.5e15),
    ("GB200", "scaleup_bw_bytes_per_s", 900e9),
    ("TPU-v6e", "flops_per_s.bf16", 918e12),
    ("TPU-v6e", "hbm_bytes", 32e9),
])
def test_well_known_values(name: str, path: str, expected: float) -> None:
    assert catalog.get(name).require(path) == pytest.approx(expected, rel=1e-9)


def test_dgx_h100_has_8_gpus_on_nvswitch_and_ndr_rails() -> None:
    dgx = Cluster.from_name("DGX-H100")
    assert (dgx.gpus, dgx.scaleup.name, dgx.scaleout.name) == (8, "NVSwitch", "IB-NDR")
    assert dgx.node_scaleout_bw_bytes_per_s == pytest.approx(8 * 50e9)


# --- physical sanity ---------------------------------------------------------------------

@pytest.mark.parametrize("name", catalog.names("accelerator"))
def test_lower_precision_is_never_slower(name: str) -> None:
    peaks = catalog.get(name).group("flops_per_s")
    order = [p for p in ("fp8", "bf16", "tf32", "fp32") if p in peaks]
    assert all(peaks[a] >= peaks[b] for a, b in zip(order, order[1:], strict=False)), peaks
    if "fp16" in peaks and "bf16" in peaks:
        assert peaks["fp16"] == peaks["bf16"]


@pytest.mark.parametrize("name", catalog.names("accelerator"))
def test_scaleup_link_resolves_and_matches_chip_bandwidth(name: str) -> None:
    entry = catalog.get(name)
    if entry.get("scaleup_link") is None:
        assert entry.get("scaleup_bw_bytes_per_s") is None
        return
    link = catalog.get(entry.require("scaleup_link"), kind="interconnect")
    chip_bw, link_bw = entry.require("scaleup_bw_bytes_per_s"), link.require("bw_bytes_per_s")
    if link.get("links_per_gpu") is not None:  # link bw is itself the per-chip aggregate
        assert chip_bw == pytest.approx(link_bw)
    else:  # per-port technology: the chip aggregates several ports
        assert chip_bw >= link_bw


@pytest.mark.parametrize("name", [e.name for e in catalog.entries("interconnect")
                                  if e.get("links_per_gpu") and e.get("per_link_bw_bytes_per_s")])
def test_aggregate_link_bandwidth_is_links_times_per_link(name: str) -> None:
    entry = catalog.get(name)
    per_chip = entry.require("links_per_gpu") * entry.require("per_link_bw_bytes_per_s")
    assert per_chip == pytest.approx(entry.require("bw_bytes_per_s"))


@pytest.mark.parametrize("family", [
    ["NVLink3", "NVLink4", "NVLink5"], ["IB-HDR", "IB-NDR", "IB-XDR"],
    ["RoCE-100G", "RoCE-200G", "RoCE-400G"], ["PCIe4-x16", "PCIe5-x16"],
])
def test_newer_link_generations_are_faster(family: list[str]) -> None:
    bws = [catalog.get(n).require("bw_bytes_per_s") for n in family]
    assert bws == sorted(bws) and len(set(bws)) == len(bws)


def test_storage_latency_tiers_are_ordered() -> None:
    tiers = ["NVMe-Gen4", "SATA-SSD", "HDD", "object-storage"]
    latencies = [catalog.get(n).require("latency_s") for n in tiers]
    assert latencies == sorted(latencies)


@pytest.mark.parametrize("name", catalog.names("cluster"))
def test_cluster_references_resolve_and_counts_add_up(name: str) -> None:
    entry = catalog.get(name)
    catalog.get(entry.require("accelerator"), kind="accelerator")
    assert catalog.get(entry.require("scaleup"), kind="interconnect").get("scope") == "scale-up"
    catalog.get(entry.require("scaleout"), kind="interconnect")
    assert entry.require("gpus") == entry.require("nodes") * entry.require("gpus_per_node")
    assert entry.require("oversubscription") >= 1.0


@pytest.mark.parametrize("name", catalog.names("workload"))
def test_backward_is_twice_forward(name: str) -> None:
    entry = catalog.get(name)
    assert entry.require("bwd_flop") == pytest.approx(2 * entry.require("fwd_flop"), rel=1e-6)


def _transformer_params(shape: dict[str, Any], *, experts: int = 1) -> int:
    """Llama/Mixtral parameter count from the shape: GQA attention, SwiGLU, untied embeddings."""
    d, kv_dim = shape["d_model"], shape["n_kv_heads"] * shape["d_model"] // shape["n_heads"]
    attn = 2 * d * d + 2 * d * kv_dim
    mlp = experts * 3 * d * shape["d_ff"] + (d * experts if experts > 1 else 0)
    return int(shape["layers"] * (attn + mlp + 2 * d) + 2 * shape["vocab"] * d + d)


@pytest.mark.parametrize("name", ["Llama-3-8B", "Llama-3-70B", "Llama-3-405B", "Mixtral-8x7B",
                                  "Llama-2-7B", "Llama-2-13B", "Llama-2-70B"])
def test_llm_params_follow_from_shape(name: str) -> None:
    entry = catalog.get(name)
    shape = entry.group("shape")
    assert _transformer_params(shape, experts=int(shape.get("experts", 1))) == entry.require("params")


@pytest.mark.parametrize("name", [n for n in catalog.names("workload")
                                  if catalog.get(n).require("family") in ("llm", "moe")])
def test_llm_forward_flop_follows_the_stated_convention(name: str) -> None:
    w = Workload.from_name(name)
    s = w.shape
    attention = 2 * s["layers"] * (s["seq_len"] + 1) * s["d_model"]  # causal: (S+1)/2 keys
    matmul = w.fwd_flop - attention
    assert 2 * 0.9 * w.active_params < matmul <= 2 * w.active_params * 1.0000001


# --- errors ------------------------------------------------------------------------------

def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(CatalogError, match="H100-SXM"):
        catalog.get("H10")


def test_wrong_kind_is_an_error() -> None:
    with pytest.raises(CatalogError, match="unknown cluster name 'H100'"):
        catalog.get("H100", kind="cluster")


# --- CLI ---------------------------------------------------------------------------------

def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed ``mlfleet`` entry point (or main() when it is not on disk)."""
    exe = shutil.which("mlfleet", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-c",
                             "import sys; from mlfleet.cli import main; sys.exit(main())"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60, check=False)


def test_cli_show_json_carries_every_source() -> None:
    result = run_cli("catalog", "show", "H100", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["name"] == "H100-SXM" and doc["kind"] == "accelerator"
    assert doc["values"]["flops_per_s.bf16"]["value"] == pytest.approx(989.5e12)
    assert all("http" in v["source"] for v in doc["values"].values())


def test_cli_show_unknown_exits_2_with_one_line() -> None:
    result = run_cli("catalog", "show", "NOPE")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "NOPE" in lines[0], result.stderr
