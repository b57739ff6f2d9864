"""Shard compression codecs (standard library only: zlib and lzma).

zlib level 1 is the cheap default; lzma trades much more CPU for a little more ratio.
Weights in bf16/fp32 compress little (their mantissas are close to random); optimizer
moments, sparse updates and integer tensors compress more. Measured ratios and costs are
in docs/storage-checkpoint.md (benchmarks/bench_checkpoint_delta.py).
"""

from __future__ import annotations

import lzma
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from .errors import CorruptCheckpointError

CODECS = ("zlib", "lzma")
"""Compression names the store accepts (None for no compression)."""
SUFFIX = {"zlib": ".zlib", "lzma": ".xz"}


class _Compressor(Protocol):
    def compress(self, data: bytes | memoryview, /) -> bytes: ...
    def flush(self) -> bytes: ...


def _compressor(codec: str) -> _Compressor:
    if codec == "zlib":
        return zlib.compressobj(1)
    return lzma.LZMACompressor(preset=1)


def compress_stream(chunks: Iterable[bytes | memoryview], codec: str) -> Iterator[bytes]:
    """Compress a stream of buffers with ``codec`` (one of CODECS)."""
    comp = _compressor(codec)
    for chunk in chunks:
        out = comp.compress(chunk)
        if out:
            yield out
    yield comp.flush()


def decompress_bytes(data: bytes, codec: str, *, path: Path) -> bytes:
    """Inverse of ``compress_stream``; CorruptCheckpointError naming ``path`` on bad data."""
    try:
        return zlib.decompress(data) if codec == "zlib" else lzma.decompress(data)
    except (zlib.error, lzma.LZMAError) as exc:
        raise CorruptCheckpointError(f"checkpoint shard {path} does not decompress ({codec}): "
                                     f"{exc}") from None
