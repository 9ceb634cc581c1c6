"""Telegram channels against a fake Bot API on 127.0.0.1 that checks every request,
answers 429 and fails when told to, and keeps the channel's messages as Telegram would.

Passes are real (feeds served by pytest-httpserver, a real SQLite store); the clock
is the test's, ten minutes further at each pass, so "filed after the channel was
added" does not depend on how fast the machine is."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from test_cli import feeds as run_feeds
from test_cli import write_config as cli_config
from test_pipeline import Site

from feeds import config, pipeline, telegram
from feeds.types import Config, SourceRef, Story

TOKEN = "123456:TEST-token"
CHAT = "@arabtech"
RLM = "\u200f"
_MARKUP = re.compile(r'<b>|</b>|<a href="[^"<>]*">|</a>|&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);')


def markup_problem(text: str) -> str | None:
    """Why `text` is not the HTML subset we send (b, a href, the four entities), or None."""
    rest = _MARKUP.sub("", text)
    if "<" in rest or ">" in rest or "&" in rest:
        return f"unescaped markup in {text!r}"
    if any(not line.startswith(RLM) for line in text.split("\n")):
        return f"a line does not start right to left in {text!r}"
    visible = re.sub(r"<[^>]+>", "", text)
    return None if len(visible) <= 4096 else "longer than 4096 characters"


class FakeBotApi:
    """sendMessage and editMessageText over HTTP, with faults planned by call number."""

    def __init__(self) -> None:
        self.faults: dict[int, str] = {}  # call number (from 1) -> "429", "500" or "drop"
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.messages: dict[int, dict[str, Any]] = {}  # message_id -> chat, text, edits
        self.problems: list[str] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake.handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def sent(self) -> list[dict[str, Any]]:
        return [params for method, params in self.calls if method == "sendMessage"]

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length", "0"))
        body = h.rfile.read(length)
        with self.lock:
            answer = self._answer(h, body)
        if answer == "drop":  # the message went through, the answer never comes back
            h.close_connection = True
            h.connection.shutdown(2)
            return
        status, data = answer
        out = json.dumps(data).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(out)))
        h.end_headers()
        h.wfile.write(out)

    def _answer(self, h: BaseHTTPRequestHandler, body: bytes) -> Any:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", h.path)
        if match is None or match[1] != TOKEN:
            return (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = match[2]
        params = json.loads(body)
        self.calls.append((method, params))
        fault = self.faults.get(len(self.calls))
        self._check(method, params, h.headers.get("Content-Type", ""))
        if fault == "429":
            return (429, {
                "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 2",
                "parameters": {"retry_after": 2},
            })  # fmt: skip
        if fault == "500":
            error = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
            return (500, error)
        result = self._apply(method, params)
        return "drop" if fault == "drop" else result

    def _check(self, method: str, params: dict[str, Any], ctype: str) -> None:
        if ctype != "application/json":
            self.problems.append(f"{method}: content type {ctype!r}")
        if params.get("parse_mode") != "HTML" or params.get("chat_id") != CHAT:
            self.problems.append(f"{method}: {params.get('parse_mode')} {params.get('chat_id')}")
        problem = markup_problem(str(params.get("text", "")))
        if problem:
            self.problems.append(f"{method}: {problem}")

    def _apply(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "sendMessage":
            mid = len(self.messages) + 1
            self.messages[mid] = {"chat": params["chat_id"], "text": params["text"], "edits": 0}
            return 200, {"ok": True, "result": {"message_id": mid, "text": params["text"]}}
        if method == "editMessageText":
            msg = self.messages.get(params.get("message_id", 0))
            if msg is None:
                return 400, {"ok": False, "error_code": 400,
                             "description": "Bad Request: message to edit not found"}  # fmt: skip
            if msg["text"] == params["text"]:
                return 400, {"ok": False, "error_code": 400,
                             "description": "Bad Request: message is not modified"}  # fmt: skip
            msg["text"], msg["edits"] = params["text"], msg["edits"] + 1
            return 200, {"ok": True, "result": {"message_id": params["message_id"]}}
        self.problems.append(f"unexpected method {method}")
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}


@pytest.fixture
def site(httpserver: HTTPServer) -> Site:
    return Site(httpserver)


@pytest.fixture
def bot() -> Iterator[FakeBotApi]:
    fake = FakeBotApi()
    yield fake
    fake.close()
    assert not fake.problems, fake.problems


# --------------------------------------------------------------------------- helpers

START = datetime.now(UTC).replace(microsecond=0)


def rss(items: list[tuple[str, str, str]], minutes: int = 0) -> bytes:
    """(slug, title, text) items, published an hour (less `minutes`) before the start."""

    def when(i: int) -> str:  # the stories a minute apart, in the order given
        return format_datetime(START - timedelta(hours=1) + timedelta(minutes=minutes + i))

    body = "".join(
        f"<item><title>{title}</title><link>https://{slug.split('-')[0]}.example/{slug}</link>"
        f"<guid>{slug}</guid><pubDate>{when(i)}</pubDate>"
        f"<description>{escape(text)}</description></item>"
        for i, (slug, title, text) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://example.org/</link>{body}</channel></rss>"
    ).encode()


STORIES = {
    "one": ("سامسونغ تكشف عن هاتف قابل للطي بشاشة أكبر", "كشفت سامسونغ اليوم عن هاتفها "
            "الجديد القابل للطي بشاشة أكبر وبطارية تدوم يومين كاملين <b>&</b> سعر أقل."),
    "two": ("آبل تطلق نظارة الواقع المختلط في الأسواق العربية", "أعلنت آبل طرح نظارتها "
            "للواقع المختلط في السعودية والإمارات ابتداء من الشهر المقبل بسعر جديد."),
    "three": ("غوغل تحدث محرك البحث بنموذج ذكاء اصطناعي جديد", "بدأت غوغل تحديث محرك "
              "البحث بنموذج جديد من الذكاء الاصطناعي يجيب عن الأسئلة الطويلة بالعربية."),
    "four": ("مايكروسوفت تستثمر في مراكز بيانات بالمنطقة", "قالت مايكروسوفت إنها ستستثمر "
             "مليارات الدولارات في مراكز بيانات جديدة في الخليج خلال ثلاث سنوات."),
}  # fmt: skip


def items(source: str, *names: str) -> list[tuple[str, str, str]]:
    return [(f"{source}-{n}", *STORIES[n]) for n in names]


class Deployment:
    """Two sources, one feed posting to the fake channel, and the test's clock."""

    def __init__(self, site: Site, tmp_path: Path, bot: FakeBotApi, settings: str) -> None:
        self.site, self.bot, self.now = site, bot, START
        self.a = site.put("/a.rss", rss([]))
        self.b = site.put("/b.rss", rss([]))
        # tests/test_cli.py's config (whatever fetching loopback needs), with a channel.
        path = cli_config(tmp_path, [self.a, self.b])
        feed = 'feeds:\n  - slug: all\n    title: "الكل"\n'
        text = path.read_text("utf-8")
        assert text.endswith(feed)
        path.write_text(
            text + f'    telegram: {{chat: "{CHAT}"}}\n'
            f"telegram: {{token_env: FEEDS_TEST_TG, api_url: {bot.url}, {settings}}}\n",
            "utf-8",
        )
        self.config: Config = config.load(path)
        self.sleeps: list[float] = []

    def publish(self, source: str, *names: str) -> None:
        # b publishes half an hour after a: a's article stays the lead of a shared story.
        self.site.put(f"/{source}.rss", rss(items(source, *names), 30 if source == "b" else 0))

    def clock(self) -> datetime:
        return self.now

    def pass_(self, poster: Callable[..., Any] | None = None) -> telegram.Counts | None:
        """One pass at the next tick of the clock, then the channel's update."""
        self.now += timedelta(minutes=10)
        with pipeline.open_for(self.config) as store:
            pipeline.run_pass(self.config, store, every=True, now=self.clock)
            api = telegram.BotApi(self.bot.url, TOKEN, timeout=5)
            return telegram.post_pass(
                self.config, store, now=self.clock, api=api, sleep=self.sleeps.append
            )


