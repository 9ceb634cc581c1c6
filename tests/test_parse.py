"""The parse stage: case files under tests/data/parse/ (body + NAME.expect.json), attack
bodies built at run time, and the feedparser and real-world corpora end to end."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feeds import publish
from feeds.errors import ParseError
from feeds.normalize import article
from feeds.parse import parse
from feeds.types import (
    Article,
    Config,
    FeedConfig,
    FetchResult,
    ParsedEntry,
    ParsedFeed,
    SourceConfig,
    SourceRef,
    Story,
    Validators,
)

DATA = Path(__file__).parent / "data"
NOW = datetime(2025, 9, 15, 12, 0, tzinfo=UTC)
URL = "https://site.example/blog/"
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def fetched(
    body: bytes | None, headers: dict[str, str] | None = None, url: str = URL
) -> FetchResult:
    return FetchResult(
        source_url=url,
        url=url,
        status=200,
        content=body,
        headers=tuple((k.lower(), v) for k, v in (headers or {}).items()),
        validators=Validators(),
        fetched_at=NOW,
    )


def as_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [as_json(v) for v in value]
    return value


# --------------------------------------------------------------------------- case files

CASES = sorted(DATA.glob("parse/*.expect.json"))


def body_of(expect_file: Path) -> Path:
    stem = expect_file.name.removesuffix(".expect.json")
    (body,) = [p for p in expect_file.parent.glob(stem + ".*") if p != expect_file]
    return body


@pytest.mark.parametrize("expect_file", CASES, ids=[c.name.split(".")[0] for c in CASES])
def test_case(expect_file: Path) -> None:
    expect = json.loads(expect_file.read_text(encoding="utf-8"))
    result = fetched(body_of(expect_file).read_bytes(), {"content-type": expect["content_type"]})
    if "error" in expect:
        with pytest.raises(ParseError, match=expect["error"]) as info:
            parse(result)
        assert info.value.url == URL
        return
    feed = parse(result)
    assert len(feed.entries) == expect["entries"]
    assert feed.version == expect.get("version", feed.version)
    assert list(feed.alternates) == expect.get("alternates", [])
    for key, value in expect.get("feed", {}).items():
        assert as_json(getattr(feed, key)) == value, key
    for entry, fields in zip(feed.entries, expect.get("entry", []), strict=False):
        for key, value in fields.items():
            assert as_json(getattr(entry, key)) == value, key
    if "warning" in expect:
        assert any(expect["warning"] in w for w in feed.warnings), feed.warnings
    if "repair" in expect:
        assert (feed.repair is not None) if expect["repair"] == "*" else feed.repair is None
    if "max_text" in expect:
        assert all(len(e.title or "") <= expect["max_text"] for e in feed.entries)
    assert_clean(feed)


def assert_clean(feed: ParsedFeed) -> None:
    """No field of the feed or its entries holds a character XML 1.0 forbids."""
    assert_xml_safe(feed, *feed.entries)


def assert_xml_safe(*records: ParsedFeed | ParsedEntry | Article) -> None:
    for record in records:
        for field in dataclasses.fields(record):
            value = getattr(record, field.name)
            for text in value if isinstance(value, tuple) else (value,):
                if isinstance(text, str):
                    assert not FORBIDDEN.search(text), (field.name, text)


# --------------------------------------------------------------------------- attacks


def xxe_body(secret: Path) -> bytes:
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        '<rss version="2.0"><channel><title>t &xxe;</title>'
        "<item><title>leak: &xxe;</title><link>https://x.example/1</link>"
        "<description>&xxe;</description></item></channel></rss>"
    ).encode()


def all_text(feed: ParsedFeed) -> str:
    return json.dumps([dataclasses.asdict(e) for e in feed.entries], default=str) + str(feed.title)


@pytest.mark.parametrize("codec", ["utf-8", "utf-16"])
def test_external_entity_never_reads_a_local_file(tmp_path: Path, codec: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-42")
    xml = xxe_body(secret).decode()
    body = xml.replace('version="1.0"', f'version="1.0" encoding="{codec}"').encode(codec)
    feed = parse(fetched(body, {"content-type": "application/xml"}))
    assert "TOPSECRET" not in all_text(feed)
    assert len(feed.entries) == 1
    assert any("DOCTYPE" in w for w in feed.warnings)


def test_local_external_dtd_is_dropped(tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "TOPSECRET-DTD">')
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "file://{dtd}">'
        "<rss version='2.0'><channel><item><title>a &leak;</title></item></channel></rss>"
    ).encode()
    feed = parse(fetched(body))
    assert "TOPSECRET" not in all_text(feed)
    assert any("DOCTYPE" in w for w in feed.warnings)


def test_harmless_public_doctype_is_left_alone() -> None:
    body = (
        b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel><title>N</title><item><title>i</title>'
        b"<link>https://n.example/</link></item></channel></rss>"
    )
    feed = parse(fetched(body))
    assert feed.version == "rss091n"
    assert not any("DOCTYPE" in w for w in feed.warnings)


def test_not_modified_has_no_body() -> None:
    with pytest.raises(ParseError, match="not a feed"):
        parse(fetched(None))


def test_content_location_is_the_final_url_for_relative_links() -> None:
    body = b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="p/1"/></entry></feed>'
    feed = parse(fetched(body, url="https://final.example/feeds/atom"))
    assert feed.url == "https://final.example/feeds/atom"
    assert feed.entries[0].link == "https://final.example/feeds/p/1"


def test_updated_does_not_fall_back_to_published() -> None:
    body = (
        b'<rss version="2.0"><channel><item><title>x</title>'
        b"<pubDate>Mon, 15 Sep 2025 10:30:00 GMT</pubDate></item></channel></rss>"
    )
    (entry,) = parse(fetched(body)).entries
    assert entry.published == datetime(2025, 9, 15, 10, 30, tzinfo=UTC)
    assert entry.updated is None and entry.updated_raw is None


def test_unreadable_arabic_date_keeps_the_raw_string() -> None:
    raw = "الإثنين، 15 سبتمبر 2025 10:30:00 +0300"
    body = f"<rss version='2.0'><channel><item><pubDate>{raw}</pubDate></item></channel></rss>"
    (entry,) = parse(fetched(body.encode())).entries
    assert entry.published is None
    assert entry.published_raw == raw


# --------------------------------------------------------------------------- corpora

SOURCE = SourceConfig(url=URL, name="Example")
FEEDPARSER = sorted(p for p in (DATA / "feedparser").rglob("*") if p.suffix in (".xml", ".json"))
REAL = sorted(p for p in (DATA / "real").iterdir() if p.name != "README.md")
HEADER = re.compile(rb"^Header:\s*([\w-]+):\s*(.*?)\s*$", re.MULTILINE)


def corpus_headers(body: bytes) -> dict[str, str]:
    """feedparser's test files state their HTTP headers in a leading comment."""
    head = body[:2048]
    headers = {k.decode().lower(): v.decode("latin-1") for k, v in HEADER.findall(head)}
    if not headers and b"Header:" not in head:
        headers = {"content-type": "application/xml"}
    return headers


