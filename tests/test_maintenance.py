"""Store maintenance on both backends: retention, export/import, integrity check, vacuum."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from stored import stored

from feeds.errors import StorageError
from feeds.store import Store, open_store
from feeds.types import Article, DateSource, SourceConfig

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=60)
CUTOFF = NOW - timedelta(days=30)
SRC = SourceConfig(url="https://a.example/feed", name="أ")


def article(n: int, *, published: datetime, first_seen: datetime, **kw: Any) -> Article:
    base = Article(
        id=f"a{n}", source_url=SRC.url, guid=None, url=f"https://a.example/{n}",
        canonical_url=f"https://a.example/{n}", title=f"عنوان {n}", summary_html="",
        content_html="<p>نص</p>", published=published, date_source=DateSource.FEED,
        first_seen=first_seen, language="ar", title_key=f"ع {n}", text_key=f"ع {n}",
        content_hash=f"h{n}", authors=("كاتبة",),
    )  # fmt: skip
    return replace(base, **kw)


def fill(store: Store) -> None:
    store.sync_sources([SRC])
    store.save_articles(
        [
            article(1, published=OLD, first_seen=OLD),  # old, story s1: purged
            article(2, published=OLD, first_seen=OLD),  # old, but its story s2 is kept
            article(3, published=OLD, first_seen=NOW),  # old date, first seen now: stays
            article(4, published=NOW, first_seen=OLD),  # seen long ago, dated now: stays
            article(5, published=OLD, first_seen=OLD),  # old and never clustered: purged
            article(6, published=OLD, first_seen=OLD),  # old, shares s3 with a new one
            article(7, published=NOW, first_seen=NOW),
        ],
        OLD,
    )
    store.assign(
        [("a1", "s1", True), ("a2", "s2", True), ("a3", "s3", True), ("a4", "s4", True),
         ("a6", "s3", False), ("a7", "s3", False)],
        OLD,
    )  # fmt: skip


def test_purge_deletes_old_articles_except_kept_stories(any_store: Store) -> None:
    fill(any_store)
    assert any_store.purge(CUTOFF, keep_story_ids={"s2"}) == 3
    assert [r["id"] for r in stored(any_store, "articles")] == ["a2", "a3", "a4", "a7"]
    assert [r["id"] for r in stored(any_store, "stories")] == ["s2", "s3", "s4"]
    assert any_store.purge(CUTOFF, keep_story_ids={"s2"}) == 0


def test_purge_drops_the_old_pages_no_article_links_to(any_store: Store) -> None:
    from feeds.store import PageResult

    fill(any_store)
    kept = {r["canonical_url"] for r in stored(any_store, "articles") if r["id"] == "a7"}
    [linked] = kept
    pages = [
        PageResult(linked, "extracted", "", "<p>x</p>"),
        PageResult("https://gone.example/", "failed", "why"),
    ]
    any_store.save_pages(pages, [], CUTOFF - timedelta(days=1))
    any_store.save_pages([PageResult("https://fresh.example/", "failed", "why")], [], NOW)
    any_store.purge(CUTOFF, keep_story_ids={"s2"})
    assert sorted(
        any_store.page_outcomes([linked, "https://gone.example/", "https://fresh.example/"])
    ) == sorted([linked, "https://fresh.example/"])


def test_purge_never_touches_a_kept_story(any_store: Store) -> None:
    fill(any_store)
    any_store.purge(NOW + timedelta(days=1), keep_story_ids=["s3"])
    assert {r.article.id for r in any_store.articles_of_stories(["s3"])} == {"a3", "a6", "a7"}
    assert len(stored(any_store, "articles")) == 3


def test_export_import_round_trip(any_store: Store, tmp_path: Path) -> None:
    fill(any_store)
    rows = list(any_store.export_rows())
    assert [r["table"] for r in rows] == ["sources"] + ["stories"] * 4 + ["articles"] * 7
    json.dumps(rows)  # JSON-able as they are
    with open_store(str(tmp_path / "copy.db")) as copy:
        assert copy.import_rows(rows) == len(rows)
        assert copy.import_rows(rows) == len(rows)  # upsert: importing twice is harmless
        assert list(copy.export_rows()) == rows


def test_sqlite_export_imports_into_postgres_identically(tmp_path: Path, pg_url: str) -> None:
    with open_store(str(tmp_path / "f.db")) as lite:
        fill(lite)
        lite.set_topics({"s3": (("ai",), False)})
        lines = [json.dumps(r, ensure_ascii=False) for r in lite.export_rows()]
    with open_store(pg_url) as pg:
        pg.import_rows(json.loads(line) for line in lines)
        again = [json.dumps(r, ensure_ascii=False) for r in pg.export_rows()]
        assert again == lines
        assert pg.check() == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"table": "people", "id": "x"}, "line 2: unknown table 'people'"),
        ({"table": "stories", "id": "x", "colour": "red"},
         r"line 2: unknown stories columns \['colour'\]"),
        ({"table": "stories", "created": "x"}, "line 2: stories row without its id"),
        ({"table": "stories", "id": "x"}, "line 2: stories row refused: "),  # NOT NULL
    ],
    ids=["unknown-table", "unknown-column", "missing-key", "refused-by-the-database"],
)  # fmt: skip
def test_import_refuses_unknown_names_and_writes_nothing(
    any_store: Store, bad: dict[str, Any], message: str
) -> None:
    good = {"table": "stories", "id": "s9", "created": "2026-01-01T00:00:00+00:00",
            "updated": "2026-01-01T00:00:00+00:00", "topics": "[]", "is_tech": 1}  # fmt: skip
    with pytest.raises(StorageError, match=message):
        any_store.import_rows([good, bad])
    assert stored(any_store, "stories") == []


def test_check_is_empty_on_a_sound_store_and_vacuum_keeps_rows(any_store: Store) -> None:
    fill(any_store)
    assert any_store.check() == []
    any_store.purge(CUTOFF, keep_story_ids=())
    any_store.vacuum()
    assert len(stored(any_store, "articles")) == 3
    assert any_store.check() == []


def test_sqlite_check_reports_a_broken_reference(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    with open_store(str(path)) as store:
        fill(store)
    db = sqlite3.connect(path)  # foreign keys are off in a plain connection
    db.execute("DELETE FROM stories WHERE id = 's1'")
    db.commit()
    db.close()
    with open_store(str(path)) as store:
        assert store.check() == ["articles row 1: no matching row in stories"]
