"""The kernel model's defaults: achievable fractions from public sources, per accelerator.

``data/kernels.yaml`` gives, per accelerator and precision, the fraction of the catalog's
dense peak FLOP/s and peak memory bandwidth that each kernel class reaches, the fixed time per
kernel, and how kernels are issued (:class:`~mlfleet.infra.accel.types.LaunchParams`). Every
value names its source; derived values say from which published points (``published.yaml``).
:func:`kernel_model` joins them with the catalog's peaks into a
:class:`~mlfleet.infra.accel.types.KernelModel`, or returns the active calibration
(``mlfleet infra calibrate``, ``--calibration FILE``) when one is set for that accelerator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from mlfleet.catalog.types import Accelerator
from mlfleet.errors import CatalogError, InputError
from mlfleet.infra.accel.types import (
    KERNEL_CLASSES,
    KernelClassParams,
    KernelModel,
    LaunchParams,
)
from mlfleet.package_data import package_yaml

_CLASS_FIELDS = ("compute_fraction", "memory_fraction", "fixed_s")
_LAUNCH_FIELDS = ("min_kernel_s", "graph_gap_s", "graph_launch_s", "eager_issue_s",
                  "framework_op_s", "sync_s")


class KernelDataError(InputError):
    """An accelerator or precision without kernel-level data, or a malformed kernels.yaml."""


@dataclass(frozen=True, kw_only=True)
class SourcedValue:
    """One default with where it comes from."""

    value: float
    source: str
    """A key of the ``sources`` table of kernels.yaml."""
    note: str


@cache
def kernel_data() -> Mapping[str, Any]:
    """The parsed kernels.yaml (cached); KernelDataError if a source key does not resolve."""
    doc: Mapping[str, Any] = package_yaml("mlfleet.infra.accel", "data", "kernels.yaml")
    missing = sorted({v.source for v in _all_values(doc)} - set(doc["sources"]))
    if missing:
        raise KernelDataError(f"kernels.yaml cites unknown source keys {', '.join(missing)}")
    return doc


def _all_values(doc: Mapping[str, Any]) -> list[SourcedValue]:
    """Every sourced value in kernels.yaml (launch, class fields, aliases, fallbacks)."""
    found: list[SourcedValue] = []
    for entry in doc["accelerators"].values():
        found += [_sourced(entry["launch"][f]) for f in _LAUNCH_FIELDS]
        for prec in entry["precisions"].values():
            if "same_as" in prec:
                found.append(SourcedValue(value=0.0, source=prec["source"], note=prec["note"]))
                continue
            found += [_sourced(prec[c][f]) for c in KERNEL_CLASSES for f in _CLASS_FIELDS]
    found += [SourcedValue(value=0.0, source=f["source"], note=f["note"])
              for f in doc.get("fallback", {}).values()]
    return found


def _sourced(raw: Mapping[str, Any]) -> SourcedValue:
    return SourcedValue(value=float(raw["value"]), source=str(raw["source"]),
                        note=str(raw.get("note", "")))


def accelerators_with_data() -> tuple[str, ...]:
    """Catalog names that have kernel-level defaults (own entry or a documented fallback)."""
    doc = kernel_data()
    return (*doc["accelerators"], *doc.get("fallback", {}))


def precisions_for(accelerator: str) -> tuple[str, ...]:
    """Precisions with kernel-level defaults on ``accelerator`` (a catalog name or alias)."""
    return tuple(_entry(_catalog_name(accelerator))["precisions"])


def _catalog_name(accelerator: str) -> str:
    try:
        return Accelerator.from_name(accelerator).name
    except CatalogError as exc:
        raise KernelDataError(str(exc)) from exc


def _entry(name: str) -> Mapping[str, Any]:
    """The kernels.yaml entry for catalog name ``name``, following a fallback."""
    doc = kernel_data()
    target = doc.get("fallback", {}).get(name, {}).get("use", name)
    if target not in doc["accelerators"]:
        raise KernelDataError(
            f"accelerator {name!r} has no kernel-level defaults; those with data: "
            f"{', '.join(accelerators_with_data())} (or calibrate: mlfleet infra calibrate)")
    entry: Mapping[str, Any] = doc["accelerators"][target]
    return entry


def class_values(accelerator: str, precision: str) -> dict[str, dict[str, SourcedValue]]:
    """Per kernel class, each field's sourced default (``same_as`` followed)."""
    name = _catalog_name(accelerator)
    precisions = _entry(name)["precisions"]
    if precision not in precisions:
        raise KernelDataError(f"precision {precision!r} has no kernel-level defaults on {name}; "
                              f"known: {', '.join(precisions)}")
    block = precisions[precision]
    if "same_as" in block:
        block = precisions[block["same_as"]]
    return {c: {f: _sourced(block[c][f]) for f in _CLASS_FIELDS} for c in KERNEL_CLASSES}


def launch_values(accelerator: str) -> dict[str, SourcedValue]:
    """Each LaunchParams field's sourced default on ``accelerator``."""
    launch = _entry(_catalog_name(accelerator))["launch"]
    return {f: _sourced(launch[f]) for f in _LAUNCH_FIELDS}


def default_kernel_model(accelerator: str, precision: str) -> KernelModel:
    """The sourced defaults joined with the catalog's peaks (no calibration consulted)."""
    acc = Accelerator.from_name(accelerator)
    values = class_values(acc.name, precision)
    if precision not in acc.peak_flops_per_s:
        raise KernelDataError(f"{acc.name} has no {precision!r} peak in the catalog; "
                              f"defined: {', '.join(acc.peak_flops_per_s)}")
    classes = {c: KernelClassParams(**{f: v.value for f, v in fields.items()},
                                    source=",".join(sorted({v.source for v in fields.values()})))
               for c, fields in values.items()}
    launch = launch_values(acc.name)
    return KernelModel(
        accelerator=acc.name, precision=precision,
        peak_flops_per_s=acc.flops_per_s(precision), mem_bw_bytes_per_s=acc.hbm_bw_bytes_per_s,
        classes=classes,
        launch=LaunchParams(**{f: v.value for f, v in launch.items()},
                            source=",".join(sorted({v.source for v in launch.values()}))))


def kernel_model(accelerator: str, precision: str) -> KernelModel:
    """The kernel model of ``accelerator`` at ``precision``: the active calibration for it when
    one is set (``using_calibration``), else the sourced defaults.

    Raises :class:`KernelDataError` (an InputError) naming the accelerators or precisions that
    have data when ``accelerator`` or ``precision`` has none.
    """
    calibrated = _active_calibration(accelerator, precision)
    return calibrated if calibrated is not None else default_kernel_model(accelerator, precision)


def _active_calibration(accelerator: str, precision: str) -> KernelModel | None:
    """The calibration set by ``using_calibration`` (None when none is set, or while the
    calibration module is absent); it raises when set for another accelerator or precision."""
    from importlib.util import find_spec

    if find_spec("mlfleet.infra.accel.calibration") is None:
        return None
    # Imported lazily: calibration reads files and sits above the defaults.
    from mlfleet.infra.accel import calibration

    active: KernelModel | None = calibration.active_calibration(accelerator, precision)
    return active