def parse_and_normalize(body: bytes, headers: dict[str, str]) -> int:
    """Parse, normalize and publish one corpus body; everything must come out clean.

    Returns how many articles it gave, or -1 for a ParseError (a clean outcome for a
    body that is not a feed)."""
    try:
        feed = parse(fetched(body, headers))
    except ParseError:
        return -1
    assert_clean(feed)
    articles = []
    for entry in feed.entries:
        art = article(entry, feed, SOURCE, fetched_at=NOW)
        if art is None:
            continue
        assert_xml_safe(art)
        assert art.published <= NOW.replace(day=16)
        assert "<script" not in art.content_html.lower()
        articles.append(art)
    assert_publishes(articles)
    return len(articles)


#: How many articles each corpus file gave when its floor was last written (-1: a
#: ParseError). A file must give at least as many again: a valid feed that starts
#: failing, or loses entries, fails its test. Rewrite it, after checking the change is
#: an improvement, with `python tests/test_parse.py --write-floor`.
FLOOR_FILE = DATA / "corpus-floor.tsv"


def _floors() -> dict[str, int]:
    if not FLOOR_FILE.exists():  # only while --write-floor makes it
        return {}
    rows = (line.split("\t") for line in FLOOR_FILE.read_text(encoding="utf-8").splitlines())
    return {name: int(count) for name, count in rows}


FLOORS = _floors()


def _corpus_name(path: Path) -> str:
    return path.relative_to(DATA).as_posix()


def _check_floor(path: Path, got: int) -> None:
    floor = FLOORS.get(_corpus_name(path))
    assert floor is not None, f"no floor for {path.name}: see FLOOR_FILE"
    if floor >= 0:
        assert got >= floor, f"{path.name}: {got} articles, {floor} before"


CONFIG = Config(
    path="config.yaml", title="تجربة", base_url="https://example.org/", output_dir="out",
    database="feeds.db",
)  # fmt: skip
FEED = FeedConfig(slug="all", title="الكل")
UNSAFE = re.compile(r"<script|javascript:|\son[a-z]+\s*=", re.IGNORECASE)


