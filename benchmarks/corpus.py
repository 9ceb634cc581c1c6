"""A seeded corpus of WordPress-style Arabic RSS feeds, and a loopback server for it.

Why synthetic: the benchmark needs hundreds of feeds of a known size whose stories are all
different (so de-duplication does real work instead of collapsing everything into a few
stories), and the same bytes on every run so figures compare between commits.

Words: a few hundred common Arabic words carry the sentences, and content words are
built from random three-letter roots put through real derivation patterns (فاعل, مفعول,
تفعيل, استفعال, ...). That gives a vocabulary of thousands of plausible words with a
Zipf-like frequency, so two stories share function words but not their subject.

The server binds several addresses of 127.0.0.0/8 (all loopback on Linux) so that the
fetcher's per-host politeness cap sees many hosts, as it would with real sources, and
answers conditional requests with 304 so a warm pass costs what a real one does.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

__all__ = ["ITEM_BYTES", "LENGTHS", "CorpusServer", "Shape", "feed_bytes", "generate"]

ITEM_BYTES = 2500  # aim for one <item>, as WordPress writes it with content:encoded
EPOCH = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

_COMMON_TEXT = """في من على إلى عن مع بعد قبل هذا هذه ذلك التي الذي الذين أن أو ما لا لم قد كما حيث
خلال عبر حول بين ضمن عند منذ حتى ثم كل وفي ومن وعلى وهو وهي هو هي بها به لها له فيها منها
عليها كان كانت يكون تكون أكثر أقل جديد الجديدة الشركة الهاتف التطبيق المستخدمين البيانات
الذكاء الاصطناعي الإنترنت السوق الأجهزة النظام التحديث الميزة الخدمة المنصة الحماية الأمن
الشبكة الجيل الخامس المعالج الشاشة البطارية الكاميرا الإصدار السعر الدولار المليون المليار
العالم المنطقة السعودية مصر الإمارات الأردن المغرب الرياض دبي القاهرة التقنية الرقمية
البرمجيات الألعاب الفضاء السيارات الكهربائية العلماء الدراسة التقرير المطورين الحوسبة
السحابية الخوادم الرقائق الشرائح الذاكرة التخزين الاتصالات الهواتف الذكية الحواسيب المحمولة
أعلنت كشفت أطلقت قالت أكدت أوضحت أشارت وأضافت بحسب وفق نحو أيضا كذلك إضافة لكن غير"""
_COMMON = tuple(_COMMON_TEXT.split())

_LETTERS = "بتثجحخدذرزسشصضطظعغفقكلمنهوي"
# Derivation patterns: 1, 2, 3 stand for the root's letters.
_PATTERNS = (
    "1ا23", "م12و3", "ت12ي3", "است12ا3", "م1ا2ة3", "ال1ا23", "ال12ي3", "م123",
    "1و2ة3", "ان12ا3", "ا1ت2ا3", "ت1ا2ي3", "ال1ا2ات3", "م1ت2ا3", "1ا2ات3", "12و3ي",
)  # fmt: skip
_BRANDS = (
    "Apple", "Samsung", "Google", "Huawei", "Xiaomi", "OpenAI", "Nvidia", "Microsoft",
    "Meta", "Amazon", "Oppo", "Honor", "Sony", "Tesla", "Intel", "AMD", "Qualcomm",
)  # fmt: skip
_CATEGORIES = ("أخبار", "هواتف", "ذكاء اصطناعي", "أمن", "ألعاب", "تطبيقات", "فضاء", "شركات")


@dataclass(frozen=True, slots=True)
class _Vocab:
    content: tuple[str, ...]


def _derive(rng: random.Random) -> str:
    root = rng.sample(_LETTERS, 3)
    word = rng.choice(_PATTERNS)
    return word.replace("1", root[0]).replace("2", root[1]).replace("3", root[2])


def _vocab(seed: int, size: int = 6000) -> _Vocab:
    rng = random.Random(seed)
    words = {_derive(rng) for _ in range(size * 2)}
    return _Vocab(tuple(sorted(words))[:size])


#: Characters of body text per item, by `length`: titles only, an excerpt, the default
#: article (about 2.5 KB of RSS item), and 10 KB of full text.
LENGTHS = {"title": 0, "excerpt": 160, "full": 600, "long": 10_000}
FORMATS = ("rss", "atom", "json")


@dataclass(frozen=True, slots=True)
class Shape:
    """What a corpus looks like: vocabulary size, item length, the share of items that
    retell another source's story (near-duplicates), and the feed format ("mixed":
    RSS, Atom and JSON Feed in turn)."""

    vocabulary: int = 6000
    length: str = "full"
    near_dup: float = 0.0
    format: str = "rss"


class _Writer:
    """Writes the stories of one corpus; story k is the same text whatever the sizes."""

    def __init__(self, seed: int, vocabulary: int = 6000, length: str = "full") -> None:
        self.seed = seed
        self.vocab = _vocab(seed, vocabulary)
        self.chars = LENGTHS[length]

    def story(
        self, source: int, item: int, telling: int | None = None
    ) -> tuple[str, list[str], str]:
        """Title, paragraphs and brand of one story; `telling` gives another source's
        rewrite of it: the same subject, brand and model, its own words and order."""
        rng = random.Random(f"{self.seed}:{source}:{item}")
        # A story's own subject words, drawn Zipf-like from the derived vocabulary.
        n = len(self.vocab.content)
        subject = [self.vocab.content[int(n * rng.random() ** 1.5)] for _ in range(14)]
        brand, model = rng.choice(_BRANDS), rng.randrange(2, 999)
        if telling is not None:
            rng = random.Random(f"{self.seed}:{source}:{item}:telling:{telling}")
        title_words = [*rng.sample(subject, 5), *rng.sample(_COMMON, 2)]
        rng.shuffle(title_words)
        title = f"{brand} " + " ".join(title_words) + f" {model}"
        paragraphs = []
        size = 0
        while size < self.chars:  # characters of body text (Arabic: 2 bytes each in UTF-8)
            words = [
                rng.choice(subject) if rng.random() < 0.35 else rng.choice(_COMMON)
                for _ in range(rng.randrange(18, 40))
            ]
            text = " ".join(words) + "."
            paragraphs.append(text)
            size += len(text)
        return title, paragraphs, brand


def _stories(
    writer: _Writer, source: int, items: int, near_dup: float
) -> list[tuple[str, list[str], str]]:
    """The stories of one source: each its own, or (a `near_dup` share, seeded) another
    source's story retold."""
    rng = random.Random(f"{writer.seed}:dups:{source}")
    out = []
    for item in range(items):
        if source and rng.random() < near_dup:
            out.append(writer.story(rng.randrange(source), item, telling=source))
        else:
            out.append(writer.story(source, item))
    return out


