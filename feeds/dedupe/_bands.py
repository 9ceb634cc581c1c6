"""MinHash LSH banding: which indexed signatures share a band with a query's.

Does what `datasketch.MinHashLSH` did here, on the stored signatures' bytes: no
`LeanMinHash` per article, no per-band byte-swapping and no key table for removals this
index never makes. A band is `ROWS` consecutive values; two signatures are candidates
when any band is equal in all its values, so the candidates are exactly datasketch's
(tests/test_dedupe.py checks both the parameters and the candidate sets).
"""

from __future__ import annotations

from ._features import NUM_PERM

# What datasketch's `_optimal_param` picks for threshold 0.4 (`LSH_THRESHOLD`), 64
# permutations and equal false positive/negative weights; a test keeps them in step.
BANDS = 16
ROWS = 4
_WIDTH = 4 * ROWS  # bytes of one band: ROWS little-endian uint32 values

assert BANDS * ROWS <= NUM_PERM


class Bands:
    """Band tables: for each band, the ids of the signatures with each value of it."""

    __slots__ = ("_tables",)

    def __init__(self) -> None:
        # A bucket holds one id as a str, or a list once a second id shares it: most
        # buckets keep one signature, and a list each would double the index's memory.
        self._tables: tuple[dict[bytes, str | list[str]], ...] = tuple({} for _ in range(BANDS))

    def insert(self, key: str, signature: bytes) -> None:
        """Index `signature` (NUM_PERM little-endian uint32 values) under `key`."""
        start = 0
        for table in self._tables:
            band = signature[start : start + _WIDTH]
            start += _WIDTH
            held = table.setdefault(band, key)  # one lookup for the usual new bucket
            if held is key:
                continue
            if isinstance(held, str):
                table[band] = [held, key]
            else:
                held.append(key)

    def query(self, signature: bytes) -> set[str]:
        """Keys of every indexed signature sharing at least one band with `signature`."""
        found: set[str] = set()
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