def leads(bot: FakeBotApi) -> list[str]:
    """The lead article of each sendMessage, in order."""
    return [re.search(r'href="([^"]+)"', p["text"])[1] for p in bot.sent()]  # type: ignore[index]


# --------------------------------------------------------------------------- tests


def test_each_story_is_posted_once_and_edited_as_sources_join(
    site: Site, tmp_path: Path, bot: FakeBotApi
) -> None:
    d = Deployment(site, tmp_path, bot, "min_interval: 0")
    d.publish("a", "one")
    assert d.pass_() == telegram.Counts()  # the channel is new: "one" is backlog
    assert bot.calls == []

    d.publish("a", "one", "two", "three")
    bot.faults = {1: "429", 3: "500"}  # the first call waits; the second send is refused
    counts = d.pass_()
    assert counts == telegram.Counts(sent=1, failed=1)
    assert d.sleeps == [2.0]  # retry_after, waited once
    assert leads(bot) == ["https://a.example/a-two"] * 2 + ["https://a.example/a-three"]

    d.publish("b", "two")  # another outlet joins story "two"
    counts = d.pass_()
    assert counts == telegram.Counts(sent=1, edited=1)  # "three" again, "two" edited
    calls = len(bot.calls)
    assert d.pass_() == telegram.Counts()  # nothing new: not one call
    assert len(bot.calls) == calls

    by_lead: dict[str, list[dict[str, Any]]] = {}
    for message in bot.messages.values():
        lead = re.search(r'href="([^"]+)"', message["text"])[1]  # type: ignore[index]
        by_lead.setdefault(lead, []).append(message)
    assert sorted(by_lead) == ["https://a.example/a-three", "https://a.example/a-two"]
    assert all(len(found) == 1 for found in by_lead.values())  # each story received once
    [two] = by_lead["https://a.example/a-two"]
    assert two["edits"] == 1
    assert '<a href="https://b.example/b-two">مصدر 1</a>' in two["text"]
    assert "مصدر 0" in two["text"] and STORIES["two"][0] in two["text"]