def shaped_bytes(writer: _Writer, source: int, items: int, base_url: str, shape: Shape) -> bytes:
    """One feed of `shape`: RSS 2.0 (as WordPress writes it), Atom 1.0 or JSON Feed 1.1."""
    fmt = FORMATS[source % 3] if shape.format == "mixed" else shape.format
    stories = _stories(writer, source, items, shape.near_dup)
    if fmt == "rss":
        return feed_bytes(writer, source, items, base_url, stories)
    host = f"site{source:04d}.example"
    entries = []
    for item, (title, paragraphs, brand) in enumerate(stories):
        link = f"https://{host}/{EPOCH:%Y/%m}/story-{source}-{item}/"
        published = (EPOCH - timedelta(minutes=37 * item + source % 30)).isoformat()
        content = "".join(f"<p>{p}</p>" for p in paragraphs) or f"<p>{title}</p>"
        entries.append((item, title, link, published, content, brand))
    if fmt == "json":
        import json

        doc = {
            "version": "https://jsonfeed.org/version/1.1", "title": f"موقع التقنية رقم {source}",
            "home_page_url": f"https://{host}/", "feed_url": base_url,
            "items": [
                {"id": f"https://{host}/?p={1000 + i}", "url": link, "title": title,
                 "content_html": content, "date_published": when, "tags": [brand]}
                for i, title, link, when, content, brand in entries
            ],
        }  # fmt: skip
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        f'xml:lang="ar">\n<title>موقع التقنية رقم {source}</title>\n<id>https://{host}/</id>\n'
        f'<updated>{EPOCH.isoformat()}</updated>\n<link href="https://{host}/"/>\n'
    ]
    for i, title, link, when, content, brand in entries:
        out.append(
            f"<entry><title>{escape(title)}</title><id>https://{host}/?p={1000 + i}</id>"
            f'<link href="{link}"/><updated>{when}</updated><author><name>محرر {source}'
            f'</name></author><category term="{escape(brand)}"/>'
            f'<content type="html">{escape(content)}</content></entry>\n'
        )
    out.append("</feed>\n")
    return "".join(out).encode("utf-8")


