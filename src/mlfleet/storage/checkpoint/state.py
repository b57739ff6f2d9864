"""Flatten a nested training state into named tensors plus JSON, and back, without pickle.

A training state is a tree of dicts, lists and tuples whose leaves are tensors, numpy
arrays, numbers, strings, booleans and None: model and optimizer ``state_dict()`` (with
integer keys and nested ``param_groups``), an LR scheduler's state, ``torch.get_rng_state()``,
a numpy bit generator's ``state`` and ``random.getstate()``. ``flatten_state`` moves every
tensor and array into a flat ``{name: Tensor}`` (for safetensors) and encodes the rest as
JSON with small tags for what JSON lacks (tuples, non-string keys, big ints, non-finite
floats), so that ``unflatten_state`` is its exact inverse, except that any mapping comes
back as a plain ``dict`` in the same order (``load_state_dict`` accepts it; a module
``state_dict``'s ``_metadata`` version attribute is not kept).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from .errors import CheckpointError

JSON = Any
"""A JSON-able value (dict/list/str/int/float/bool/None)."""
_SAFE_INT = 2 ** 53
_TAGS = ("__tensor__", "__ndarray__", "__tuple__", "__items__", "__int__", "__float__")


def flatten_state(state: Any) -> tuple[dict[str, torch.Tensor], JSON]:
    """``(tensors, meta_json)`` for a nested state; CheckpointError on an unsupported leaf."""
    tensors: dict[str, torch.Tensor] = {}
    return tensors, _encode(state, "", tensors)


def unflatten_state(tensors: Mapping[str, torch.Tensor], meta_json: JSON) -> Any:
    """The nested state ``flatten_state`` was given (tensors taken from ``tensors``)."""
    return _decode(meta_json, tensors)


def _unique(path: str, tensors: Mapping[str, torch.Tensor]) -> str:
    name, n = path or "_", 1
    while name in tensors:
        name, n = f"{path}#{n}", n + 1
    return name


def _encode(value: Any, path: str, tensors: dict[str, torch.Tensor]) -> JSON:
    if isinstance(value, torch.Tensor):
        name = _unique(path, tensors)
        tensors[name] = value
        return {"__tensor__": name}
    if isinstance(value, np.ndarray):
        name = _unique(path, tensors)
        tensors[name] = torch.from_numpy(np.ascontiguousarray(value))
        return {"__ndarray__": name}
    if isinstance(value, Mapping):
        return _encode_mapping(value, path, tensors)
    if isinstance(value, list | tuple):
        items = [_encode(v, f"{path}/{i}", tensors) for i, v in enumerate(value)]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    return _encode_scalar(value, path)


def _encode_mapping(value: Mapping[Any, Any], path: str,
                    tensors: dict[str, torch.Tensor]) -> JSON:
    if all(isinstance(k, str) for k in value) and not any(k in _TAGS for k in value):
        return {k: _encode(v, f"{path}/{k}", tensors) for k, v in value.items()}
    return {"__items__": [[_encode(k, f"{path}/key", tensors), _encode(v, f"{path}/{k}", tensors)]
                          for k, v in value.items()]}


def _encode_scalar(value: Any, path: str) -> JSON:
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool):
        return value if abs(value) < _SAFE_INT else {"__int__": str(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    raise CheckpointError(f"state{path or '/'}(={type(value).__name__}) is not a tensor, array, "
                          "number, string, bool, None, dict, list or tuple")


def _decode(value: JSON, tensors: Mapping[str, torch.Tensor]) -> Any:
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (tag, body), = value.items()
        if tag in _TAGS:
            return _decode_tagged(tag, body, tensors)
    return {k: _decode(v, tensors) for k, v in value.items()}


def _decode_tagged(tag: str, body: JSON, tensors: Mapping[str, torch.Tensor]) -> Any:
    if tag == "__tensor__":
        return _tensor(body, tensors)
    if tag == "__ndarray__":
        return _tensor(body, tensors).numpy()
    if tag == "__tuple__":
        return tuple(_decode(v, tensors) for v in body)
    if tag == "__items__":
        return {_decode(k, tensors): _decode(v, tensors) for k, v in body}
    if tag == "__int__":
        return int(body)
    return float(body)


def _tensor(name: str, tensors: Mapping[str, torch.Tensor]) -> torch.Tensor:
    if name not in tensors:
        raise CheckpointError(f"tensor {name!r} named in the checkpoint's state is missing")
    return tensors[name]