def test_an_unanswered_call_is_never_sent_again(
    site: Site, tmp_path: Path, bot: FakeBotApi
) -> None:
    d = Deployment(site, tmp_path, bot, "min_interval: 0")
    d.pass_()
    d.publish("a", "two", "three")
    bot.faults = {1: "drop"}  # Telegram posts it; the process never learns (a crash)
    assert d.pass_() == telegram.Counts(unknown=1)
    assert d.pass_() == telegram.Counts(sent=1)
    assert d.pass_() == telegram.Counts()
    assert sorted(leads(bot)) == ["https://a.example/a-three", "https://a.example/a-two"]
    assert len(bot.messages) == 2


def test_a_claim_left_by_a_killed_process_is_not_sent(
    site: Site, tmp_path: Path, bot: FakeBotApi
) -> None:
    d = Deployment(site, tmp_path, bot, "min_interval: 0")
    d.pass_()
    d.publish("a", "two")
    with pipeline.open_for(d.config) as store:
        pipeline.run_pass(d.config, store, every=True, now=d.clock)
        [story] = store.recent_stories(1)
        # What a process killed between its claim and its call leaves behind.
        assert store.claim_telegram_post(CHAT, 0, story.id, d.now, telegram.MAX_ATTEMPTS)
    assert d.pass_() == telegram.Counts()
    assert bot.calls == []


def test_a_first_run_posts_only_the_backlog_and_the_cap_spreads_the_rest(
    site: Site, tmp_path: Path, bot: FakeBotApi
) -> None:
    d = Deployment(site, tmp_path, bot, "min_interval: 0, backlog: 1, max_per_pass: 1")
    d.publish("a", "one", "two")
    assert d.pass_() == telegram.Counts(sent=1)  # the newest of the backlog only
    d.publish("a", "one", "two", "three", "four")
    assert d.pass_() == telegram.Counts(sent=1)
    assert d.pass_() == telegram.Counts(sent=1)  # the store did not change: the cap's rest
    assert d.pass_() == telegram.Counts()
    assert leads(bot) == [f"https://a.example/a-{n}" for n in ("two", "three", "four")]


