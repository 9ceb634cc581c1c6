"""The operator's and the Telegram poster's records, on both backends."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feeds.store import PassRecord, Store, open_store
from feeds.store._telegram import FAILED, SENT
from feeds.types import SourceConfig, SourceUpdate

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
A, B = "https://a.example/feed", "https://b.example/feed"
SRC = "https://a.example/feed/"  # tests/test_store.py's source


def test_the_last_pass_of_any_runner(any_store: Store) -> None:
    assert any_store.last_pass() is None
    first = PassRecord("pass", "p1", NOW, NOW + timedelta(seconds=3), 3.0, 2, 1)
    later = PassRecord("publish", "p2", NOW, NOW + timedelta(minutes=5), 1.5, 0, 0)
    any_store.record_pass(first)
    any_store.record_pass(later)
    assert any_store.last_pass() == later
    again = PassRecord("pass", "p3", NOW, NOW + timedelta(minutes=9), 2.25, 2, 0)
    any_store.record_pass(again)  # one row per runner, replaced
    assert any_store.last_pass() == again


def test_a_success_is_remembered_after_the_row_forgets_it(any_store: Store) -> None:
    any_store.sync_sources([SourceConfig(A), SourceConfig(B)])
    any_store.update_source(A, SourceUpdate(last_fetch=NOW, last_outcome="ok"))
    any_store.update_source(B, SourceUpdate(last_fetch=NOW, last_outcome="error"))
    any_store.note_sources([(A, 3), (B, 0)])  # B's row says it failed: not a success
    later = NOW + timedelta(hours=1)
    any_store.update_source(A, SourceUpdate(last_fetch=later, last_outcome="not_modified"))
    any_store.note_sources([(A, 0)])
    any_store.update_source(
        A, SourceUpdate(last_fetch=later + timedelta(hours=1), last_outcome="error")
    )
    health = any_store.source_health()
    assert set(health) == {A}
    assert (health[A].last_success, health[A].last_new) == (later, NOW)


def test_a_post_is_claimed_once_and_again_only_after_a_refusal(any_store: Store) -> None:
    channel = any_store.telegram_channel("@c", 0, NOW)
    assert channel.added == NOW and channel.marker is None
    assert any_store.telegram_channel("@c", 0, NOW + timedelta(days=1)).added == NOW
    assert any_store.claim_telegram_post("@c", 0, "s1", NOW, 2)
    assert not any_store.claim_telegram_post("@c", 0, "s1", NOW, 2)  # in flight or unknown
    any_store.telegram_post_done("@c", 0, "s1", FAILED, NOW)
    assert any_store.claim_telegram_post("@c", 0, "s1", NOW, 2)  # refused: a second try
    any_store.telegram_post_done("@c", 0, "s1", FAILED, NOW)
    assert not any_store.claim_telegram_post("@c", 0, "s1", NOW, 2)  # attempts used up
    assert any_store.claim_telegram_post("@c", 7, "s1", NOW, 2)  # another topic
    any_store.telegram_post_done("@c", 7, "s1", SENT, NOW, message_id=2**40, digest="d")
    [post] = any_store.telegram_posts("@c", 7).values()
    assert (post.state, post.message_id, post.digest, post.attempts) == (SENT, 2**40, "d", 1)
    any_store.set_telegram_marker("@c", 0, "m")
    assert any_store.telegram_channel("@c", 0, NOW).marker == "m"


def test_migrating_fills_source_health_from_what_the_store_knows(tmp_path: Path) -> None:
    """A store from before these tables: each source's newest first-seen article is its
    last new one, a source whose last fetch worked has it as its last success; and the
    migration can run again over its own tables (a user_version set back)."""
    from test_store import make_article

    path = str(tmp_path / "feeds.db")
    with open_store(path) as store:
        store.sync_sources([SourceConfig(SRC)])
        store.save_articles([make_article(1), make_article(2)], NOW)
        store.update_source(SRC, SourceUpdate(last_fetch=NOW, last_outcome="unchanged"))
    db = sqlite3.connect(path)
    db.execute("DELETE FROM source_health")
    db.execute("PRAGMA user_version = 6")
    db.commit()
    db.close()
    with open_store(path) as store:
        health = store.source_health()
    newest = max(make_article(n).first_seen for n in (1, 2))
    assert (health[SRC].last_success, health[SRC].last_new) == (NOW, newest)


def test_an_item_back_under_a_new_guid_is_the_stored_article(any_store: Store) -> None:
    # Feeds that make their guids afresh on every request: the same source, link, title
    # and content, the stored article absent from the fetch, keep the stored id.
    from test_store import make_article

    any_store.sync_sources([SourceConfig(SRC)])
    any_store.save_articles([make_article(1)], NOW)
    again = make_article(1, id="a9001", guid="g-new")
    assert any_store.save_articles([again], NOW + timedelta(hours=1), {"a9001": ("m", "t")}) == []
    assert [r["id"] for r in any_store._query("SELECT id FROM articles")] == ["a0001"]
    # Another title or other content at that link is another article: a podcast that
    # links every episode to its homepage under one label title must not have a new
    # episode overwrite one that left the feed. So is the same item twice in one fetch
    # beside the stored one (a repost the feed lists at once).
    other = make_article(2, id="a9002", canonical_url="https://a.example/1")
    episode = make_article(1, id="a9003", guid="g3", content_hash="h-another-episode")
    twice = [make_article(1), make_article(1, id="a9004", guid="g4")]
    saved = any_store.save_articles([other, episode, *twice], NOW)
    assert {a.id for a in saved} == {"a9002", "a9003", "a9004"}
    assert len(any_store._query("SELECT id FROM articles")) == 4
