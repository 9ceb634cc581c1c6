from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stored import stored

from feeds.errors import SchemaVersionError, StorageError
from feeds.store import SCHEMA_VERSION, Store, _sqlite, is_server_url, open_store
from feeds.store._sqlite import PAGE_SIZE
from feeds.types import Article, DateSource, Filed, SourceConfig, SourceUpdate, Topics

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SRC = SourceConfig(url="https://a.example/feed/", name="أ")


def make_article(n: int, **kw: object) -> Article:
    base = Article(
        id=f"a{n:04d}",
        source_url=SRC.url,
        guid=f"g{n}",
        url=f"https://a.example/{n}",
        canonical_url=f"https://a.example/{n}",
        title=f"عنوان {n}",
        summary_html="<p>ملخص</p>",
        content_html="<p>نص</p>",
        published=NOW - timedelta(hours=n),
        date_source=DateSource.FEED,
        first_seen=NOW,
        language="ar",
        title_key=f"عنوان {n}",
        text_key=f"عنوان {n} نص",
        content_hash=f"h{n}",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(str(tmp_path / "feeds.db"))
    s.sync_sources([SRC])
    return s


@pytest.mark.parametrize(
    ("database", "server"),
    [
        ("postgresql://feeds@db.example/feeds", True),
        ("postgres://u:p@127.0.0.1:5432/db", True),
        ("/srv/feeds/data/feeds.db", False),
        ("data/postgresql.db", False),
        ("postgresql.example/feeds", False),  # a relative path, not a URL
        (":memory:", False),
    ],
)
def test_a_server_url_names_postgresql_anything_else_an_sqlite_file(
    database: str, server: bool
) -> None:
    assert is_server_url(database) is server


def test_open_store_opens_sqlite_for_a_path(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "feeds.db")) as store:
        assert type(store) is _sqlite.SqliteStore


def test_new_database_is_versioned_and_in_wal(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "feeds.db"
    open_store(str(path)).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE


def test_a_file_made_with_other_pages_keeps_them_and_works(tmp_path: Path) -> None:
    path = tmp_path / "feeds.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA page_size = 4096")
    db.execute("VACUUM")  # an empty file takes the size now
    db.close()
    store = open_store(str(path))
    store.sync_sources([SRC])
    articles = [make_article(n, content_html="<p>" + "نص طويل " * 900 + "</p>") for n in range(5)]
    store.save_articles(articles, NOW)
    store.assign([(a.id, "s1", True) for a in articles], NOW)
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA page_size").fetchone()[0] == 4096
    assert db.execute("SELECT count(*) FROM articles WHERE story_id = 's1'").fetchone()[0] == 5


def test_foreign_sqlite_file_is_refused_not_written(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE people (name TEXT)")
    db.commit()
    db.close()
    with pytest.raises(StorageError, match="not a feeds database"):
        open_store(str(path))
    tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("people",)]


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feeds.db"
    open_store(str(path)).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(SchemaVersionError, match="newer"):
        open_store(str(path))


def test_corrupt_file_is_a_clear_error_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "feeds.db"
    junk = b"this is not sqlite at all" * 100
    path.write_bytes(junk)
    with pytest.raises(StorageError, match="corrupt or not an SQLite database"):
        open_store(str(path))
    assert path.read_bytes() == junk


def test_save_articles_reports_new_and_changed_only(store: Store) -> None:
    first = [make_article(1), make_article(2)]
    assert [a.id for a in store.save_articles(first, NOW)] == ["a0001", "a0002"]
    assert store.save_articles(first, NOW) == []
    edited = make_article(2, title="عنوان جديد", content_hash="h2b")
    assert [a.id for a in store.save_articles([make_article(1), edited], NOW)] == ["a0002"]
    rows = {r["id"]: r for r in stored(store, "articles")}
    assert sorted(rows) == ["a0001", "a0002"]
    assert rows["a0002"]["title"] == "عنوان جديد"


def test_update_keeps_first_seen_story_and_undated_published(store: Store) -> None:
    undated = make_article(3, date_source=DateSource.FIRST_SEEN, published=NOW)
    store.save_articles([undated], NOW)
    store.assign([("a0003", "s1", True)], NOW)
    later = NOW + timedelta(hours=5)
    edit = replace(undated, published=later, first_seen=later, content_hash="h3b")
    store.save_articles([edit], later)
    (row,) = store.articles_of_stories(["s1"])
    assert row.story_id == "s1"
    assert row.article.first_seen == NOW
    assert row.article.published == NOW
    assert row.source_name == "أ"


