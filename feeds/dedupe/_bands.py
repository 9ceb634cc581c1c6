"""MinHash LSH banding: which indexed signatures share a band with a query's.

Does what `datasketch.MinHashLSH` did here, on the stored signatures' bytes: no
`LeanMinHash` per article, no per-band byte-swapping and no key table for removals this
index never makes. A band is `ROWS` consecutive values; two signatures are candidates
when any band is equal in all its values, so the candidates are exactly datasketch's
(tests/test_dedupe.py checks both the parameters and the candidate sets).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

import numpy as np

from ._features import NUM_PERM

# What datasketch's `_optimal_param` picks for threshold 0.4 (`LSH_THRESHOLD`), 64
# permutations and equal false positive/negative weights; a test keeps them in step.
BANDS = 16
ROWS = 4
_WIDTH = 4 * ROWS  # bytes of one band: ROWS little-endian uint32 values
_SIGNATURE = 4 * NUM_PERM  # bytes of one signature

assert BANDS * ROWS <= NUM_PERM
assert _WIDTH == 16  # a band is two uint64 words (`_hashes`)

# Odd multipliers that spread a band's two words and its position over 64 bits.
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))
_POSITION = np.arange(BANDS, dtype=np.uint64) * _MIX[2]


class Bands:
    """Band tables: for each band, the ids of the signatures with each value of it.

    Every signature inserted is kept end to end in one buffer, numbered in the order
    inserted (`insert` returns the number, `equal_values` compares by it). The bands of those
    inserted before the first query (the stored members an index is built from, most of
    it) are each a 64-bit hash in one sorted array, searched by bisection and every hit
    checked against the band's bytes; those inserted later (the articles filed) go into
    one dict per band as well, until `compact` moves them into the array too. The dicts
    cost about 100 bytes per band and signature, the arrays 12: an 800-source first pass
    indexed 28,000 stored members, 45 MB of dicts.
    """

    __slots__ = ("_entries", "_frozen", "_keys", "_signatures", "_sorted", "_tables")

    def __init__(self) -> None:
        # A bucket holds one id as a str, or a list once a second id shares it: most
        # buckets keep one signature, and a list each would double the index's memory.
        self._tables: tuple[dict[bytes, str | list[str]], ...] = tuple({} for _ in range(BANDS))
        self._keys: list[str] = []  # the ids inserted, in order
        self._signatures = bytearray()  # their signatures, end to end
        self._frozen = 0  # how many of them the sorted array holds (`_freeze`)
        self._sorted: np.ndarray | None = None  # their bands' hashes, sorted
        self._entries: np.ndarray | None = None  # for each: signature number * BANDS + band

    def insert(self, key: str, signature: bytes) -> int:
        """Index `signature` (NUM_PERM little-endian uint32 values) under `key`; its
        number, for `equal_values`."""
        number = len(self._keys)
        self._keys.append(key)
        self._signatures += signature
        if self._sorted is None:
            return number
        start = 0
        for table in self._tables:
            put(table, signature[start : start + _WIDTH], key)
            start += _WIDTH
        return number

    def equal_values(self, signature: bytes, numbers: list[int]) -> list[int]:
        """How many of its NUM_PERM values `signature` shares, position by position, with
        each of the signatures `numbers` (MinHash's estimated Jaccard, times NUM_PERM).

        One numpy comparison for all of them: a filed article is compared with dozens
        of members on a busy day. The view of the buffer is let go on return, so the
        buffer can grow again.
        """
        held = np.frombuffer(self._signatures, dtype="<u4").reshape(-1, NUM_PERM)
        mine = np.frombuffer(signature, dtype="<u4")
        equal: list[int] = (held[numbers] == mine).sum(axis=1).tolist()
        return equal

    def query(self, signature: bytes) -> set[str]:
        """Keys of every indexed signature sharing at least one band with `signature`."""
        if self._sorted is None:
            self._freeze()
        found: set[str] = set()
        if self._frozen:
            self._query_sorted(signature, found)
        start = 0
        for table in self._tables:
            held = table.get(signature[start : start + _WIDTH])
            start += _WIDTH
            if held is None:
                continue
            if isinstance(held, str):
                found.add(held)
            else:
                found.update(held)
        return found

    def compact(self) -> None:
        """Move the bands of the signatures inserted since the first query into the
        sorted array (an index kept for the next batch of a pass: `StoryIndex.file`).
        The same queries give the same keys."""
        if self._sorted is None or self._frozen == len(self._keys):
            return
        self._tables = tuple({} for _ in range(BANDS))
        self._freeze()

    def _freeze(self) -> None:
        """Hash and sort the bands of the signatures inserted so far."""
        words = np.frombuffer(self._signatures, dtype="<u8").reshape(-1, NUM_PERM // 2)
        hashes = _hashes(words).ravel()
        order = np.argsort(hashes, kind="stable")
        self._sorted = hashes[order]
        self._entries = order.astype(np.int32 if order.size < 1 << 31 else np.int64)
        self._frozen = len(self._keys)

    def _query_sorted(self, signature: bytes, found: set[str]) -> None:
        assert self._sorted is not None and self._entries is not None
        hashes = _hashes(np.frombuffer(signature, dtype="<u8").reshape(1, -1))[0]
        first = np.searchsorted(self._sorted, hashes, "left")
        last = np.searchsorted(self._sorted, hashes, "right")
        held, keys = self._signatures, self._keys
        for band in np.flatnonzero(first < last).tolist():
            start = band * _WIDTH
            value = signature[start : start + _WIDTH]
            for entry in self._entries[first[band] : last[band]].tolist():
                n, b = divmod(entry, BANDS)
                at = n * _SIGNATURE + start
                if b == band and held[at : at + _WIDTH] == value:
                    found.add(keys[n])


_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


def put(table: dict[_K, _V | list[_V]], key: _K, value: _V) -> None:
    """Add `value` (never a list) under `key`: itself while it is the only one, then in a
    list, in the order added. Most keys of the index's tables hold one value, and a list
    each would cost 60 bytes more."""
    held = table.setdefault(key, value)  # one lookup for the usual new key
    if held is value:
        return
    if isinstance(held, list):
        held.append(value)
    else:
        table[key] = [held, value]


def _hashes(words: np.ndarray) -> np.ndarray:
    """Each band's hash, for each signature: (n, NUM_PERM // 2) uint64 words in, (n, BANDS)
    out. Equal bands at one position hash alike; the rest only by chance, and a hit is
    checked against the bytes."""
    low, high = words[:, 0 : 2 * BANDS : 2], words[:, 1 : 2 * BANDS : 2]
    mixed: np.ndarray = (low * _MIX[0]) ^ (high * _MIX[1]) ^ _POSITION
    return mixed
