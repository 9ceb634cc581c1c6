"""One source must not swamp a pass (issue 20): the items taken from a source in one
pass are capped (`fetch.max_items`, newest first), content is cut at a block boundary,
each cap a source met is said in `feeds status` and on the status page, and no stored
article is ever dropped because of a cap. A real server on 127.0.0.1, a real SQLite
file, the published JSON Feed read back.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from servers import LOOPBACK_YAML

from feeds import config, normalize, pipeline
from feeds.errors import ConfigError
from feeds.markup import MAX_HTML
from feeds.store import open_store
from feeds.types import ParsedEntry

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _rss(items: list[tuple[int, datetime | None]], body: str = "") -> bytes:
    """RSS of numbered items, in the order given; a None date leaves pubDate out."""
    parts = []
    for n, when in items:
        date = f"<pubDate>{format_datetime(when)}</pubDate>" if when else ""
        parts.append(
            f"<item><title>خبر رقم {n} عن موضوع {n}</title>"
            f"<link>https://big.example/p/{n}</link><guid>https://big.example/?p={n}</guid>"
            f"{date}<description>نص الخبر {n}.{body}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>t</title><link>https://big.example/</link>{''.join(parts)}</channel></rss>"
    ).encode()


def _config(tmp_path: Path, url: str, fetch: str = "") -> config.Config:
    path = tmp_path / "config.yaml"
    loopback = LOOPBACK_YAML.rstrip("}") + (f", {fetch}}}" if fetch else "}")
    path.write_text(
        "title: t\nbase_url: https://example.org/feeds/\noutput_dir: out\n"
        f"database: data/feeds.db\n{loopback}\n"
        f"sources:\n  - url: {json.dumps(url)}\n    name: big\n"
        "feeds:\n  - slug: all\n    title: all\n    limit: 5000\n",
        encoding="utf-8",
    )
    return config.load(path)


def _pass(cfg: config.Config, now: datetime = NOW) -> None:
    with open_store(cfg.database) as store:
        pipeline.run_pass(cfg, store, every=True, now=lambda: now)


def _stored(cfg: config.Config) -> set[str]:
    with sqlite3.connect(cfg.database) as db:
        return {r[0] for r in db.execute("SELECT url FROM articles")}


def _caps(cfg: config.Config) -> str | None:
    with open_store(cfg.database) as store:
        (state,) = store.sources()
    return state.caps


def test_loopback_yaml_is_a_flow_mapping() -> None:
    """`_config` appends to it; a change to its shape should fail here, not oddly."""
    assert LOOPBACK_YAML.startswith("fetch: {") and LOOPBACK_YAML.rstrip().endswith("}")


def test_a_pass_takes_the_newest_thousand_and_says_so(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # 1,500 items, oldest first in the file: the newest are at its end.
    items = [(n, NOW - timedelta(hours=1500 - n)) for n in range(1500)]
    httpserver.expect_request("/big.rss").respond_with_data(_rss(items))
    cfg = _config(tmp_path, httpserver.url_for("/big.rss"))
    assert cfg.fetch.max_items == 1000  # the contract's default
    run = _feeds("run", "-c", cfg.path)  # the whole pass, status page included
    assert run.returncode == 0, run.stderr
    stored = _stored(cfg)
    assert stored == {f"https://big.example/p/{n}" for n in range(500, 1500)}
    doc = json.loads((Path(cfg.output_dir) / "all.json").read_text(encoding="utf-8"))
    assert len(doc["items"]) == 1000
    said = "kept the newest 1,000 of 1,500 items (fetch.max_items)"
    assert _caps(cfg) == said
    assert f"capped: {said}" in _feeds("status", "-c", cfg.path).stdout
    assert json.loads(_feeds("status", "--json", "-c", cfg.path).stdout)[0]["caps"] == said
    page = (Path(cfg.path).parent / "data" / "status.html").read_text(encoding="utf-8")
    assert said in page


def _feeds(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feeds", *args], capture_output=True, text=True, timeout=120
    )


def test_a_lower_cap_never_drops_what_is_stored(tmp_path: Path, httpserver: HTTPServer) -> None:
    items = [(n, NOW - timedelta(hours=300 - n)) for n in range(300)]
    httpserver.expect_request("/big.rss").respond_with_data(_rss(items))
    url = httpserver.url_for("/big.rss")
    _pass(_config(tmp_path, url))
    assert len(_stored(_config(tmp_path, url))) == 300
    httpserver.clear()
    more = [*items, *((n, NOW + timedelta(hours=n - 299)) for n in range(300, 310))]
    httpserver.expect_request("/big.rss").respond_with_data(_rss(more))
    cfg = _config(tmp_path, url, "max_items: 20")
    _pass(cfg, NOW + timedelta(hours=12))
    stored = _stored(cfg)
    assert len(stored) == 310  # the ten new ones joined; none of the 300 left
    assert _caps(cfg) == "kept the newest 20 of 310 items (fetch.max_items)"


def test_a_source_within_the_caps_says_nothing(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big.rss").respond_with_data(_rss([(1, NOW), (2, NOW)]))
    cfg = _config(tmp_path, httpserver.url_for("/big.rss"))
    _pass(cfg)
    assert _caps(cfg) is None


def test_content_cut_at_the_bound_is_said(tmp_path: Path, httpserver: HTTPServer) -> None:
    huge = "".join(f"&lt;p&gt;فقرة طويلة رقم {i} من نص لا ينتهي.&lt;/p&gt;" for i in range(12_000))
    httpserver.expect_request("/big.rss").respond_with_data(_rss([(1, NOW), (2, NOW)], huge))
    cfg = _config(tmp_path, httpserver.url_for("/big.rss"))
    _pass(cfg)
    assert _caps(cfg) == f"cut the content of 2 items to {MAX_HTML:,} characters / 32 levels"
    doc = json.loads((Path(cfg.output_dir) / "all.json").read_text(encoding="utf-8"))
    for item in doc["items"]:
        assert len(item["content_html"]) < MAX_HTML + 1000
        assert item["content_html"].endswith("</p><p>…</p></div>")  # at a block boundary


@pytest.mark.parametrize(
    ("value", "said"),
    [("0", "must be at least 1, got 0"), ("many", "max_items"), ("-5", "must be at least 1")],
)
def test_a_bad_cap_is_named(tmp_path: Path, value: str, said: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "title: t\nbase_url: https://example.org/\noutput_dir: out\ndatabase: f.db\n"
        f"fetch:\n  max_items: {value}\n"
        "sources:\n  - url: https://a.example/feed\nfeeds:\n  - slug: all\n    title: all\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    assert "fetch.max_items" in str(caught.value) and said in str(caught.value)
    assert f"{path}:6" in str(caught.value)


def _entry(n: int, when: datetime | None, raw: str | None = None) -> ParsedEntry:
    return ParsedEntry(guid=str(n), title=f"t{n}", published=when, published_raw=raw)


def test_newest_keeps_the_feeds_order_and_counts_undated_entries_as_new() -> None:
    entries = [
        _entry(0, NOW - timedelta(days=3)),
        _entry(1, None),  # no date: first seen now, so among the newest
        _entry(2, NOW - timedelta(days=1)),
        _entry(3, None, "الاثنين، 23 نوفمبر 2026"),  # an Arabic date feedparser missed
        _entry(4, NOW - timedelta(days=2)),
    ]
    kept = normalize.newest(entries, 3, None, NOW)
    assert [e.guid for e in kept] == ["1", "2", "3"]  # 23 November, read as the feed's
    assert normalize.newest(entries, 10, None, NOW) == entries
    kept = normalize.newest(entries, 4, None, NOW)
    assert [e.guid for e in kept] == ["1", "2", "3", "4"]
