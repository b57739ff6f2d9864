"""Load the catalog's YAML data files into entries whose every value carries its source.

A data file (``catalog/data/<kind>.yaml``) looks like::

    kind: accelerator
    sources:
      nvidia-h100: "NVIDIA H100 Tensor Core GPU datasheet (2023), https://..."
    entries:
      H100-SXM:
        aliases: [H100]
        summary: NVIDIA Hopper H100 SXM5, 80 GB HBM3
        source: nvidia-h100            # default source of every value below
        values:
          hbm_bytes: 80GB               # unit parsed from the key's suffix
          flops_per_s:
            bf16: 989.4TFLOP/s          # dense, no sparsity
          tdp_w: {value: 700W, source: other-key, note: "configurable up to 700 W"}

A value's unit comes from the suffix of its key (or of the nearest parent key with
a known suffix): ``_bytes``, ``_bytes_per_s``, ``flops_per_s``, ``_flop``, ``_s``,
``_h``, ``_w``, ``_usd``, ``_usd_per_h``, ``_usd_per_gb_month``. Keys without a
known suffix hold plain numbers, strings or booleans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from mlfleet.errors import CatalogError
from mlfleet.units import parse_quantity

KINDS = ("accelerator", "interconnect", "storage", "workload", "cluster", "failure", "facility",
         "network", "offer")

# Ordered longest first so "_bytes_per_s" wins over "_s".
_SUFFIX_TARGETS: tuple[tuple[str, str], ...] = (
    ("_usd_per_gb_month", "usd_per_gb_month"),
    ("_usd_per_h", "usd_per_h"),
    ("_usd_per_kwh", "usd_per_kwh"),
    ("_bytes_per_s", "bytes_per_s"),
    ("flops_per_s", "flop_per_s"),
    ("_flop", "flop"),
    ("_bytes", "bytes"),
    ("_usd", "usd"),
    ("_w", "w"),
    ("_s", "s"),
    ("_h", "h"),
)


@dataclass(frozen=True, kw_only=True)
class Sourced:
    """One catalog value in SI units, with the citation it came from."""

    value: Any
    """The value: a float in SI base units for quantities, else a number/string/bool/list."""
    source: str
    """Full citation text (title, date, URL)."""
    note: str = ""
    """Caveats (e.g. 'dense; 2x with 2:4 sparsity')."""


@dataclass(frozen=True, kw_only=True)
class Entry:
    """A named catalog item: an accelerator, interconnect, storage medium, workload or cluster."""

    name: str
    kind: str
    summary: str
    aliases: tuple[str, ...]
    values: dict[str, Sourced] = field(repr=False)
    """Flat map from dotted path (``flops_per_s.bf16``) to the sourced value."""
    origin: str = "bundled"
    """``bundled``, or the user catalog file that added or overrode the entry."""

    def get(self, path: str, default: Any = None) -> Any:
        """The value at a dotted path, or ``default`` when absent."""
        item = self.values.get(path)
        return default if item is None else item.value

    def group(self, prefix: str) -> dict[str, Any]:
        """Values under ``prefix.``, keyed by the rest of the path."""
        start = prefix + "."
        return {k[len(start):]: v.value for k, v in self.values.items() if k.startswith(start)}

    def require(self, path: str) -> Any:
        """The value at ``path``; :class:`CatalogError` naming the entry when absent."""
        if path not in self.values:
            raise CatalogError(f"catalog entry {self.name!r} has no value {path!r}")
        return self.values[path].value

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: values with their sources."""
        return {
            "name": self.name, "kind": self.kind, "summary": self.summary,
            "aliases": list(self.aliases), "origin": self.origin,
            "values": {k: {"value": v.value, "source": v.source, **({"note": v.note} if v.note else {})}
                       for k, v in self.values.items()},
        }


def _target_for(path: tuple[str, ...]) -> str | None:
    for key in reversed(path):
        key = key.removesuffix("_low").removesuffix("_high")  # price.cloud_usd_per_h_low
        for suffix, target in _SUFFIX_TARGETS:
            if key == suffix.lstrip("_") or key.endswith(suffix):
                return target
    return None


