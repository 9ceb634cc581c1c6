"""Property-based fuzzing of parse, normalize and publish (hypothesis).

In CI each test runs ~100 examples with no deadline. For a longer run set
FEEDS_FUZZ_EXAMPLES, e.g.::

    FEEDS_FUZZ_EXAMPLES=20000 .venv/bin/pytest -q tests/reliability/test_fuzz.py

Seeds for the mutations are the bundled demo feeds (feeds/demo_data/): real-world
shapes of RSS 2.0, RSS 1.0 and Atom in Arabic.

Properties: parse(any bytes) raises nothing but ParseError; parse + normalize of a
mutated seed (bit flips, truncation, control characters, entities, huge attributes,
spliced tags) raises nothing but ParseError, and parses the same with and without the
RSS fast path; the renderers turn any Story records
(random unicode with control characters, lone surrogates, RTL marks) into files that
feedparser / json / ElementTree / html.parser read back with the same number of items.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import feedparser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds import normalize, parse, publish
from feeds.errors import ParseError
from feeds.parse import _fast
from feeds.types import (
    Config,
    FeedConfig,
    FetchResult,
    SourceConfig,
    SourceRef,
    Story,
    Validators,
)

settings.register_profile(
    "feeds-fuzz",
    max_examples=int(os.environ.get("FEEDS_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings.get_profile("feeds-fuzz")

SEEDS = sorted((Path(__file__).resolve().parents[2] / "feeds" / "demo_data").glob("*.[xra]*"))
SEED_BYTES = [p.read_bytes()[:20_000] for p in SEEDS if p.suffix != ".json"]
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SOURCE = SourceConfig(url="https://src.example/feed", name="مصدر")


def _result(body: bytes, ctype: str = "application/xml") -> FetchResult:
    return FetchResult(
        source_url=SOURCE.url, url=SOURCE.url, status=200, content=body,
        headers=(("content-type", ctype),), validators=Validators(), fetched_at=NOW,
    )  # fmt: skip


def _parse_and_normalize(body: bytes, ctype: str = "application/xml") -> None:
    try:
        feed = parse.parse(_result(body, ctype))
    except ParseError:
        return
    for entry in feed.entries:
        normalize.article(entry, feed, SOURCE, fetched_at=NOW, first_seen=NOW)


@FUZZ
@given(
    st.binary(max_size=4096), st.sampled_from(["application/xml", "application/json", "text/html"])
)
def test_parse_of_random_bytes_raises_only_parse_error(body: bytes, ctype: str) -> None:
    _parse_and_normalize(body, ctype)


INSERTS = (
    b"\x00", b"\x01", b"\x0b", b"\x1f", b"\x7f", b"\xc2\x85", b"\xe2\x80\x8f", b"\xef\xbf\xbe",
    b"&amp;", b"&nbsp;", b"&#0;", b"&#xD800;", b"&#1114112;", b"&#99999999999999;",
    b"&undefined;", b"&lt;script&gt;", b"<![CDATA[", b"]]>", b"<!--", b"-->",
    b"<?xml version='1.0'?>", b"<!DOCTYPE x>", b' href="' + b"a" * 70_000 + b'"',
    b"<item>", b"</item>", b"<entry>", b"</channel>", b"<title>", b"</title>",
    b"<link>javascript:alert(1)</link>", b"\xd8", b"\xff\xfe",
)  # fmt: skip

#: A mutation as a small tuple (kind, where, what), so a failing example prints short:
#: `where` and `to` are fractions of the document's length, `what` indexes INSERTS or
#: is a bit number or a splice length.
MUTATION = st.tuples(
    st.sampled_from(["flip", "truncate", "insert", "splice"]),
    st.floats(0, 1),
    st.integers(0, 400),
    st.floats(0, 1),
)


def mutate(seed: bytes, mutations: list[tuple[str, float, int, float]]) -> bytes:
    data = bytearray(seed)
    for kind, where, what, to in mutations:
        at = int(where * max(len(data) - 1, 0))
        if kind == "flip" and data:
            data[at] ^= 1 << (what % 8)
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = INSERTS[what % len(INSERTS)]
        else:  # a stretch copied somewhere else: tags out of order, nested in themselves
            data[int(to * len(data)) : int(to * len(data))] = data[at : at + what + 1]
    return bytes(data)


@FUZZ
@given(st.sampled_from(range(len(SEED_BYTES))), st.lists(MUTATION, min_size=1, max_size=6))
def test_parse_and_normalize_of_mutated_feeds_raise_only_parse_error(
    seed: int, mutations: list[tuple[str, float, int, float]]
) -> None:
    _parse_and_normalize(mutate(SEED_BYTES[seed], mutations))


def _outcome(body: bytes, *, fast: bool) -> object:
    was, _fast.ENABLED = _fast.ENABLED, fast
    try:
        return parse.parse(_result(body))
    except ParseError as e:
        return str(e)
    finally:
        _fast.ENABLED = was


@FUZZ
@given(st.sampled_from(range(len(SEED_BYTES))), st.lists(MUTATION, min_size=1, max_size=6))
def test_mutated_feeds_parse_the_same_with_and_without_the_fast_path(
    seed: int, mutations: list[tuple[str, float, int, float]]
) -> None:
    body = mutate(SEED_BYTES[seed], mutations)
    assert _outcome(body, fast=True) == _outcome(body, fast=False)


# --------------------------------------------------------------------------- publish

_NASTY = st.sampled_from([
    "\u200f", "\u202e", "\u061c", "\x00", "\x08", "\x1b", "\ufffe", "\uffff", "\ud800",
    "\udfff", "]]>", "<![CDATA[", "&", "<b>", "\u0627\u0644\u0630\u0643\u0627\u0621",
])  # fmt: skip
TEXT = st.lists(st.one_of(st.text(max_size=20), _NASTY), max_size=6).map("".join)
DATES = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
URLS = st.one_of(
    st.just("https://example.org/a?b=1&c=2"),
    TEXT.map(lambda t: "https://example.org/" + t),
)


@st.composite
def stories(draw: st.DrawFn) -> Story:
    published = draw(DATES)
    refs = draw(
        st.lists(st.builds(SourceRef, url=URLS, name=TEXT, source_url=URLS), min_size=1, max_size=3)
    )
    return Story(
        id=draw(st.text("abcdef0123456789", min_size=8, max_size=20).map(lambda s: "s" + s)),
        title=draw(TEXT), url=draw(URLS), summary_html=draw(TEXT), content_html=draw(TEXT),
        published=published, updated=max(published, draw(DATES)),
        language=draw(st.sampled_from(["ar", "en", "mixed"])), sources=tuple(refs),
        topics=tuple(draw(st.lists(st.sampled_from(["ai", "space"]), max_size=2))),
        authors=tuple(draw(st.lists(TEXT, max_size=2))),
        categories=tuple(draw(st.lists(TEXT, max_size=2))),
        image=draw(st.one_of(st.none(), URLS)),
    )  # fmt: skip


CONFIG = Config(
    path="/x/config.yaml", title="أخبار", base_url="https://example.org/feeds/",
    output_dir="/x/out", database="/x/db", sources=(SOURCE,),
)  # fmt: skip


class _Html(HTMLParser):
    pass


@FUZZ
@given(st.lists(stories(), max_size=5, unique_by=lambda s: s.id), TEXT)
def test_renderers_always_write_well_formed_files(items: list[Story], title: str) -> None:
    feed = FeedConfig(slug="all", title=title or "x", description=title)
    rss = publish.render_rss(CONFIG, feed, items)
    atom = publish.render_atom(CONFIG, feed, items)
    for data in (rss, atom):
        ET.fromstring(data)
        parsed = feedparser.parse(data)
        assert not parsed.bozo, parsed.bozo_exception
        assert len(parsed.entries) == len(items)
    doc = json.loads(publish.render_json(CONFIG, feed, items))
    assert len(doc["items"]) == len(items)
    assert sorted(i["id"] for i in doc["items"]) == sorted(publish.item_id(s) for s in items)
    page = publish.render_index(CONFIG, [(feed, items)]).decode("utf-8")
    checker = _Html()
    checker.feed(page)
    checker.close()
    assert page.rstrip().lower().endswith("</html>")
