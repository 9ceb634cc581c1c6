"""Telegram channels: one message per story of a feed, edited as sources join.

After each pass, for every feed with a `telegram:` channel, the stories it publishes
that the channel has not had are posted (oldest first, at most `max_per_pass`), and
the messages of stories whose text changed (another outlet joined) are edited with
editMessageText instead of being sent again.

- Never twice: each post is claimed in the store before the call and marked sent
  after it (`store._telegram`); a crash or an unknown outcome leaves the claim, which
  is never sent again.
- No flood: a channel's stories are those filed after it was first seen (its
  `added`), plus the `backlog` newest before it (none by default).
- Rate limits: a 429's `retry_after` is waited for (up to `MAX_WAIT_S`, else the rest
  waits for the next pass), and calls for one channel are `min_interval` apart.

The Bot API is called with the standard library, not through `fetch`: it is one fixed
host the operator chose, not a publisher's feed, and the fetcher's limits and address
checks are for those. The token comes from the environment and is never logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from .errors import TelegramError
from .publish._common import other_sources, says_more
from .store import Store
from .store._telegram import FAILED, GONE, SENT, Channel, Post
from .types import Config, FeedConfig, SourceRef, Story, TelegramConfig

__all__ = ["BotApi", "Counts", "Poster", "message", "post_pass"]

log = logging.getLogger("feeds.telegram")

MAX_ATTEMPTS = 5  # refused sends of one story before it is given up
MAX_WAIT_S = 60.0  # longest retry_after waited for within a pass
EXCERPT_CHARS = 280
OTHER_OUTLETS = 10
MAX_RESPONSE = 1 << 20
RLM = "\u200f"  # starts each line right to left, whatever script it opens with


# --------------------------------------------------------------------------- messages


def _text(value: str) -> str:
    return escape(value, quote=False)  # Telegram's HTML: &, < and > outside attributes


def _excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(" ،,.؛:") + "…"


def message(story: Story) -> str:
    """The story in Telegram's HTML subset: the headline linked to the lead article,
    the outlet, an excerpt, and the other outlets as links."""
    from .normalize import plain_text

    lead = story.sources[0] if story.sources else SourceRef(story.url, "")
    lines = [f'<b><a href="{escape(story.url)}">{_text(story.title)}</a></b>']
    if lead.name:
        lines.append(_text(lead.name))
    excerpt = _excerpt(plain_text(story.summary_html))
    if says_more(excerpt, story.title):
        lines.append(_text(excerpt))
    others = []
    for ref in other_sources(story):  # one link per other outlet, as the feeds give
        name = ref.name or urlsplit(ref.url).hostname or ref.url
        others.append(f'<a href="{escape(ref.url)}">{_text(name)}</a>')
    if others:
        lines.append("أيضًا: " + " · ".join(others[:OTHER_OUTLETS]))
    return "\n".join(RLM + line for line in lines)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# --------------------------------------------------------------------------- the API


class BotApi:
    """Bot API methods as JSON POSTs; every failure is a `TelegramError` with its kind."""

    def __init__(self, base_url: str, token: str, timeout: float) -> None:
        self._base = f"{base_url.rstrip('/')}/bot{token}/"
        self.timeout = timeout

    def call(self, method: str, params: Mapping[str, object]) -> Any:
        request = urllib.request.Request(
            self._base + method, data=json.dumps(params).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                body = reply.read(MAX_RESPONSE)
        except urllib.error.HTTPError as e:  # Telegram's refusals come as 4xx with JSON
            with e:
                body = e.read(MAX_RESPONSE)
        except urllib.error.URLError as e:
            refused = isinstance(e.reason, ConnectionRefusedError | socket.gaierror)
            raise TelegramError(
                method, f"no answer: {e.reason}", kind="unreachable" if refused else "unknown"
            ) from e
        except (OSError, ValueError) as e:  # a timeout or reset after the request went
            raise TelegramError(method, f"no answer: {e}", kind="unknown") from e
        return _result(method, body)


def _result(method: str, body: bytes) -> Any:
    try:
        data = json.loads(body)
    except ValueError as e:
        raise TelegramError(method, "an answer that is not the Bot API's", kind="unknown") from e
    if not isinstance(data, dict) or "ok" not in data:
        raise TelegramError(method, "an answer that is not the Bot API's", kind="unknown")
    if data["ok"] is True:
        return data.get("result")
    parameters = data.get("parameters")
    retry = parameters.get("retry_after") if isinstance(parameters, dict) else None
    text = f"{data.get('error_code')}: {data.get('description', 'refused')}"
    retry_after = float(retry) if isinstance(retry, int | float) else None
    raise TelegramError(method, text, kind="refused", retry_after=retry_after)


# --------------------------------------------------------------------------- posting


@dataclass
class Counts:
    sent: int = 0
    edited: int = 0
    failed: int = 0  # refused; tried again by a later pass
    unknown: int = 0  # the outcome is unknown: never sent again


class _Halt(Exception):
    """Stop this channel for this pass (stopping, or rate-limited for long)."""


class Poster:
    """Brings the channels of a pass's feeds up to date."""

    def __init__(
        self,
        settings: TelegramConfig,
        store: Store,
        api: BotApi,
        *,
        now: Callable[[], datetime],
        sleep: Callable[[float], None] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.settings, self.store, self.api = settings, store, api
        self.now, self.sleep, self.should_stop = now, sleep, should_stop
        self.counts = Counts()
        self._last_call = -1e9

    def channel(self, feed: FeedConfig, shown: Sequence[Story], marker: str) -> None:
        assert feed.telegram is not None
        chat, topic = feed.telegram.chat, feed.telegram.topic or 0
        channel = self.store.telegram_channel(chat, topic, self.now())
        posts = self.store.telegram_posts(chat, topic)
        todo = self._to_send(channel, shown, posts)
        failed, done = self.counts.failed, True
        try:
            for story in todo[: self.settings.max_per_pass]:
                self._send(channel, story)
            for story in shown:
                post = posts.get(story.id)
                if post is not None and post.state == SENT and post.message_id is not None:
                    done &= self._edit(channel, story, post)
        except _Halt:
            done = False
        caught_up = done and failed == self.counts.failed
        caught_up &= len(todo) <= self.settings.max_per_pass
        self.store.set_telegram_marker(chat, topic, marker if caught_up else None)

    def _to_send(
        self, channel: Channel, shown: Sequence[Story], posts: Mapping[str, Post]
    ) -> list[Story]:
        """What the channel should get, oldest first: stories filed after it was added,
        and the `backlog` newest of those before; none already claimed."""
        created = self.store.stories_created([s.id for s in shown])
        older = [s for s in shown if s.id in created and created[s.id] <= channel.added]
        chosen = {s.id for s in older[: self.settings.backlog]}  # `shown` is newest first
        chosen |= {s.id for s in shown if s.id in created and created[s.id] > channel.added}
        todo = [
            s for s in shown
            if s.id in chosen
            and (s.id not in posts or (posts[s.id].state == FAILED
                                       and posts[s.id].attempts < MAX_ATTEMPTS))
        ]  # fmt: skip
        return sorted(todo, key=lambda s: (s.published, s.id))

    def _send(self, channel: Channel, story: Story) -> None:
        if self.should_stop():
            raise _Halt
        claimed = self.store.claim_telegram_post(
            channel.chat, channel.topic, story.id, self.now(), MAX_ATTEMPTS
        )
        if not claimed:  # another process has it, or had it
            return
        text = message(story)
        params: dict[str, object] = {"chat_id": _chat_id(channel.chat), "text": text,
                                     "parse_mode": "HTML"}  # fmt: skip
        if channel.topic:
            params["message_thread_id"] = channel.topic
        try:
            sent = self._call("sendMessage", params)
        except TelegramError as e:
            self._unsent(channel, story, e)
            if e.retry_after is not None or e.kind != "refused":  # limited, or API away
                raise _Halt from e
            return
        message_id = sent.get("message_id") if isinstance(sent, dict) else None
        self.store.telegram_post_done(
            channel.chat, channel.topic, story.id, SENT, self.now(),
            message_id=message_id if isinstance(message_id, int) else None, digest=digest(text),
        )  # fmt: skip
        self.counts.sent += 1

    def _unsent(self, channel: Channel, story: Story, e: TelegramError) -> None:
        if e.kind == "unknown":  # it may have been posted: the claim stays, unsent
            self.counts.unknown += 1
            log.warning("%s: story %s may or may not be posted: %s", channel.chat, story.id, e)
            return
        self.counts.failed += 1
        self.store.telegram_post_done(channel.chat, channel.topic, story.id, FAILED, self.now())
        log.warning("%s: story %s not posted (tried again next pass): %s",
                    channel.chat, story.id, e)  # fmt: skip

    def _edit(self, channel: Channel, story: Story, post: Post) -> bool:
        """Edit the story's message when its text changed; False when it must be tried
        again (a refusal other than "not modified")."""
        text = message(story)
        if digest(text) == post.digest:
            return True
        if self.should_stop():
            raise _Halt
        params = {"chat_id": _chat_id(channel.chat), "message_id": post.message_id,
                  "text": text, "parse_mode": "HTML"}  # fmt: skip
        state = SENT
        try:
            self._call("editMessageText", params)
        except TelegramError as e:
            if e.retry_after is not None:
                raise _Halt from e
            if "message is not modified" in e.message:
                pass  # the same text: only our digest was behind
            elif "message to edit not found" in e.message:
                state = GONE  # deleted in the channel: nothing to edit any more
            else:
                log.warning("%s: story %s not edited: %s", channel.chat, story.id, e)
                return False
        self.store.telegram_post_done(
            channel.chat, channel.topic, story.id, state, self.now(), digest=digest(text)
        )
        self.counts.edited += state == SENT
        return True

    def _call(self, method: str, params: Mapping[str, object]) -> Any:
        """One call, `min_interval` after the last; 429s waited out when short."""
        while True:
            wait = self._last_call + self.settings.min_interval - time.monotonic()
            if wait > 0:
                self.sleep(wait)
            self._last_call = time.monotonic()
            try:
                return self.api.call(method, params)
            except TelegramError as e:
                if e.retry_after is None or e.retry_after > MAX_WAIT_S or self.should_stop():
                    raise
                log.info("Telegram asks to wait %g s (429)", e.retry_after)
                self.sleep(e.retry_after)


def _chat_id(chat: str) -> int | str:
    return int(chat) if chat.lstrip("-").isdigit() else chat


def _marker(config: Config, store: Store) -> str:
    """What the channels' work depends on: the store's content and the feeds' config."""
    feeds = tuple(f for f in config.feeds if f.telegram)
    settings = (config.telegram.backlog, config.telegram.max_per_pass) if config.telegram else ()
    digest_ = hashlib.sha256(repr((feeds, settings)).encode()).hexdigest()[:16]
    return f"{store.change_marker()}|{digest_}"


def post_pass(
    config: Config,
    store: Store,
    *,
    now: Callable[[], datetime],
    should_stop: Callable[[], bool] = lambda: False,
    api: BotApi | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Counts | None:
    """After a pass: bring every feed's channel up to date. None when no feed has one."""
    settings = config.telegram
    feeds = [f for f in config.feeds if f.telegram is not None]
    if settings is None or not feeds:
        return None
    if api is None:
        token = os.environ.get(settings.token_env, "")
        if not token:
            log.error("%s is not set: nothing posted to Telegram", settings.token_env)
            return None
        api = BotApi(settings.api_url, token, settings.timeout)
    poster = Poster(settings, store, api, now=now, sleep=sleep, should_stop=should_stop)
    marker = _marker(config, store)
    channels = [f.telegram for f in feeds if f.telegram is not None]
    rows = [store.telegram_channel(c.chat, c.topic or 0, now()) for c in channels]
    if all(row.marker == marker for row in rows):
        return poster.counts  # nothing changed since every channel was caught up
    from . import stories

    for feed, shown in stories.select(config, store):
        if feed.telegram is not None:
            poster.channel(feed, shown, marker)
    return poster.counts