def assert_publishes(articles: list[Article]) -> None:
    """Render the articles as one story each and read every format back."""
    stories = [
        Story(
            id=a.id,
            title=a.title,
            url=a.url or URL,
            summary_html=a.summary_html,
            content_html=a.content_html,
            published=a.published,
            updated=a.published,
            language=a.language,
            sources=(SourceRef(a.url or URL, "Example", URL),),
        )
        for a in {a.id: a for a in articles}.values()
    ]
    for render in (publish.render_rss, publish.render_atom):
        # feedparser's own sanitizer would hide what we wrote: read it raw.
        out = feedparser.parse(render(CONFIG, FEED, stories), sanitize_html=False)
        assert not out.bozo, out.get("bozo_exception")
        assert len(out.entries) == len(stories)
        for entry in out.entries:
            for part in (*entry.get("content", []), entry.get("summary_detail")):
                assert not part or not UNSAFE.search(part["value"])
    doc = json.loads(publish.render_json(CONFIG, FEED, stories))
    assert len(doc["items"]) == len(stories)
    assert not any(UNSAFE.search(i.get("content_html", "")) for i in doc["items"])


@pytest.mark.parametrize(
    "path", FEEDPARSER, ids=[str(p.relative_to(DATA / "feedparser")) for p in FEEDPARSER]
)
def test_feedparser_corpus(path: Path) -> None:
    body = path.read_bytes()
    _check_floor(path, parse_and_normalize(body, corpus_headers(body)))


def corpus_outcomes(*, raw: bool = False) -> list[object]:
    """What `parse` makes of every corpus body (a ParsedFeed, or its error); with `raw`,
    also feedparser's own results, with its default options and with ours."""
    cases = [(p.read_bytes(), corpus_headers(p.read_bytes())) for p in FEEDPARSER]
    cases += [(p.read_bytes(), {"content-type": "application/xml"}) for p in REAL]
    out: list[object] = []
    for body, headers in cases:
        if raw:
            for options in ({}, {"sanitize_html": False, "resolve_relative_uris": False}):
                d = feedparser.parse(io.BytesIO(body), response_headers=headers, **options)
                exc = d.pop("bozo_exception", None)  # exceptions compare by identity
                out.append((d, type(exc).__name__, str(exc)))
        try:
            out.append(parse(fetched(body, headers)))
        except ParseError as e:
            out.append(str(e))
    assert sum(isinstance(o, ParsedFeed) and bool(o.entries) for o in out) > 1000
    return out


def test_memoized_uri_joins_change_no_parse_result(monkeypatch: pytest.MonkeyPatch) -> None:
    mixin = feedparser.mixin
    cached = {n: getattr(mixin, n) for n in ("make_safe_absolute_uri", "_urljoin")}
    assert all(hasattr(f, "cache_info") for f in cached.values())  # parse installed them
    with_cache = corpus_outcomes()
    assert cached["make_safe_absolute_uri"].cache_info().hits > 1000
    size = cached["_urljoin"].cache_info().currsize
    assert cached["_urljoin"]("http://a.example/", "x" * 5000).endswith("x" * 5000)
    assert cached["_urljoin"].cache_info().currsize == size  # a long one is not kept
    for name, f in cached.items():
        monkeypatch.setattr(mixin, name, f.__wrapped__)
    assert with_cache == corpus_outcomes()


def test_feedparser_fast_paths_change_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """`parse` gives FeedParserDict plain lookups and a quick deep copy, and feedparser's
    win-1252 table a memory; feedparser's own results, and ours, are the same without."""
    cls, mixin = feedparser.FeedParserDict, feedparser.mixin
    assert getattr(cls, "_feeds_fast", False)  # parse installed them
    fast = corpus_outcomes(raw=True)
    table = mixin._cp1252
    assert table[0x0627] == 0x0627  # an Arabic letter, kept
    text = "x\x80\x9f\u0627\U0001f600\uffff"  # the table's end, and past it
    assert text.translate(table) == text.translate(feedparser.html._cp1252) != text
    copied = copy.deepcopy(cls({"type": "text/html", "links": [cls({"rel": "x"})]}))
    assert copied == {"type": "text/html", "links": [{"rel": "x"}]}
    assert type(copied["links"][0]) is cls
    monkeypatch.setattr(cls, "get", cls.get.__wrapped__)
    monkeypatch.setattr(cls, "__contains__", cls.__contains__.__wrapped__)
    monkeypatch.delattr(cls, "__deepcopy__")
    monkeypatch.setattr(mixin, "_cp1252", dict(feedparser.html._cp1252))
    assert fast == corpus_outcomes(raw=True)


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_real_feeds(path: Path) -> None:
    got = parse_and_normalize(path.read_bytes(), {"content-type": "application/xml"})
    _check_floor(path, got)
    if path.suffix in (".xml", ".rss", ".atom", ".rdf", ".json"):
        assert got > 0 or path.name.endswith("_empty.xml"), "a real feed gives articles"