def test_stories_keep_their_id_and_get_touched(store: Store) -> None:
    store.save_articles([make_article(1), make_article(2)], NOW)
    store.assign([("a0001", "s1", True)], NOW)
    later = NOW + timedelta(hours=1)
    store.assign([("a0002", "s1", False)], later)
    (story,) = store.recent_stories(10)
    assert (story.id, story.created, story.touched) == ("s1", NOW, later)
    assert {r.article.id for r in store.articles_of_stories(["s1"])} == {"a0001", "a0002"}


def test_filing_leaves_the_stories_it_touches_for_classifying(store: Store) -> None:
    store.save_articles([make_article(1), make_article(2), make_article(3)], NOW)
    store.assign([Filed("a0001", "s1", True), Filed("a0002", "s2", True)], NOW)
    assert store.unclassified_stories() == ["s1", "s2"]
    store.set_topics({"s1": Topics(("ai",), True), "s2": Topics((), False)})
    assert store.unclassified_stories() == []
    s1 = {s.id: s for s in store.recent_stories(10)}["s1"]
    assert (s1.topics, s1.is_tech) == (("ai",), True)
    # Joining a classified story leaves it for classifying again.
    store.assign([Filed("a0003", "s1", False)], NOW)
    assert store.unclassified_stories() == ["s1"]


