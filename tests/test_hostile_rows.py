"""No single article's data can stop clustering or publishing.

Rows are put straight into a real store, as a store written by an older version (which
took Hugo's ``Mon, 01 Jan 0001`` at its word) or edited by hand would hold them; the
next pass exits 0, publishes the good articles, and every date it publishes is valid.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from pytest_httpserver import HTTPServer
from servers import LOOPBACK_YAML

from feeds import config
from feeds.store import open_store
from feeds.types import EARLIEST_DATE, DateSource, ParsedEntry, ParsedFeed, SourceConfig

DATA = Path(__file__).parent / "data" / "pipeline"

# (id, published, first_seen, title, other columns) of each hostile row.
HOSTILE = {
    "year-one": {"published": "0001-01-01T00:00:00+00:00"},
    "year-9999": {"published": "9999-12-31T23:59:59+00:00"},
    "nan": {"published": "NaN", "first_seen": "NaN"},
    "empty-date": {"published": "", "first_seen": ""},
    "naive": {"published": "2026-11-23T08:00:00"},
    "empty-title": {"title": "", "title_key": "", "text_key": ""},
    "huge-token": {"title": "ب" * 200_000, "title_key": "ب" * 200_000, "text_key": "ب" * 200_000},
    "bad-columns": {
        "date_source": "from-the-future",
        "authors": "{not json",
        "categories": "[1, 2]",
        "match_features": "garbage",
        "topic_scores": "{also garbage",
    },
}


def _row(key: str, source_url: str, **over: str) -> dict[str, object]:
    row: dict[str, object] = {
        "id": f"ahostile-{key}",
        "source_url": source_url,
        "story_id": None,
        "guid": f"urn:hostile:{key}",
        "url": f"https://hostile.example/{key}",
        "canonical_url": f"https://hostile.example/{key}",
        "title": f"عنوان غريب {key}",
        "summary_html": "<p>نص</p>",
        "content_html": "<p>نص</p>",
        "published": "2026-11-23T08:00:00+00:00",
        "date_source": "feed",
        "first_seen": "2026-11-23T09:00:00+00:00",
        "updated": "2026-11-23T09:00:00+00:00",
        "language": "ar",
        "title_key": f"عنوان غريب {key}",
        "text_key": f"عنوان غريب {key} نص",
        "content_hash": key,
        "authors": "[]",
        "categories": "[]",
        "image": None,
        "match_features": None,
        "topic_scores": None,
    }
    row.update(over)
    return row


def _run(cfg: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feeds", "run", "--all", "-c", str(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def poisoned(tmp_path: Path, httpserver: HTTPServer) -> Path:
    httpserver.expect_request("/alpha.rss").respond_with_data(
        (DATA / "alpha.rss").read_bytes(), content_type="application/rss+xml"
    )
    url = httpserver.url_for("/alpha.rss")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "title: t\nbase_url: https://example.org/feeds/\noutput_dir: out\n"
        f"database: data/feeds.db\nschedule: {{interval: 1m}}\n{LOOPBACK_YAML}\n"
        f"sources:\n  - url: {json.dumps(url)}\n    name: alpha\n"
        "feeds:\n  - slug: all\n    title: all\n",
        encoding="utf-8",
    )
    conf = config.load(cfg)
    open_store(conf.database).close()  # the schema, as a first pass would make it
    with sqlite3.connect(conf.database) as db:
        db.execute("INSERT INTO sources (url, name, fetch_url) VALUES (?, 'alpha', ?)", (url, url))
        for key, over in HOSTILE.items():
            row = _row(key, url, **over)
            marks = ", ".join(f":{c}" for c in row)
            db.execute(f"INSERT INTO articles ({', '.join(row)}) VALUES ({marks})", row)
    return cfg


def test_a_pass_over_hostile_rows_exits_0_and_publishes_the_rest(poisoned: Path) -> None:
    done = _run(poisoned)
    assert done.returncode == 0, done.stderr
    out = poisoned.parent / "out"
    rss = feedparser.parse((out / "all.rss").read_bytes())
    atom = feedparser.parse((out / "all.atom").read_bytes())
    doc = json.loads((out / "all.json").read_text(encoding="utf-8"))
    good = [e for e in rss.entries if "hostile" not in e.link]
    assert good, "the good source's articles are published"
    assert len(rss.entries) == len(atom.entries) == len(doc["items"])
    for entry in rss.entries:
        assert entry.published_parsed is not None, entry.published  # RFC 822, readable
        assert re.search(r", \d\d \w{3} \d{4} ", entry.published), entry.published
    for item in doc["items"]:
        for key in ("date_published", "date_modified"):
            when = datetime.fromisoformat(item[key].replace("Z", "+00:00"))
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item[key])
            assert datetime(1995, 1, 1, tzinfo=UTC) <= when < datetime(2100, 1, 1, tzinfo=UTC)
    # Every hostile row was filed into a story: none is left to stop the next pass.
    again = _run(poisoned)
    assert again.returncode == 0, again.stderr
    conf = config.load(poisoned)
    with sqlite3.connect(conf.database) as db:
        assert db.execute("SELECT count(*) FROM articles WHERE story_id IS NULL").fetchone() == (0,)


def test_a_placeholder_date_reads_as_first_seen(tmp_path: Path) -> None:
    db = tmp_path / "feeds.db"
    open_store(str(db)).close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO sources (url, name, fetch_url) VALUES ('u', 'n', 'u')")
        for key, over in HOSTILE.items():
            row = _row(key, "u", **over)
            marks = ", ".join(f":{c}" for c in row)
            conn.execute(f"INSERT INTO articles ({', '.join(row)}) VALUES ({marks})", row)
    with open_store(str(db)) as store:
        rows = {r.id.removeprefix("ahostile-"): r for r in store.unassigned_match_rows()}
    seen = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert rows["year-one"].published == seen
    assert rows["year-9999"].published == seen
    assert rows["nan"].published == EARLIEST_DATE
    assert rows["naive"].published == datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert rows["empty-title"].published == datetime(2026, 11, 23, 8, tzinfo=UTC)


FETCHED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("published", "updated", "expected"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), None, DateSource.REJECTED),
        (datetime(1994, 12, 31, tzinfo=UTC), None, DateSource.REJECTED),
        (datetime(9999, 12, 31, tzinfo=UTC), None, DateSource.REJECTED),
        (FETCHED + timedelta(days=3), None, DateSource.REJECTED),
        (datetime(1, 1, 1, tzinfo=UTC), FETCHED - timedelta(hours=2), DateSource.FEED),
        (datetime(1995, 1, 1, tzinfo=UTC), None, DateSource.FEED),
    ],
    ids=["year-1", "1994", "year-9999", "future", "year-1-with-updated", "1995"],
)
def test_dates_that_cannot_be_right_fall_back_to_first_seen(
    published: datetime, updated: datetime | None, expected: DateSource
) -> None:
    from feeds import normalize

    entry = ParsedEntry(
        guid="g",
        title="عنوان",
        link="https://example.org/a",
        summary="نص",
        published=published,
        published_raw=str(published),
        updated=updated,
        updated_raw=str(updated) if updated else None,
    )
    feed = ParsedFeed(url="https://example.org/feed")
    seen = FETCHED - timedelta(hours=5)
    art = normalize.article(
        entry, feed, SourceConfig(url=feed.url), fetched_at=FETCHED, first_seen=seen
    )
    assert art is not None
    assert art.date_source is expected
    if expected is DateSource.REJECTED:
        assert art.published == seen
    else:
        assert art.published in (published, updated)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
        (datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC), "2026-03-04T05:06:07Z"),
    ],
    ids=["year-1", "fractions"],
)
def test_json_feed_dates_have_four_digit_years(when: datetime, expected: str) -> None:
    from feeds import publish
    from feeds.types import Config, FeedConfig, SourceRef, Story

    story = Story(
        id="s1", title="عنوان", url="https://e.example/a", summary_html="", content_html="",
        published=when, updated=when, language="ar",
        sources=(SourceRef(url="https://e.example/a", name="e"),),
    )  # fmt: skip
    config = Config(
        path="c", title="t", base_url="https://e.example/", output_dir="o", database="d"
    )
    item = json.loads(publish.render_json(config, FeedConfig(slug="all", title="t"), [story]))
    assert (item["items"][0]["date_published"], item["items"][0]["date_modified"]) == (
        expected,
        expected,
    )
