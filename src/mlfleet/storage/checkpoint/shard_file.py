"""One shard file: safetensors bytes, optionally compressed, written durably and hashed.

The safetensors header is built here and each tensor's bytes are streamed from its own
memory to the file (no second copy of the shard in memory) while SHA-256 is computed over
exactly the bytes on disk. Reading checks the hash before safetensors parses anything, and
nothing on either path uses pickle (safetensors format: https://github.com/huggingface/safetensors).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import safetensors.torch
import torch

from .compression import compress_stream, decompress_bytes
from .errors import CorruptCheckpointError
from .tree_hash import TreeHasher, tree_sha256_file

DTYPE_CODES: dict[torch.dtype, str] = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL", torch.uint16: "U16", torch.uint32: "U32",
    torch.uint64: "U64", torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2",
}
"""torch dtype -> safetensors dtype code."""
CHUNK_BYTES = 64 << 20


@dataclass(frozen=True, kw_only=True)
class WrittenFile:
    """What ``write_shard_file`` wrote: bytes on disk and their SHA-256."""

    bytes: int
    sha256: str


def _as_bytes(t: torch.Tensor) -> memoryview:
    flat = t.detach().reshape(-1)
    return flat.view(torch.uint8).numpy().data if flat.numel() else memoryview(b"")


def _cpu_contiguous(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"tensor {name!r} is a {type(t).__name__}, not a torch.Tensor")
        out[name] = t.detach().to("cpu").contiguous()
    return out


def _header(tensors: Mapping[str, torch.Tensor], meta: Mapping[str, str]) -> bytes:
    entries: dict[str, object] = {"__metadata__": dict(meta)} if meta else {}
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        size = t.numel() * t.element_size()
        entries[name] = {"dtype": DTYPE_CODES[t.dtype], "shape": list(t.shape),
                         "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(entries, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # safetensors pads the header to 8-byte alignment
    return struct.pack("<Q", len(raw)) + raw


def safetensors_chunks(tensors: Mapping[str, torch.Tensor],
                       meta: Mapping[str, str]) -> Iterator[memoryview]:
    """The safetensors encoding of ``tensors`` as a sequence of buffers (no copy of the data)."""
    cpu = _cpu_contiguous(tensors)
    yield memoryview(_header(cpu, meta))
    for name in sorted(cpu):
        data = _as_bytes(cpu[name])
        for start in range(0, len(data), CHUNK_BYTES):
            yield data[start:start + CHUNK_BYTES]


def write_shard_file(f: BinaryIO, tensors: Mapping[str, torch.Tensor], meta: Mapping[str, str],
                     *, compression: str | None) -> Callable[[], WrittenFile]:
    """Write the shard to ``f`` (flushes, does not fsync); returns a call giving size and hash.

    The checksum is tree_hash's block-wise SHA-256. Uncompressed, blocks are hashed in a
    thread pool over the same buffers while this thread writes and the caller fsyncs
    (hashlib releases the GIL); compressed, over the compressed stream as it is written.
    """
    if compression is not None:
        hasher, written = TreeHasher(parallel=False), 0
        for packed in compress_stream(safetensors_chunks(tensors, meta), compression):
            hasher.update(packed)
            f.write(packed)
            written += len(packed)
        f.flush()
        done = WrittenFile(bytes=written, sha256=hasher.hexdigest())
        return lambda: done
    # views of the tensors' memory, no copy; they stay alive until the hash is taken
    chunks = list(safetensors_chunks(tensors, meta))
    hasher = TreeHasher(parallel=True)
    for chunk in chunks:
        hasher.update(chunk)
        f.write(chunk)
    f.flush()
    size = sum(len(c) for c in chunks)
    return lambda: WrittenFile(bytes=size, sha256=hasher.hexdigest())


def read_shard_file(path: Path, *, sha256: str | None, compression: str | None,
                    ) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Tensors and string metadata of a shard; CorruptCheckpointError if its hash differs."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorruptCheckpointError(f"checkpoint shard {path} is missing") from None
    if sha256 is not None and _tree_sha256_parallel(data) != sha256:
        raise CorruptCheckpointError(f"checkpoint shard {path} is corrupt: its SHA-256 differs "
                                     "from the manifest's")
    if compression is not None:
        data = decompress_bytes(data, compression, path=path)
    return _parse(data, path)


def _tree_sha256_parallel(data: bytes) -> str:
    hasher = TreeHasher(parallel=True)
    hasher.update(data)
    return hasher.hexdigest()


def verify_shard_file(path: Path, *, sha256: str) -> None:
    """CorruptCheckpointError unless ``path`` exists and hashes to ``sha256`` (streamed)."""
    try:
        actual = tree_sha256_file(path)
    except FileNotFoundError:
        raise CorruptCheckpointError(f"checkpoint shard {path} is missing") from None
    if actual != sha256:
        raise CorruptCheckpointError(f"checkpoint shard {path} is corrupt: its SHA-256 differs "
                                     "from the manifest's")


def _parse(data: bytes, path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    try:
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + n])
        tensors = safetensors.torch.load(data)
    except (ValueError, struct.error, safetensors.SafetensorError) as exc:
        raise CorruptCheckpointError(f"checkpoint shard {path} is not a valid safetensors "
                                     f"file: {exc}") from None
    return dict(sorted(tensors.items())), dict(header.get("__metadata__") or {})
