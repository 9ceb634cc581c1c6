"""The bundled sample feeds, served on 127.0.0.1 so `feeds demo` runs the real pipeline offline.

`feeds/demo_data/` holds ten invented Arabic tech-news sources (RSS 2.0 from WordPress,
Atom 1.0 with xml:base, RSS 1.0, a windows-1256 RSS, a Levantine CMS with Arabic dates, a
general paper mixing sport and weather, a summary-only blog read in full from its
`pages/`, a page of news cards read with `scrape:`, a page of JSON-LD articles) and
`sources.json`, which says how each file is served. The server is a test fixture built
on the stdlib `http.server`, not the product server (that is `feeds.serve`): it exists
so fetch sees real HTTP with real headers.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from types import TracebackType
from typing import Any, cast
from urllib.parse import urlsplit

from .conditional import not_modified

__all__ = ["DemoFile", "DemoServer", "config_text", "demo_files", "demo_pages"]

log = logging.getLogger("feeds.demo")

_PACKAGE = "feeds"
_FOLDER = "demo_data"
_MANIFEST = "sources.json"

Scalar = str | bool | int | dict[str, str]


@dataclass(frozen=True, slots=True)
class DemoFile:
    """One sample feed and how the demo server announces it."""

    path: str  # file name in demo_data/, also the URL path under the server's base URL
    name: str  # the source's display name
    content_type: str  # the whole Content-Type header, charset included when announced
    body: bytes
    etag: str
    last_modified: datetime
    options: tuple[tuple[str, Scalar], ...] = ()  # extra `sources:` keys for config.yaml


def _read(name: str) -> bytes:
    # importlib.resources rather than __file__, so the data is found inside a wheel or zip.
    return resources.files(_PACKAGE).joinpath(_FOLDER).joinpath(name).read_bytes()


def _demo_file(entry: Mapping[str, Any]) -> DemoFile:
    body = _read(entry["path"])
    charset = entry.get("charset")
    content_type = (
        f"{entry['content_type']}; charset={charset}" if charset else entry["content_type"]
    )
    stamp = datetime.fromisoformat(entry["last_modified"].replace("Z", "+00:00")).astimezone(UTC)
    return DemoFile(
        path=entry["path"],
        name=entry.get("name", ""),
        content_type=content_type,
        body=body,
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        last_modified=stamp,
        options=tuple(sorted(entry.get("options", {}).items())),
    )


def demo_files() -> tuple[DemoFile, ...]:
    """Every sample feed listed in `sources.json`, in manifest order."""
    manifest = json.loads(_read(_MANIFEST).decode("utf-8"))
    return tuple(_demo_file(entry) for entry in manifest["sources"])


def demo_pages() -> tuple[DemoFile, ...]:
    """The HTML pages `sources.json` lists: the summary-only blog's articles."""
    manifest = json.loads(_read(_MANIFEST).decode("utf-8"))
    return tuple(_demo_file(entry) for entry in manifest.get("pages", ()))


# --------------------------------------------------------------------------- HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], files: Sequence[DemoFile]) -> None:
        super().__init__(address, _Handler)
        self.files = {"/" + f.path: f for f in files}

    def handle_error(self, request: object, client_address: object) -> None:
        # The default prints a traceback on stderr, e.g. when a client hangs up early.
        log.debug("demo server: error while serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    def version_string(self) -> str:
        return "feeds-demo"

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, *, with_body: bool) -> None:
        files = cast(_Server, self.server).files
        file = files.get(urlsplit(self.path).path)
        if file is None:
            plain = (("Content-Type", "text/plain; charset=utf-8"),)
            self._send(HTTPStatus.NOT_FOUND, plain, b"not found\n", with_body)
            return
        validators = (
            ("ETag", file.etag),
            ("Last-Modified", format_datetime(file.last_modified, usegmt=True)),
        )
        if not_modified(
            self.command,
            self.headers.get("If-None-Match"),
            self.headers.get("If-Modified-Since"),
            etags=(file.etag,),
            last_modified=file.last_modified,
            now=datetime.now(UTC),
        ):
            self._send(HTTPStatus.NOT_MODIFIED, validators, b"", with_body=False)
            return
        headers = (("Content-Type", file.content_type), *validators)
        self._send(HTTPStatus.OK, headers, file.body, with_body)

    def _send(
        self,
        status: HTTPStatus,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        with_body: bool,
    ) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status is not HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("demo server: " + format, *args)