def _write_floor() -> None:
    """The floor file, from what the corpus gives now (sorted, one file a line)."""
    lines = []
    for path in FEEDPARSER:
        body = path.read_bytes()
        lines.append(f"{_corpus_name(path)}\t{parse_and_normalize(body, corpus_headers(body))}")
    for path in REAL:
        got = parse_and_normalize(path.read_bytes(), {"content-type": "application/xml"})
        lines.append(f"{_corpus_name(path)}\t{got}")
    FLOOR_FILE.write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")


if __name__ == "__main__" and sys.argv[1:] == ["--write-floor"]:
    _write_floor()


def test_real_arabic_feed_reads_as_arabic() -> None:
    feed = parse(fetched((DATA / "real" / "ar_picturingjordan_home.xml").read_bytes()))
    assert len(feed.entries) == 20
    assert feed.repair is None
    arts = [article(e, feed, SOURCE, fetched_at=NOW) for e in feed.entries]
    assert all(a is not None and a.language == "ar" for a in arts)


def test_real_empty_arabic_feed() -> None:
    feed = parse(fetched((DATA / "real" / "ar_eis1600_empty.xml").read_bytes()))
    assert feed.entries == ()
    assert feed.title


def test_latin1_labelled_utf8_is_not_read_as_arabic() -> None:
    # Declared UTF-8, really ISO-8859-1: the cp1256 retry must not turn ç/ã into Arabic.
    body = (DATA / "real" / "pt_uol_noticias.rss").read_bytes()
    feed = parse(fetched(body, {"content-type": "application/xml"}))
    assert feed.encoding == "windows-1252"
    assert feed.repair is None
    assert "simulações" in (feed.entries[0].title or "")


def test_fast_paths_are_applied_only_to_a_tested_feedparser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from feeds.parse import _patches

    monkeypatch.setattr(feedparser, "__version__", "7.0.0")
    assert _patches.apply() is False  # a release that may use its internals otherwise
    monkeypatch.setattr(feedparser, "__version__", min(_patches.TESTED))
    assert _patches.apply() is True


def test_a_garbled_encoding_label_is_a_parse_error() -> None:
    """feedparser raised UnicodeDecodeError on `encoding="UTF-\\xb8"` (a fuzz case)."""
    body = b'<?xml version="1.0" encoding="UTF-\xb8"?><rss><channel><item><title>t</title>'
    with pytest.raises(ParseError, match="cannot decode"):
        parse(fetched(body + b"</item></channel></rss>"))


def test_a_namespace_holding_a_space_is_a_parse_error() -> None:
    """feedparser's strict parser raised ValueError when a namespace URI held U+0085:
    Python's expat reader splits each namespaced name at whitespace (a fuzz case)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:slash="http://purl.org/rss/1.0/modu\u0085les/slash/"><channel><title>t</title>'
        "<item><title>x</title><slash:comments>3</slash:comments></item></channel></rss>"
    ).encode()
    with pytest.raises(ParseError, match="XML parser failed"):
        parse(fetched(body))


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (
            b"<rss version='2.0'><channel><title>t</title><item><title>a</title>"
            + b"".join(b"<category>c%d</category>" % n for n in range(1_500))
            + b"</item></channel></rss>",
            "an item with 1500 categories (at most 1000)",
        ),
        (
            b"<rss version='2.0'><channel><title>t</title><item><title>a</title><description "
            + b" ".join(b"a%d='v'" % n for n in range(2_000))
            + b">d</description></item></channel></rss>",
            "an element with 2000 attributes (at most 1000)",
        ),
    ],
    ids=["categories", "attributes"],
)
def test_a_body_that_would_take_feedparser_minutes_is_refused(body: bytes, why: str) -> None:
    # feedparser compares each attribute of an element, and each category of an item,
    # with every one before it: 100,000 categories took it 146 s, and 50,000 attributes
    # 30 s. Past a thousand, no feed anyone writes: the source fails, in one line.
    with pytest.raises(ParseError, match="refused: " + re.escape(why)):
        parse(fetched(body))


def test_a_thousand_categories_in_every_item_are_read() -> None:
    items = b"".join(
        b"<item><title>a%d</title><link>https://x.example/%d</link>" % (i, i)
        + b"".join(b"<category>c%d</category>" % n for n in range(1_000))
        + b"</item>"
        for i in range(3)
    )
    feed = parse(
        fetched(b"<rss version='2.0'><channel><title>t</title>" + items + b"</channel></rss>")
    )
    assert [len(e.categories) for e in feed.entries] == [1_000] * 3