def _convert(raw: Any, path: tuple[str, ...], where: str) -> Any:
    target = _target_for(path)
    if isinstance(raw, bool | list):
        return raw
    if target is None:
        return _plain_number(raw)
    try:
        return parse_quantity(raw, target)
    except CatalogError:
        raise
    except Exception as exc:  # UnitError: re-raise naming the file and path
        raise CatalogError(f"{where}: {'.'.join(path)}: {exc}") from None


def _plain_number(raw: Any) -> Any:
    """YAML 1.1 reads ``1e9`` as a string; numeric text of a plain key becomes a number."""
    if isinstance(raw, str):
        try:
            number = float(raw.replace("_", ""))
        except ValueError:
            return raw
        return int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number
    return raw


def _flatten(node: Any, path: tuple[str, ...], default_src: str | None, sources: dict[str, str],
             where: str, out: dict[str, Sourced]) -> None:
    is_leaf = isinstance(node, dict) and "value" in node
    if isinstance(node, dict) and not is_leaf:
        for key, child in node.items():
            _flatten(child, (*path, str(key)), default_src, sources, where, out)
        return
    raw, src_key, note = (node["value"], node.get("source", default_src), node.get("note", "")) \
        if is_leaf else (node, default_src, "")
    dotted = ".".join(path)
    if src_key is None:
        raise CatalogError(f"{where}: {dotted} has no source")
    if src_key not in sources or not str(sources[src_key]).strip():
        raise CatalogError(f"{where}: {dotted} cites unknown source {src_key!r}")
    out[dotted] = Sourced(value=_convert(raw, path, where), source=sources[src_key], note=note)


def _entry(name: str, body: dict[str, Any], kind: str, sources: dict[str, str], where: str) -> Entry:
    values: dict[str, Sourced] = {}
    _flatten(body.get("values", {}), (), body.get("source"), sources, f"{where}:{name}", values)
    return Entry(name=name, kind=kind, summary=str(body.get("summary", "")),
                 aliases=tuple(body.get("aliases", ())), values=values)


def parse_data_file(text: str, where: str) -> list[Entry]:
    """Parse one catalog data file's YAML text. Raises :class:`CatalogError` on any defect."""
    doc = _yaml_document(text, where)
    if not isinstance(doc, dict) or doc.get("kind") not in KINDS:
        raise CatalogError(f"{where}: top-level 'kind' must be one of {', '.join(KINDS)}")
    sources, entries = doc.get("sources") or {}, doc.get("entries") or {}
    if not isinstance(sources, dict) or not isinstance(entries, dict):
        raise CatalogError(f"{where}: 'sources' and 'entries' must be mappings")
    for name, body in entries.items():
        _check_entry_shape(body, f"{where}:{name}")
    return [_entry(str(n), b or {}, doc["kind"], {str(k): str(v) for k, v in sources.items()},
                   where) for n, b in entries.items()]


def _yaml_document(text: str, where: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader either way
    except yaml.MarkedYAMLError as exc:
        line = f":{exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise CatalogError(f"{where}{line}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{where}: invalid YAML: {' '.join(str(exc).split())}") from None


def _check_entry_shape(body: Any, where: str) -> None:
    """An entry is a mapping whose ``values`` is a non-empty mapping and whose ``aliases`` is a
    list of names; anything else is refused naming the entry."""
    if not isinstance(body, dict):
        raise CatalogError(f"{where}: an entry must be a mapping with summary, source, values")
    if not isinstance(body.get("values"), dict) or not body["values"]:
        raise CatalogError(f"{where}: has no values; give a 'values' mapping, each value with "
                           "a source")
    aliases = body.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise CatalogError(f"{where}: 'aliases' must be a list of names")


@cache
def load_bundled() -> dict[str, Entry]:
    """Every entry of the bundled data files, by canonical name (cached)."""
    entries: dict[str, Entry] = {}
    data = resources.files("mlfleet.catalog").joinpath("data")
    for item in sorted(data.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            for entry in parse_data_file(item.read_text(encoding="utf-8"), item.name):
                assert entry.name not in entries, f"duplicate catalog name {entry.name}"
                entries[entry.name] = entry
    return entries