def test_filing_that_cannot_write_says_so_and_leaves_nothing_half_done(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save_articles([make_article(1), make_article(2)], NOW)
    monkeypatch.setattr(_sqlite, "BUSY_TIMEOUT_MS", 50)
    other = sqlite3.connect(tmp_path / "feeds.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        with pytest.raises(StorageError, match="locked"):
            store.assign([("a0002", "s2", True), ("a0001", "s2", False)], NOW)
    finally:
        other.execute("ROLLBACK")
    assert [r.id for r in store.unassigned_match_rows()] == ["a0002", "a0001"]  # oldest first
    assert stored(store, "stories") == []


def test_a_full_disk_says_so_and_the_store_goes_on(store: Store) -> None:
    db = store._db  # type: ignore[attr-defined]
    db.execute("PRAGMA max_page_count = 1")  # clamped to the current size: nothing can grow
    big = [make_article(n, content_html="<p>" + "نص " * 5000 + "</p>") for n in range(20)]
    with pytest.raises(StorageError) as raised:
        store.save_articles(big, NOW)
    assert str(raised.value).startswith(f"{store.path}: the disk is full")
    assert "no transaction is active" not in str(raised.value)
    assert not db.in_transaction
    db.execute("PRAGMA max_page_count = 1073741823")  # space again
    assert len(store.save_articles(big, NOW)) == 20


def test_article_list_without_bodies_then_the_bodies_it_shows(store: Store) -> None:
    arts = [make_article(1), make_article(2, content_html="<p>نص طويل</p>")]
    store.save_articles(arts, NOW)
    store.assign([("a0001", "s1", True), ("a0002", "s1", False)], NOW)
    full = {r.article.id: r for r in store.articles_of_stories(["s1"])}
    listed = {r.article.id: r for r in store.articles_of_stories(["s1"], bodies=False)}
    for aid, row in listed.items():
        assert (row.article.content_html, row.article.text_key) == ("", "")
        expected = replace(full[aid].article, content_html="", text_key="")
        assert row == replace(full[aid], article=expected)
    assert store.article_bodies(["a0002", "a0001", "nope"]) == {
        "a0001": "<p>نص</p>",
        "a0002": "<p>نص طويل</p>",
    }


def test_gone_source_is_reenabled_only_when_its_config_changes(store: Store) -> None:
    store.update_source(SRC.url, SourceUpdate(disabled_reason="410 Gone"))
    store.sync_sources([SRC])
    assert store.due_sources(NOW) == []
    store.sync_sources([replace(SRC, name="اسم جديد")])
    assert [s.url for s in store.due_sources(NOW)] == [SRC.url]


def test_due_sources_respects_next_due_unless_every(store: Store) -> None:
    store.update_source(SRC.url, SourceUpdate(next_due=NOW + timedelta(minutes=10)))
    assert store.due_sources(NOW) == []
    assert len(store.due_sources(NOW, every=True)) == 1
    assert len(store.due_sources(NOW + timedelta(minutes=10))) == 1


def test_sources_removed_from_config_keep_their_history(store: Store) -> None:
    store.save_articles([make_article(1)], NOW)
    store.sync_sources([])
    assert store.sources() == []
    assert [s.url for s in store.sources(only_config=False)] == [SRC.url]
    assert [r["id"] for r in stored(store, "articles")] == ["a0001"]


def test_locked_database_is_a_clear_error(tmp_path: Path) -> None:
    path = str(tmp_path / "feeds.db")
    open_store(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    store = _sqlite.SqliteStore.__new__(_sqlite.SqliteStore)
    store.path = path
    store._db = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    with pytest.raises(StorageError, match="locked"):
        store.update_source(SRC.url, SourceUpdate(items=1))
    other.execute("ROLLBACK")


def test_unassigned_articles_wait_for_clustering(store: Store) -> None:
    store.save_articles([make_article(1), make_article(2)], NOW)
    assert [r.id for r in store.unassigned_match_rows()] == ["a0002", "a0001"]
    store.assign([("a0001", "s1", True)], NOW)
    assert [r.id for r in store.unassigned_match_rows()] == ["a0002"]


def test_editing_an_article_marks_its_story_updated(store: Store) -> None:
    store.save_articles([make_article(1)], NOW)
    store.assign([("a0001", "s1", True)], NOW)
    later = NOW + timedelta(hours=2)
    assert store.stories_touched_since(later) == []
    store.save_articles([make_article(1, content_hash="edited")], later)
    assert store.stories_touched_since(later) == ["s1"]


# --------------------------------------------------------------------------- schema 3


def test_version_2_database_gains_the_derived_columns_empty(tmp_path: Path) -> None:
    from feeds.store import _schema

    path = tmp_path / "v2.db"
    db = sqlite3.connect(path, isolation_level=None)
    for step in _schema.MIGRATIONS[:2]:
        step(db.execute, "sqlite")
    db.execute("PRAGMA user_version = 2")
    db.execute("PRAGMA application_id = 1178944595")
    db.execute("INSERT INTO sources (url, fetch_url) VALUES (?, ?)", (SRC.url, SRC.url))
    later = (*_DERIVED, "content_from", "outlet", "media")  # columns added after version 2
    cols = ", ".join(c for c in _schema.ARTICLE_COLUMNS if c not in later)
    old = make_article(1)
    from feeds.store import _rows

    params = _rows.article_params(old, NOW)
    db.execute(
        f"INSERT INTO articles ({cols}) VALUES ({', '.join(':' + c for c in cols.split(', '))})",
        {k: v for k, v in params.items() if k not in later},
    )
    db.close()
    store = open_store(str(path))
    db = sqlite3.connect(path)
    assert int(db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION == 13
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"articles_guid", "articles_first_seen"} <= indexes  # version 4
    assert "articles_updated" in indexes  # version 5
    assert {"articles_pending_page", "articles_page_text"} <= indexes  # version 10
    assert "stories_unclassified" in indexes  # version 11
    # what every pass's status page asks of full text reads that index, not every article
    plan = " ".join(
        str(r[-1])
        for r in db.execute(
            "EXPLAIN QUERY PLAN SELECT source_url, content_from, count(*) FROM articles "
            "WHERE content_from <> 'feed' GROUP BY source_url, content_from"
        )
    )
    assert "USING COVERING INDEX articles_page_text" in plan  # the partial index alone
    # version 10: the article written before full text reads as the feed's text
    assert db.execute("SELECT content_from FROM articles").fetchall() == [("feed",)]
    # version 12: an article written before outlets were kept is its source's own
    assert db.execute("SELECT outlet FROM articles").fetchall() == [("",)]
    # what every pass's publish fingerprint asks reads the index, not every article
    plan = " ".join(
        str(r[-1]) for r in db.execute("EXPLAIN QUERY PLAN SELECT max(updated) FROM articles")
    )
    assert "articles_updated" in plan and "SCAN articles" not in plan
    db.close()
    [row] = store.unassigned_match_rows()
    assert (row.id, row.match_features) == ("a0001", None)
    store.set_derived({"a0001": ("features", None)})
    store.set_derived({"a0001": (None, "scores")})
    assert store.unassigned_match_rows()[0].match_features == "features"
    store.assign([("a0001", "s1", True)], NOW)
    assert [(r.id, r.topic_scores) for r in store.score_rows(["s1"])] == [("a0001", "scores")]


_DERIVED = ("match_features", "topic_scores")


def test_derived_texts_are_saved_read_back_and_replaced_on_edit(store: Store) -> None:
    a1, a2 = make_article(1), make_article(2)
    store.save_articles([a1, a2], NOW, {"a0001": ("m1", "t1")})
    rows = {r.id: r for r in store.unassigned_match_rows()}
    assert (rows["a0001"].match_features, rows["a0002"].match_features) == ("m1", None)
    assert rows["a0001"].title_key == a1.title_key
    assert rows["a0001"].published == a1.published
    store.assign([("a0001", "s1", True), ("a0002", "s1", False)], NOW)
    assert [r.topic_scores for r in store.score_rows(["s1"])] == ["t1", None]
    assert [r.id for r in store.match_rows_since(NOW - timedelta(days=1))] == ["a0002", "a0001"]
    # an edit without derived texts must not keep the old article's
    store.save_articles([replace(a1, content_hash="edited")], NOW)
    assert [r.topic_scores for r in store.score_rows(["s1"])] == [None, None]
    assert store.article_keys(["a0002"]) == {"a0002": (a2.title, a2.title_key, a2.text_key)}


def test_window_rows_are_published_or_first_seen_since_once_each(store: Store) -> None:
    month = timedelta(days=30)
    late_found = make_article(1, published=NOW - month, first_seen=NOW)
    recent = make_article(2, published=NOW - timedelta(hours=1), first_seen=NOW)
    stale = make_article(3, published=NOW - month, first_seen=NOW - month)
    unfiled = make_article(4, published=NOW, first_seen=NOW)
    store.save_articles([late_found, recent, stale, unfiled], NOW)
    store.assign([("a0001", "s1", True), ("a0002", "s2", True), ("a0003", "s3", True)], NOW)
    # In a story, and published or first seen in the window; each once, oldest first.
    assert [r.id for r in store.match_rows_since(NOW - timedelta(days=1))] == ["a0001", "a0002"]


def test_a_new_sqlite_file_and_its_wal_are_private(tmp_path: Path) -> None:
    # The store holds source URLs, credentials included (issue 20).
    old = os.umask(0o022)
    try:
        store = open_store(str(tmp_path / "new" / "feeds.db"))
        try:
            store.sync_sources([SRC])
            names = sorted(p.name for p in (tmp_path / "new").iterdir())
            modes = {n: stat.S_IMODE((tmp_path / "new" / n).stat().st_mode) for n in names}
        finally:
            store.close()
    finally:
        os.umask(old)
    assert modes == {"feeds.db": 0o600, "feeds.db-shm": 0o600, "feeds.db-wal": 0o600}


def test_an_existing_sqlite_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "feeds.db"
    open_store(str(path)).close()
    path.chmod(0o640)  # the operator's choice, say for a backup group
    open_store(str(path)).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_what_every_pass_asks_of_the_store_reads_indexes_not_every_row(tmp_path: Path) -> None:
    # A pass that finds nothing new still writes the status page, looks for unfiled
    # articles and unclassified stories, and checks the publish fingerprint; on a store
    # of months of articles a scan of a table in any of them costs every pass.
    store = open_store(str(tmp_path / "feeds.db"))
    assert isinstance(store, _sqlite.SqliteStore)
    asked: list[str] = []
    store._db.set_trace_callback(asked.append)
    store.full_text_report()
    store.unclassified_stories()
    store.unassigned_ids()
    store.change_marker()
    store._stored_items([make_article(1)], ())  # each fetch with new items
    store._db.set_trace_callback(None)
    selects = [sql for sql in asked if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) >= 6
    for sql in selects:
        plan = [str(r[-1]) for r in store._db.execute("EXPLAIN QUERY PLAN " + sql)]
        scans = [
            step
            for step in plan
            if step.startswith("SCAN") and "INDEX" not in step and step != "SCAN CONSTANT ROW"
        ]
        assert not scans, (sql, plan)
    store.close()
