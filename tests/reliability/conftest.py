"""Fixtures of the fault-injection suite; the helpers themselves live in harness.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harness import CorpusServer, serve_corpus


@pytest.fixture
def corpus_server() -> Iterator[CorpusServer]:
    """110 sources, 22 generations of items, every 12th source slow."""
    yield from serve_corpus(CorpusServer(sources=110, generations=22))


@pytest.fixture
def small_server() -> Iterator[CorpusServer]:
    """8 sources, everything visible at once; source 5 takes 3 s, so a pass lasts."""
    yield from serve_corpus(CorpusServer(sources=8, generations=1, slow_s=2.0))


@pytest.fixture
def two_generations() -> Iterator[CorpusServer]:
    """8 quick sources whose feeds gain items in generation 1 (so files must change)."""
    yield from serve_corpus(CorpusServer(sources=8, generations=2, slow_every=1000))
