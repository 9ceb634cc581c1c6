"""What the store keeps for the Telegram poster: channels, and each post's state.

A post is claimed (a 'sending' row, committed) before its Bot API call and marked
'sent' with its message id after it; a call Telegram answered with a refusal marks it
'failed', to be claimed again by a later pass. A row still 'sending' means the process
died during the call, or the call's outcome is unknown: it is never claimed again, so
a story is posted at most once whatever happens (a lost post beats a repeated one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ._rows import Row, chunks, dt, ts

SENDING, SENT, FAILED, GONE = "sending", "sent", "failed", "gone"


class _Db(Protocol):
    def _query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]: ...

    def _write(self, sql: str, rows: Iterable[Sequence[Any] | dict[str, Any]]) -> None: ...

    def transaction(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class Channel:
    chat: str
    topic: int  # 0: none
    added: datetime
    marker: str | None


@dataclass(frozen=True, slots=True)
class Post:
    story_id: str
    state: str
    message_id: int | None
    digest: str | None
    attempts: int


class TelegramRecords:
    """Mixed into `Store`; the same SQL on both backends."""

    def telegram_channel(self: _Db, chat: str, topic: int, now: datetime) -> Channel:
        """The channel's row, made now (`added` = now) the first time it is asked for."""
        self._write(
            "INSERT INTO telegram_channels (chat, topic, added) VALUES (?, ?, ?) "
            "ON CONFLICT (chat, topic) DO NOTHING",
            [(chat, topic, ts(now))],
        )
        r = self._query(
            "SELECT * FROM telegram_channels WHERE chat = ? AND topic = ?", (chat, topic)
        )[0]
        added = dt(r["added"])
        assert added is not None
        return Channel(r["chat"], int(r["topic"]), added, r["marker"])

    def stories_created(self: _Db, ids: Sequence[str]) -> dict[str, datetime]:
        """When each of these stories was filed (what a channel's backlog is told by)."""
        out: dict[str, datetime] = {}
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            rows = self._query(f"SELECT id, created FROM stories WHERE id IN ({marks})", chunk)
            out.update((r["id"], when) for r in rows if (when := dt(r["created"])) is not None)
        return out

    def set_telegram_marker(self: _Db, chat: str, topic: int, marker: str | None) -> None:
        self._write(
            "UPDATE telegram_channels SET marker = ? WHERE chat = ? AND topic = ?",
            [(marker, chat, topic)],
        )

    def telegram_posts(self: _Db, chat: str, topic: int) -> dict[str, Post]:
        rows = self._query(
            "SELECT story_id, state, message_id, digest, attempts FROM telegram_posts "
            "WHERE chat = ? AND topic = ?",
            (chat, topic),
        )
        return {
            r["story_id"]: Post(
                r["story_id"], r["state"], r["message_id"], r["digest"], int(r["attempts"])
            )
            for r in rows
        }

    def claim_telegram_post(
        self: _Db, chat: str, topic: int, story_id: str, now: datetime, max_attempts: int
    ) -> bool:
        """Claim a story's post before calling the Bot API: True when this caller may
        send it (no row yet, or an earlier attempt was refused and attempts remain)."""
        with self.transaction() as tx:
            rows = tx.execute(
                """INSERT INTO telegram_posts (chat, topic, story_id, state, attempts, updated)
                   VALUES (?, ?, ?, 'sending', 1, ?)
                   ON CONFLICT (chat, topic, story_id) DO UPDATE SET state = 'sending',
                     attempts = telegram_posts.attempts + 1, updated = excluded.updated
                   WHERE telegram_posts.state = 'failed' AND telegram_posts.attempts < ?
                   RETURNING story_id""",
                (chat, topic, story_id, ts(now), max_attempts),
            )
        return bool(rows)

    def telegram_post_done(
        self: _Db,
        chat: str,
        topic: int,
        story_id: str,
        state: str,
        now: datetime,
        *,
        message_id: int | None = None,
        digest: str | None = None,
    ) -> None:
        """After the call: 'sent' (or edited: a new digest), 'failed' or 'gone'."""
        self._write(
            "UPDATE telegram_posts SET state = ?, updated = ?, "
            "message_id = COALESCE(?, message_id), digest = COALESCE(?, digest) "
            "WHERE chat = ? AND topic = ? AND story_id = ?",
            [(state, ts(now), message_id, digest, chat, topic, story_id)],
        )