def feed_bytes(
    writer: _Writer,
    source: int,
    items: int,
    base_url: str,
    stories: list[tuple[str, list[str], str]] | None = None,
) -> bytes:
    """One RSS 2.0 feed as WordPress writes it: description excerpt plus content:encoded."""
    host = f"site{source:04d}.example"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">\n<channel>\n'
        f"<title>موقع التقنية رقم {source}</title>\n"
        f'<atom:link href="{escape(base_url)}" rel="self" type="application/rss+xml" />\n'
        f"<link>https://{host}/</link>\n<description>أخبار التقنية والهواتف</description>\n"
        f"<lastBuildDate>{format_datetime(EPOCH)}</lastBuildDate>\n<language>ar</language>\n"
        "<sy:updatePeriod>hourly</sy:updatePeriod>\n<sy:updateFrequency>1</sy:updateFrequency>\n"
        "<generator>https://wordpress.org/?v=6.5.2</generator>\n"
    ]
    for item in range(items):
        story = stories[item] if stories is not None else writer.story(source, item)
        out.append(_item(story, source, item, host))
    out.append("</channel>\n</rss>\n")
    return "".join(out).encode("utf-8")


def _item(story: tuple[str, list[str], str], source: int, item: int, host: str) -> str:
    title, paragraphs, brand = story
    post = 1000 + item
    link = f"https://{host}/{EPOCH:%Y/%m}/story-{source}-{item}/"
    published = EPOCH - timedelta(minutes=37 * item + source % 30)
    category = _CATEGORIES[(source + item) % len(_CATEGORIES)]
    content = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    image = f"https://{host}/wp-content/uploads/{post}-1024x576.jpg"
    content = (
        f'<figure><img src="{image}" width="1024" height="576" alt="{escape(brand)}" />'
        f'</figure>\n{content}\n<p>ظهرت المقالة <a href="{link}">{title}</a> أولاً على '
        f'<a href="https://{host}/">موقع التقنية</a>.</p>'
    )
    excerpt = (paragraphs[0][:160] + " [&#8230;]") if paragraphs else title
    return (
        f"<item>\n<title>{escape(title)}</title>\n<link>{link}</link>\n"
        f"<dc:creator><![CDATA[محرر {source}]]></dc:creator>\n"
        f"<pubDate>{format_datetime(published)}</pubDate>\n"
        f"<category><![CDATA[{category}]]></category>\n"
        f"<category><![CDATA[{brand}]]></category>\n"
        f'<guid isPermaLink="false">https://{host}/?p={post}</guid>\n'
        f"<description><![CDATA[<p>{excerpt}</p>]]></description>\n"
        f"<content:encoded><![CDATA[{content}]]></content:encoded>\n</item>\n"
    )


def generate(
    sources: int, items: int, *, seed: int = 7, vocabulary: int = 6000, shape: Shape | None = None
) -> dict[str, bytes]:
    """Path ("/feed/<n>.xml") to body, for every source; deterministic for a seed and a
    vocabulary size (derived words to draw subjects from), or a whole `shape`."""
    if shape is None or shape == Shape(vocabulary=shape.vocabulary):
        writer = _Writer(seed, shape.vocabulary if shape else vocabulary)
        return {
            f"/feed/{n}.xml": feed_bytes(writer, n, items, f"https://site{n:04d}.example/feed/")
            for n in range(sources)
        }
    writer = _Writer(seed, shape.vocabulary, shape.length)
    return {
        f"/feed/{n}.xml": shaped_bytes(
            writer, n, items, f"https://site{n:04d}.example/feed/", shape
        )
        for n in range(sources)
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = self.server.corpus.bodies.get(self.path)
        if body is None:
            self.send_error(404)
            return
        etag = self.server.corpus.etags[self.path]
        if self.headers.get("If-None-Match") == etag:
            self.server.corpus.count(304)
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.server.corpus.count(200)
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", format_datetime(EPOCH, usegmt=True))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], corpus: CorpusServer) -> None:
        self.corpus = corpus
        super().__init__(address, _Handler)


class CorpusServer:
    """Serves a generated corpus on `hosts` loopback addresses; use as a context manager."""

    def __init__(self, bodies: dict[str, bytes], *, hosts: int = 32) -> None:
        self.bodies = bodies
        self.etags = {p: f'"{hashlib.sha1(b).hexdigest()[:16]}"' for p, b in bodies.items()}
        self.counts = {200: 0, 304: 0}
        self._lock = threading.Lock()
        self._servers: list[_Server] = []
        self._hosts = max(1, min(hosts, 250))

    def count(self, status: int) -> None:
        with self._lock:
            self.counts[status] += 1

    def reset_counts(self) -> None:
        with self._lock:
            self.counts = {200: 0, 304: 0}

    def __enter__(self) -> CorpusServer:
        for i in range(self._hosts):
            server = _Server((f"127.0.0.{i + 1}", 0), self)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self._servers.append(server)
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def urls(self) -> Iterator[str]:
        """Every feed's URL, spread round-robin over the hosts."""
        for n, path in enumerate(self.bodies):
            server = self._servers[n % len(self._servers)]
            yield f"http://127.0.0.{n % len(self._servers) + 1}:{server.server_port}{path}"