class DemoServer:
    """Serves the sample feeds on 127.0.0.1 in a daemon thread while the `with` block runs.

    ``port=0`` (the default) lets the OS pick a free port, so two demos never collide.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.files = demo_files()
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/``; only valid while the server runs."""
        if self._server is None:
            raise RuntimeError("DemoServer is not running; use it in a `with` block")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def sources(self) -> tuple[tuple[str, str], ...]:
        """(feed URL, display name) for each sample feed, in manifest order."""
        base = self.base_url
        return tuple((base + f.path, f.name) for f in self.files)

    def __enter__(self) -> DemoServer:
        self._server = _Server(self._address, (*self.files, *demo_pages()))
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="feeds-demo-server", daemon=True
        )
        self._thread.start()
        log.debug("demo server listening on %s", self.base_url)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None


# --------------------------------------------------------------------------- config.yaml

_TITLE = "أخبار التقنية العربية — عرض تجريبي"
_FEEDS: tuple[dict[str, Any], ...] = (
    {
        "slug": "all",
        "title": "كل أخبار التقنية",
        "description": "كل القصص التقنية من المصادر التجريبية، القصة الواحدة في عنصر واحد",
        # Not "إعلان": in Arabic tech news it also means "announcement" (الإعلان عن).
        "exclude": [r"(?i)\bsponsored\b", "محتوى مدعوم"],
    },
    {"slug": "ai", "title": "الذكاء الاصطناعي", "topics": ["ai"]},
    {"slug": "mobile", "title": "الهواتف الذكية", "topics": ["mobile"]},
    {"slug": "security", "title": "الأمن السيبراني", "topics": ["security"]},
)


def _q(value: object) -> str:
    """A YAML scalar: JSON is valid YAML, and non-printable characters are escaped because
    YAML rejects some that JSON passes through raw (e.g. U+2028, U+FEFF)."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(
        c if c.isprintable() else (f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
        for c in text
    )


def _source_lines(url: str, name: str, options: Sequence[tuple[str, Scalar]]) -> list[str]:
    lines = [f"  - url: {_q(url)}", f"    name: {_q(name)}"]
    lines += [f"    {key}: {_q(value)}" for key, value in options]
    return lines


def _feed_lines(feed: Mapping[str, Any]) -> list[str]:
    lines = [f"  - slug: {_q(feed['slug'])}"]
    for key, value in feed.items():
        if key == "slug":
            continue
        if isinstance(value, list):
            lines.append(f"    {key}: [{', '.join(_q(v) for v in value)}]")
        else:
            lines.append(f"    {key}: {_q(value)}")
    return lines


def _allow_lines(server_base: str) -> list[str]:
    """Let fetches reach the demo server, and only it: loopback is refused by default."""
    try:
        address = ipaddress.ip_address(urlsplit(server_base).hostname or "")
    except ValueError:
        return []
    network = ipaddress.ip_network(address)
    return ["fetch:", f"  allow_private: [{_q(str(network))}]  # the demo server alone"]


def config_text(
    server_base: str, sources: Sequence[tuple[str, str]], *, output_dir: str, database: str
) -> str:
    """The text of a demo config.yaml over `sources` (as `DemoServer.sources()` gives them).

    `output_dir` and `database` are written as given, so pass absolute paths: relative ones
    would be resolved against the config file's folder. A source served from `server_base`
    gets the extra keys its manifest entry names (the Levantine feed's `default_tz`, the
    general paper's `filter_topics`).
    """
    options = {server_base.rstrip("/") + "/" + f.path: f.options for f in demo_files()}
    lines = [
        "# Written by `feeds demo`: the bundled sample feeds, served on 127.0.0.1.",
        "# Strings are JSON-quoted, which YAML reads as double-quoted scalars.",
        f"title: {_q(_TITLE)}",
        f"base_url: {_q('http://127.0.0.1:8080/')}",
        f"output_dir: {_q(output_dir)}",
        f"database: {_q(database)}",
        "schedule:",
        f"  interval: {_q('15m')}",
        *_allow_lines(server_base),
        "sources:" if sources else "sources: []",
    ]
    for url, name in sources:
        lines += _source_lines(url, name, options.get(url, ()))
    lines.append("feeds:")
    for feed in _FEEDS:
        lines += _feed_lines(feed)
    return "\n".join(lines) + "\n"
