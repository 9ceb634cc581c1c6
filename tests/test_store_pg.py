"""The store interface on both backends: same records, atomic leased claims, PostgreSQL set-up.

`any_store` (tests/conftest.py) runs each test on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feeds.errors import SchemaVersionError, StorageError
from feeds.store import SCHEMA_VERSION, Store, open_server_store, open_store
from feeds.types import Article, DateSource, SourceConfig, SourceUpdate, Validators

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SOURCES = [SourceConfig(url=f"https://s{n:03d}.example/feed", name=f"مصدر {n}") for n in range(60)]


def article(n: int, source: int = 0, **kw: Any) -> Article:
    base = Article(
        id=f"a{n:04d}", source_url=SOURCES[source].url, guid=f"g{n}",
        url=f"https://x.example/{n}", canonical_url=f"https://x.example/{n}",
        title=f"عنوان {n}", summary_html="<p>ملخص</p>", content_html="<p>نص</p>",
        published=NOW - timedelta(hours=n), date_source=DateSource.FEED, first_seen=NOW,
        language="ar", title_key=f"عنوان {n}", text_key=f"عنوان {n} نص",
        content_hash=f"h{n}", authors=("كاتب",), categories=("تقنية", "ai"),
    )  # fmt: skip
    return replace(base, **kw)


def exercise(store: Store) -> list[Any]:
    """The same calls on any store; returns everything read back."""
    store.sync_sources(SOURCES[:3])
    store.update_source(SOURCES[0].url, SourceUpdate(
        validators=Validators('"e"', "Mon, 01 Jan 2026 00:00:00 GMT"),
        next_due=NOW + timedelta(minutes=5), duration=0.123, last_status=200, items=2,
    ))  # fmt: skip
    store.save_articles(
        [article(1), article(2, source=1), article(3, source=2)], NOW,
        {"a0002": ('["m", "مطابقة"]', '["t", {"ai": 3.0}]')},
    )  # fmt: skip
    store.set_derived({"a0003": ("m3", None), "a0002": (None, "t2")})
    store.assign([("a0001", "s1", True), ("a0002", "s1", False)], NOW)
    store.set_topics({"s1": (("ai", "mobile"), True)})
    store.save_articles([article(1, content_hash="edit", title="جديد")], NOW + timedelta(hours=1))
    return [
        store.sources(), store.source(SOURCES[0].url), store.due_sources(NOW),
        store.articles_of_stories(["s1"]), store.stories_touched_since(NOW),
        store.recent_stories(10), store.unassigned_match_rows(),
        store.match_rows_since(NOW - timedelta(days=1)),
        store.score_rows(["s1"]), store.article_keys(["a0002", "a0003"]),
        list(store.export_rows()),
    ]  # fmt: skip


def test_both_backends_return_identical_records(tmp_path: Path, pg_url: str) -> None:
    with open_store(str(tmp_path / "f.db")) as lite, open_store(pg_url) as pg:
        assert type(lite).__name__ == "SqliteStore"
        assert type(pg).__name__ == "PostgresStore"
        got = exercise(lite)
        assert exercise(pg) == got
    assert got[1].duration == 0.123
    assert got[1].next_due == NOW + timedelta(minutes=5)
    assert got[3][0].article.title == "جديد"
    assert [(r.id, r.match_features) for r in got[6]] == [("a0003", "m3")]
    assert [(r.id, r.topic_scores) for r in got[8]] == [("a0001", None), ("a0002", "t2")]


def test_claim_is_leased_and_released(any_store: Store) -> None:
    any_store.sync_sources(SOURCES[:5])
    lease = timedelta(minutes=2)
    first = any_store.claim_due(NOW, owner="w1", lease=lease, limit=3)
    assert [s.url for s in first] == [s.url for s in SOURCES[:3]]
    second = any_store.claim_due(NOW, owner="w2", lease=lease, limit=10)
    assert [s.url for s in second] == [s.url for s in SOURCES[3:5]]
    assert any_store.claim_due(NOW, owner="w3", lease=lease, limit=10) == []
    any_store.release(SOURCES[0].url, "someone-else")  # not theirs: no effect
    any_store.release(SOURCES[1].url, "w1")
    assert [s.url for s in any_store.claim_due(NOW, owner="w3", lease=lease, limit=10)] == [
        SOURCES[1].url
    ]
    # A crashed worker never releases: its sources come back once the lease is over.
    after = any_store.claim_due(NOW + lease, owner="w4", lease=lease, limit=10)
    assert {s.url for s in after} == {s.url for s in SOURCES[:5]}


def test_a_pass_leaves_out_the_sources_a_worker_holds(any_store: Store) -> None:
    # `feeds run` beside workers fetched a source a worker had just claimed, a second
    # request to the site in the same minute.
    any_store.sync_sources(SOURCES[:3])
    lease = timedelta(minutes=2)
    (held,) = any_store.claim_due(NOW, owner="w1", lease=lease, limit=1)
    for every in (False, True):
        due = [s.url for s in any_store.due_sources(NOW, every=every)]
        assert due == [s.url for s in SOURCES[1:3]]
    assert held.url in [s.url for s in any_store.due_sources(NOW + lease, every=True)]


def test_a_queued_job_restarts_its_lease_only_while_the_source_is_still_its_to_do(
    any_store: Store,
) -> None:
    any_store.sync_sources(SOURCES[:3])
    lease, later = timedelta(minutes=2), NOW + timedelta(minutes=5)
    a, b, c = (s.url for s in SOURCES[:3])
    assert len(any_store.claim_due(NOW, owner="w1", lease=lease, limit=3)) == 3
    # Its own lease, even expired, and nobody else's since: restarted from `later` on.
    assert any_store.restart_lease(a, owner="w1", now=later, lease=lease)
    assert any_store.claim_due(later + timedelta(minutes=1), owner="w2", lease=lease, limit=9) == [
        any_store.source(u) for u in (b, c)
    ]
    # Claimed again by w2 after w1's lease ran out: w1's queued job must not run.
    assert not any_store.restart_lease(b, owner="w1", now=later, lease=lease)
    # Refreshed meanwhile (no longer due): nobody's job runs it again.
    any_store.release(c, "w2")
    any_store.update_source(c, SourceUpdate(next_due=later + timedelta(hours=1)))
    assert not any_store.restart_lease(c, owner="w1", now=later, lease=lease)
    assert not any_store.restart_lease("http://x.example/", owner="w1", now=later, lease=lease)


def test_claim_skips_sources_not_due_disabled_or_out_of_config(any_store: Store) -> None:
    any_store.sync_sources(SOURCES[:4])
    any_store.update_source(SOURCES[0].url, SourceUpdate(next_due=NOW + timedelta(minutes=1)))
    any_store.update_source(SOURCES[1].url, SourceUpdate(disabled_reason="410 Gone"))
    any_store.sync_sources(SOURCES[1:3])
    claimed = any_store.claim_due(NOW, owner="w", lease=timedelta(minutes=1), limit=10)
    assert [s.url for s in claimed] == [SOURCES[2].url]


def _claim_all(database: str, owner: str, out: Any) -> None:
    with open_store(database) as store:
        got: list[str] = []
        while batch := store.claim_due(NOW, owner=owner, lease=timedelta(hours=1), limit=7):
            got += [s.url for s in batch]
        out.put(got)


def test_concurrent_claimers_each_get_distinct_sources(database: str) -> None:
    with open_store(database) as store:
        store.sync_sources(SOURCES)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_all, args=(database, f"p{i}", out)) for i in range(4)]
    for p in procs:
        p.start()
    claimed = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    every = [url for part in claimed for url in part]
    assert sorted(every) == sorted(s.url for s in SOURCES)  # each exactly once


def test_publish_lock_admits_one_holder(pg_url: str) -> None:
    with open_server_store(pg_url) as a, open_server_store(pg_url) as b:
        with a.publish_lock() as first:
            assert first
            with b.publish_lock() as second:
                assert not second
        with b.publish_lock() as third:
            assert third


def test_postgres_schema_is_versioned_and_newer_is_refused(pg_url: str) -> None:
    open_store(pg_url).close()
    with open_store(pg_url) as store:  # reopening migrates nothing and keeps the rows
        store.sync_sources(SOURCES[:1])
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        row = conn.execute("SELECT value FROM feeds_meta WHERE key = 'schema_version'")
        assert row.fetchone() == (str(SCHEMA_VERSION),)
        conn.execute("UPDATE feeds_meta SET value = %s", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(SchemaVersionError, match="newer"):
        open_store(pg_url)


def test_unreachable_postgres_is_a_storage_error_without_the_password() -> None:
    with pytest.raises(StorageError, match="cannot connect") as info:
        open_store("postgresql://feeds:secret@127.0.0.1:1/feeds?connect_timeout=2")
    assert "secret" not in str(info.value)
    assert "feeds:***@" in str(info.value)
