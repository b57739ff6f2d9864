"""The block-wise SHA-256: independent of how the bytes are fed, file == memory, any flip shows."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.storage.checkpoint import tree_hash
from mlfleet.storage.checkpoint.tree_hash import TreeHasher, tree_sha256, tree_sha256_file


@pytest.fixture(autouse=True)
def _small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tree_hash, "BLOCK_BYTES", 16)


@given(data=st.binary(max_size=200), cuts=st.lists(st.integers(0, 200), max_size=8),
       parallel=st.booleans(), flip=st.integers(0, 199))
@settings(max_examples=150, deadline=None)
def test_feeding_order_file_and_flips(data: bytes, cuts: list[int], parallel: bool, flip: int,
                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    tree_hash.BLOCK_BYTES = 16  # hypothesis reuses the function-scoped fixture's patch
    whole = tree_sha256(data)
    hasher = TreeHasher(parallel=parallel)
    edges = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    for a, b in zip(edges, edges[1:], strict=False):
        hasher.update(memoryview(data)[a:b])
    assert hasher.hexdigest() == whole
    path = tmp_path_factory.mktemp("h") / "f"
    path.write_bytes(data)
    assert tree_sha256_file(path) == whole
    if data:
        i = flip % len(data)
        assert tree_sha256(data[:i] + bytes([data[i] ^ 1]) + data[i + 1:]) != whole


def test_root_is_sha256_of_block_digests() -> None:
    data = bytes(range(40))
    blocks = [hashlib.sha256(data[i:i + 16]).digest() for i in (0, 16, 32)]
    assert tree_sha256(data) == hashlib.sha256(tree_hash.ROOT_PREFIX + b"".join(blocks)).hexdigest()
    assert tree_sha256(b"") == hashlib.sha256(tree_hash.ROOT_PREFIX
                                              + hashlib.sha256(b"").digest()).hexdigest()


def test_file_read_ahead_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(bytes(16 * 50 + 3))
    assert tree_sha256_file(path) == tree_sha256(bytes(16 * 50 + 3))
