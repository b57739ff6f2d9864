"""Calibration files (``mlfleet.calibration/1``) and the calibration a command runs under.

``mlfleet infra calibrate PROBE.json --out calib.json`` writes a kernel model fitted to a
probe. A command given ``--calibration FILE`` runs inside :func:`using_calibration`, which
sets a context variable; the kernel model's defaults
(:func:`mlfleet.infra.accel.defaults.kernel_model`) ask :func:`active_calibration` first, so
every model below the command uses the calibrated constants without a new argument. A
calibration made on another accelerator than the command's raises :class:`CalibrationError`
(exit 2): ``calibration is for H100, this command uses A100``.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from mlfleet.errors import InputError
from mlfleet.infra.accel.fit import KernelFit
from mlfleet.infra.accel.types import (
    CALIBRATION_SCHEMA,
    KERNEL_CLASSES,
    KernelClassParams,
    KernelModel,
    LaunchParams,
)

T = TypeVar("T")


@dataclass(kw_only=True)
class _Active:
    """The calibration of a ``using_calibration`` block, and whether a model asked for it."""

    model: KernelModel
    consulted: bool = False


_ACTIVE: contextvars.ContextVar[_Active | None] = contextvars.ContextVar(
    "mlfleet_calibration", default=None)


class CalibrationError(InputError):
    """A calibration file that cannot be read or does not fit the command."""


def calibration_dict(fit: KernelFit, *, probe: str) -> dict[str, Any]:
    """The calibration file's document for a fitted model."""
    m = fit.model
    return {"schema": CALIBRATION_SCHEMA, "accelerator": m.accelerator, "precision": m.precision,
            "probe": probe, "peak_flops_per_s": m.peak_flops_per_s,
            "mem_bw_bytes_per_s": m.mem_bw_bytes_per_s,
            "classes": {name: asdict(m.params(name)) for name in KERNEL_CLASSES},
            "launch": asdict(m.launch), "fitted": list(fit.fitted),
            "residuals": [{**asdict(r), "rel_error": r.rel_error} for r in fit.residuals]}


def _section(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    if not isinstance(value, Mapping):
        raise CalibrationError(f"calibration field {key} is missing or not an object")
    return value


def _build(cls: Callable[..., T], doc: Mapping[str, Any], where: str) -> T:
    try:
        return cls(**doc)
    except TypeError as exc:
        raise CalibrationError(f"calibration field {where}: {exc}") from None
    except InputError as exc:
        raise CalibrationError(f"calibration field {where}: {exc}") from None


def parse_calibration(doc: Any, *, source: str) -> KernelModel:
    """The kernel model of a calibration document; CalibrationError (one line) otherwise."""
    if not isinstance(doc, Mapping) or doc.get("schema") != CALIBRATION_SCHEMA:
        found = doc.get("schema") if isinstance(doc, Mapping) else type(doc).__name__
        raise CalibrationError(f"calibration schema(={found!r}) must be {CALIBRATION_SCHEMA!r}")
    classes = _section(doc, "classes")
    params = {name: _build(KernelClassParams, _section(classes, name), f"classes.{name}")
              for name in KERNEL_CLASSES if name in classes}
    fields = {k: doc.get(k) for k in ("accelerator", "precision", "peak_flops_per_s",
                                      "mem_bw_bytes_per_s")}
    for key in ("peak_flops_per_s", "mem_bw_bytes_per_s"):
        value = fields[key]
        if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
            raise CalibrationError(f"calibration field {key}(={value!r}) must be a number > 0")
    for key in ("accelerator", "precision"):
        if not isinstance(fields[key], str) or not fields[key]:
            raise CalibrationError(f"calibration field {key}(={fields[key]!r}) must be a name")
    launch = _build(LaunchParams, _section(doc, "launch"), "launch")
    return _build(KernelModel, {**fields, "classes": params, "launch": launch, "origin": source},
                  "classes")


def read_calibration(path: str | Path) -> KernelModel:
    """Read a calibration file; CalibrationError (one line) for any problem."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"cannot read calibration {str(p)!r}: "
                               f"{getattr(exc, 'strerror', None) or exc}") from None
    except json.JSONDecodeError as exc:
        raise CalibrationError(f"calibration {str(p)!r} is not JSON: {exc.msg} at line "
                               f"{exc.lineno}") from None
    return parse_calibration(doc, source=str(p))


@contextlib.contextmanager
def using_calibration(path: str | Path | KernelModel | None) -> Iterator[KernelModel | None]:
    """Run the block under the calibration read from ``path`` (no calibration for None)."""
    if path is None:
        yield None
        return
    model = path if isinstance(path, KernelModel) else read_calibration(path)
    token = _ACTIVE.set(_Active(model=model))
    try:
        yield model
    finally:
        _ACTIVE.reset(token)


def _canonical(accelerator: str) -> str:
    """The catalog's name for ``accelerator`` (aliases resolved), else the name lower-cased."""
    from mlfleet.catalog.types import Accelerator

    try:
        return Accelerator.from_name(accelerator).name
    except InputError:
        return accelerator.lower()


def check_calibration_for(accelerator: str, precision: str) -> None:
    """CalibrationError when the active calibration (if any) was made on another accelerator
    or precision than ``accelerator`` / ``precision``; does not count as using it."""
    active = _ACTIVE.get()
    if active is None:
        return
    model = active.model
    if _canonical(model.accelerator) != _canonical(accelerator):
        raise CalibrationError(f"calibration is for {model.accelerator}, this command uses "
                               f"{accelerator}")
    if model.precision.lower() != precision.lower():
        raise CalibrationError(f"calibration is for {model.accelerator} {model.precision}, "
                               f"this command uses {precision}")


def active_calibration(accelerator: str, precision: str) -> KernelModel | None:
    """The calibration set by :func:`using_calibration`, if any, for this accelerator.

    Raises CalibrationError when the calibration was made for another accelerator or
    precision than the caller's: its constants would silently describe another device.
    """
    check_calibration_for(accelerator, precision)
    active = _ACTIVE.get()
    if active is None:
        return None
    active.consulted = True
    return active.model


def calibration_consulted() -> bool:
    """Whether a model inside the current ``using_calibration`` block asked for the
    calibration (False outside one): a command warns when its models never did."""
    active = _ACTIVE.get()
    return active is not None and active.consulted


UNUSED_WARNING = ("warning: --calibration was not used: none of the models this scenario needs "
                  "reads the kernel model (LLM step times do; training uses the scenario's MFU)")
"""What a command prints on stderr when it ran under a calibration that no model read."""