def test_calls_for_one_channel_are_spaced(site: Site, tmp_path: Path, bot: FakeBotApi) -> None:
    d = Deployment(site, tmp_path, bot, "min_interval: 30")
    d.pass_()
    d.publish("a", "two", "three")
    d.pass_()
    assert len(bot.sent()) == 2 and len(d.sleeps) == 1 and 29 < d.sleeps[0] <= 30


def test_the_message_is_escaped_right_to_left_html() -> None:
    story = Story(
        id="s", title='Apple <script>alert("x")</script> & «آيفون»', url='https://a.example/?a=1&b="2"',
        summary_html="<p>نص <b>قصير</b> &amp; آمن</p>", content_html="",
        published=START, updated=START, language="mixed",
        sources=(SourceRef("https://a.example/1", "ألف & شركاه", "https://a.example/feed"),
                 SourceRef("https://b.example/1", "<باء>", "https://b.example/feed"),
                 SourceRef("https://a.example/2", "ألف", "https://a.example/feed")),
    )  # fmt: skip
    text = telegram.message(story)
    assert markup_problem(text) is None
    assert text.split("\n") == [
        RLM + '<b><a href="https://a.example/?a=1&amp;b=&quot;2&quot;">Apple &lt;script&gt;'
        'alert("x")&lt;/script&gt; &amp; «آيفون»</a></b>',
        RLM + "ألف &amp; شركاه",
        RLM + "نص قصير &amp; آمن",
        RLM + 'أيضًا: <a href="https://b.example/1">&lt;باء&gt;</a>',  # one link per outlet
    ]


def test_feeds_run_posts_with_the_token_from_the_environment(
    site: Site, tmp_path: Path, bot: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = Deployment(site, tmp_path, bot, "min_interval: 0")
    monkeypatch.setenv("FEEDS_TEST_TG", TOKEN)
    assert run_feeds("run", "-c", d.config.path).returncode == 0  # registers the channel
    time.sleep(1.1)  # the store's times are to the second: the next story is later
    d.publish("a", "two")
    proc = run_feeds("run", "--all", "-c", d.config.path)
    assert proc.returncode == 0, proc.stderr
    assert leads(bot) == ["https://a.example/a-two"]
    monkeypatch.delenv("FEEDS_TEST_TG")
    d.publish("a", "two", "three")
    again = run_feeds("run", "--all", "-c", d.config.path)  # no token now: said, and nothing sent
    assert again.returncode == 0 and "FEEDS_TEST_TG is not set" in again.stderr
    assert len(bot.calls) == 1


@pytest.mark.parametrize(
    ("feed", "top", "problem"),
    [
        ('{chat: "@arabtech"}', "", "feeds: a feed names a telegram channel: telegram.token_env"),
        ('{chat: "arab tech"}', "telegram: {token_env: T}\n", "feeds[0].telegram.chat: must be"),
        ("{chat: -1001234, topic: 0}", "telegram: {token_env: T}\n", "topic: must be at least 1"),
        ('{chat: "@arabtech"}', "telegram: {token_env: T, max_per_pass: 0}\n", "max_per_pass"),
    ],
    ids=["no-token-env", "bad-chat", "bad-topic", "bad-cap"],
)
def test_telegram_keys_are_checked(tmp_path: Path, feed: str, top: str, problem: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"title: t\nbase_url: https://example.org/\n{top}sources:\n  - url: https://a.example/f\n"
        f"feeds:\n  - slug: all\n    title: t\n    telegram: {feed}\n",
        "utf-8",
    )
    found = [str(p) for p in config.problems(path)]
    assert len(found) == 1 and problem in found[0], found


def test_a_numeric_chat_id_is_sent_as_a_number() -> None:
    assert telegram._chat_id("-1001234") == -1001234 and telegram._chat_id("@c") == "@c"
