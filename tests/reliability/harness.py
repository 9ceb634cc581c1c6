"""Shared pieces of the fault-injection suite (imported by its tests and conftest): a
generated corpus served on 127.0.0.1, `feeds` as a subprocess (as cron runs it), and a
checker that every published file parses.

The corpus is deterministic: source ``n`` serves a small RSS feed whose items become
visible one "generation" at a time (the test bumps `CorpusServer.generation` between
passes), so every pass of a long test has new articles to save, cluster and publish.
Items stay in the feed once visible, so the last generation holds everything and a
single pass over it is the control an interrupted history must match.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser

ROOT = Path(__file__).resolve().parents[2]
#: Every published file ends with one of these; a temp file must not.
PUBLISHED_SUFFIXES = (".rss", ".atom", ".json", ".html", ".opml")
BASE_DATE = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

_WORDS = (
    "هاتف", "ذكاء", "اصطناعي", "شريحة", "معالج", "تطبيق", "شبكة", "أمن", "اختراق",
    "فضاء", "صاروخ", "سيارة", "كهربائية", "لعبة", "منصة", "شركة", "ناشئة", "تمويل",
    "بطارية", "شاشة", "سحابة", "بيانات", "خوارزمية", "روبوت", "قمر", "مسبار",
)  # fmt: skip
_LETTERS = "بتثجحخدذرزسشصضطظعغفقكلمنهي"


def _pseudo_word(h: int) -> str:
    return "".join(_LETTERS[(h >> (3 * k)) % len(_LETTERS)] for k in range(4 + h % 3))


def feeds_env(extra_path: str | None = None) -> dict[str, str]:
    path = str(ROOT) if extra_path is None else f"{extra_path}{os.pathsep}{ROOT}"
    return {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}


def feeds_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "feeds", *args]


def run_feeds(
    *args: str, timeout: float = 120, extra_path: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        feeds_cmd(*args),
        env=feeds_env(extra_path),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------- corpus


@dataclass(frozen=True, slots=True)
class Item:
    key: str  # identity shared by the copies of one story in several sources
    title: str
    link: str
    published: datetime
    generation: int  # first generation whose feed shows it


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def corpus_items(n: int, generations: int, per_source: int = 4) -> tuple[Item, ...]:
    """The items of source `n`. Every ninth source repeats item 0 of the source before
    it (same link and title), so the pass has cross-source stories to merge."""
    items = []
    for i in range(per_source):
        src, idx = (n - 1, 0) if (i == 0 and n % 9 == 1) else (n, i)
        key = f"{src}-{idx}"
        h = _digest(key)
        # Random letter strings: no two stories share a word, so only the intended
        # copies cluster and batch and incremental clustering must agree.
        words = [_pseudo_word(_digest(f"{key}/{k}")) for k in range(4)]
        words.append(_WORDS[h % len(_WORDS)])
        title = " ".join(words)
        link = f"https://news{src % 7}.example/{src}/{idx}"
        published = BASE_DATE + timedelta(minutes=(h % 100_000))
        items.append(Item(key, title, link, published, h % max(generations, 1)))
    return tuple(items)


def _topic(item: Item) -> str:
    # A third of the stories are about AI, so the topic feed has items to compare.
    return "تقنيات الذكاء الاصطناعي." if _digest(item.key) % 3 == 0 else "تفاصيل الخبر."


def render_feed(n: int, generation: int, generations: int) -> bytes:
    entries = []
    for item in corpus_items(n, generations):
        if item.generation > generation:
            continue
        entries.append(
            f"<item><title>{item.title}</title><link>{item.link}</link>"
            f"<guid isPermaLink='false'>{item.key}</guid>"
            f"<pubDate>{format_datetime(item.published, usegmt=True)}</pubDate>"
            f"<description>&lt;p&gt;{item.title} — {_topic(item)}&lt;/p&gt;</description></item>"
        )
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>مصدر {n}</title><link>https://site{n}.example/</link>"
        f"<description>d</description>{''.join(entries)}</channel></rss>\n"
    )
    return body.encode("utf-8")


@dataclass(eq=False)
class CorpusServer:
    """Serves /feed/N.xml for N in range(sources); every `slow_every`-th source waits
    `slow_s` seconds before answering, so kills land mid-fetch."""

    sources: int
    generations: int
    slow_every: int = 12
    slow_s: float = 0.6
    generation: int = 0
    base: str = ""
    hits: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold: threading.Event = field(default_factory=threading.Event)  # set: slow sources hang

    def urls(self) -> list[str]:
        return [f"{self.base}/feed/{n}.xml" for n in range(self.sources)]

    def delay(self, n: int) -> float:
        return self.slow_s * (1 + n % 3) / 2 if n % self.slow_every == 5 else 0.0


def serve_corpus(state: CorpusServer) -> Iterator[CorpusServer]:
    """Serve `state` on 127.0.0.1 until the generator is closed (use as a fixture body)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.rsplit("/", 1)[-1].removesuffix(".xml")
            if not self.path.startswith("/feed/") or not name.isdigit():
                self.send_error(404)
                return
            n = int(name)
            with state.lock:
                state.hits += 1
                generation = state.generation
            wait = 30.0 if state.hold.is_set() and state.delay(n) else state.delay(n)
            time.sleep(wait)
            body = render_feed(n, generation, state.generations)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a killed client leaves broken pipes behind; that is the point

    server = Server(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def write_config(folder: Path, urls: list[str], extra: str = "", limit: int = 500) -> Path:
    """config.yaml with relative paths, so two folders render the same bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = "".join(f'  - url: "{u}"\n    name: "مصدر {i}"\n' for i, u in enumerate(urls))
    text = (
        'title: "أخبار الاختبار"\nbase_url: https://example.org/feeds/\n'
        "output_dir: out\ndatabase: db/feeds.db\n"
        "fetch: {concurrency: 16, per_host: 16, timeout: 20, allow_private: [127.0.0.0/8]}\n"
        + extra
        + "sources:\n"
        + sources
        + f'feeds:\n  - slug: all\n    title: "الكل"\n    limit: {limit}\n'
        '  - slug: ai\n    title: "ذكاء"\n    topics: [ai]\n'
    )
    path = folder / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- checking


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href" and v]


def parse_published(path: Path) -> Any:
    """Read one published file with the parser a reader would use; raise if it is torn."""
    data = path.read_bytes()
    name = path.name
    if name.endswith((".rss", ".atom")):
        d = feedparser.parse(data)
        if d.bozo:
            raise AssertionError(f"{path}: not well-formed: {d.bozo_exception!r}")
        ET.fromstring(data)
        return [(e.get("id"), e.get("title"), e.get("link")) for e in d.entries]
    if name.endswith(".json"):
        doc = json.loads(data)
        return [
            (i["id"], i.get("title"), i.get("url"), i["_feeds"]["sources"]) for i in doc["items"]
        ]
    if name.endswith(".opml"):
        return ET.fromstring(data)
    if name.endswith(".html"):
        text = data.decode("utf-8")
        if "</html>" not in text.lower():
            raise AssertionError(f"{path}: index.html is cut short")
        parser = _Html()
        parser.feed(text)
        parser.close()
        return parser.links
    raise AssertionError(f"{path}: unexpected file in output_dir")


def check_output(out: Path) -> dict[str, Any]:
    """Every file a reader could pick up parses; temp files cannot pass for output."""
    parsed: dict[str, Any] = {}
    if not out.exists():
        return parsed
    for path in sorted(out.iterdir()):
        if path.name.startswith("."):
            assert not path.name.endswith(PUBLISHED_SUFFIXES), f"temp file {path.name}"
            continue
        parsed[path.name] = parse_published(path)
    return parsed


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def story_count(sources: int) -> int:
    """Stories a full pass over the first `sources` sources publishes (copies merged)."""
    return len({item.link for n in range(sources) for item in corpus_items(n, 1)})
