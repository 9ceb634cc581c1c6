"""Hostile HTTP servers on 127.0.0.1 for tests (and benchmarks) of anything that fetches.

Usage::

    with hostile_server() as srv:
        url = srv.url("/feed.xml")      # or f"{srv.base}/feed.xml"
        ...
        assert srv.hits["/feed.xml"] == 1

The server speaks just enough HTTP/1.1 over raw sockets to misbehave on purpose: one
daemon thread per connection, ``Connection: close`` on every answer, socket timeouts,
port 0 and SO_REUSEADDR. Every handler is bounded (bytes sent, seconds spent), and
leaving the ``with`` block stops the accept loop, so nothing outlives a test for long.

Paths (query strings are ignored for routing; ``hits`` counts by path alone):

==========================  =================================================================
``/feed.xml``               RSS 2.0 with ``ETag: "v1"`` and a Last-Modified; 304 when
                            If-None-Match or If-Modified-Since matches
``/empty``                  200 with an empty body
``/slow?every=S&n=N``       headers at once, then one byte every S s (default 2), N bytes
``/silent``                 accepts, reads the request, never answers (until `lifetime`)
``/endless``                200 without Content-Length, zeros until `endless_bytes` are sent
``/declared-big``           Content-Length: 1 GiB, then a few bytes
``/gzip-bomb``              ~64 KB gzip that inflates to 64 MiB of zeros
``/deflate-bomb``           the same as raw deflate (no zlib header) under "deflate"
``/brotli-bomb``            ~400 bytes of brotli that inflate to 256 MiB of zeros
``/gzip-feed``              the feed body gzipped (also ``/deflate-feed`` as raw deflate,
                            ``/zlib-feed`` as zlib-wrapped deflate, ``/br-feed`` as brotli)
``/bad-gzip``               Content-Encoding: gzip over bytes that are not gzip
``/gzip-unlabelled``        the feed body gzipped, without Content-Encoding (a .gz file);
                            ``/gzip-twice`` gzipped twice under one "gzip"; and
                            ``/gzip-unlabelled-bomb`` the gzip bomb without Content-Encoding
``/loop/a`` ``/loop/b``     302 to each other
``/hop/N``                  302 to /hop/N+1 until N = 10, which redirects to /feed.xml
``/to-file``                302 to file:///etc/passwd
``/to-ftp``                 301 to ftp://127.0.0.1/feed.xml
``/no-location``            302 without a Location header
``/moved``                  301 to /moved2 (relative Location), 308 to /feed.xml
``/temporary``              302 to /feed.xml
``/mixed``                  301 to /temporary (so the chain is not all permanent)
``/gone``                   410
``/not-found``              404
``/ratelimited``            429 with ``Retry-After: 120``
``/unavailable``            503 with an HTTP-date Retry-After one hour after `now_http`
``/error``                  500
``/reset``                  Content-Length 10000, 100 bytes, then a TCP RST
``/truncated``              Content-Length 10000, 100 bytes, then a clean close
``/garbage``                a response that is not HTTP at all
``/hold?s=S``               holds the request S s (default 0.3) then answers 200; the
                            server's ``max_in_flight`` records the peak concurrency
``/redirect?to=URL``        302 to URL
``/page?feed=URL``          an HTML page whose ``<link rel=alternate>`` names URL
``/relative``               RSS whose item link and image are relative (``/a/1``)
anything else               404 (still counted in ``hits``)
==========================  =================================================================

Every request's path and lower-cased headers are appended to ``requests``.

Fetches refuse loopback addresses by default (issue 20): a test or benchmark that
fetches from these servers allows them explicitly, with `LOOPBACK` in a FetchConfig or
`LOOPBACK_YAML` in a config file.
"""

from __future__ import annotations

import functools
import gzip
import html
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

import brotli  # type: ignore[import-untyped]

__all__ = [
    "FEED_BODY",
    "FEED_ETAG",
    "FEED_LAST_MODIFIED",
    "LOOPBACK",
    "LOOPBACK_YAML",
    "RELATIVE_BODY",
    "HostileServer",
    "hostile_server",
    "port_of",
]

#: `fetch.allow_private` for tests: the loopback networks these servers listen on.
LOOPBACK = ("127.0.0.0/8", "::1/128")
#: The same as a line of config.yaml.
LOOPBACK_YAML = 'fetch: {allow_private: [127.0.0.0/8, "::1/128"]}'

FEED_ETAG = '"v1"'
FEED_LAST_MODIFIED = "Mon, 01 Jun 2026 10:00:00 GMT"
FEED_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<rss version="2.0"><channel><title>Test feed</title><link>http://example.com/</link>'
    b"<description>d</description><ttl>60</ttl>"
    b"<item><title>One</title><link>http://example.com/1</link><guid>1</guid></item>"
    b"</channel></rss>\n"
)
#: An RSS item whose links are relative, to be joined against the URL it came from.
RELATIVE_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<rss version="2.0"><channel><title>Relative</title><link>/</link><description>d'
    b"</description><item><title>Relative one</title><link>/a/1</link><guid>r1</guid>"
    b"<description>&lt;p&gt;&lt;a href=&quot;/a/2&quot;&gt;more&lt;/a&gt; "
    b"&lt;img src=&quot;/i.png&quot;&gt;&lt;/p&gt;</description></item></channel></rss>\n"
)
_HTML = {"Content-Type": "text/html; charset=utf-8"}
_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass(eq=False)
class HostileServer:
    """State shared with the handler threads; read it from the test."""

    base: str = ""
    endless_bytes: int = 64 * _MIB
    lifetime: float = 30.0
    now_http: datetime = field(default_factory=lambda: datetime.now(UTC))
    hits: Counter[str] = field(default_factory=Counter)
    requests: list[Request] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base + path


def port_of(server: HostileServer) -> int:
    return int(server.base.rsplit(":", 1)[1])


@contextmanager
def hostile_server(
    *,
    endless_bytes: int = 64 * _MIB,
    lifetime: float = 30.0,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[HostileServer]:
    """Serve the paths above on `host` (a loopback address) until the block ends.

    `endless_bytes` bounds /endless; `lifetime` bounds how long any one connection may
    be held open (the /silent and /slow handlers give up at that point). Linux routes
    all of 127.0.0.0/8 to loopback, so a second server on 127.0.0.2 can be allowed
    while 127.0.0.1 stays refused; `port` puts it on the first one's port.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(64)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    server = HostileServer(f"http://{host}:{port}", endless_bytes, lifetime)
    thread = threading.Thread(target=_accept_loop, args=(listener, server), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        thread.join(timeout=2)
        listener.close()


def _accept_loop(listener: socket.socket, server: HostileServer) -> None:
    while not server.stopping.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        threading.Thread(target=_serve, args=(conn, server), daemon=True).start()


def _serve(conn: socket.socket, server: HostileServer) -> None:
    conn.settimeout(5)
    with conn, suppress(OSError):
        request = _read_request(conn)
        if request is None:
            return
        with server.lock:
            server.hits[request.path] += 1
            server.requests.append(request)
        handler = _ROUTES.get(request.path) or _prefix_route(request.path) or _not_found
        handler(conn, request, server)


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > 65536:
            return None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    line, *header_lines = head.split("\r\n")
    target = line.split(" ")[1] if line.count(" ") >= 2 else "/"
    parts = urlsplit(target)
    headers: dict[str, str] = {}
    for header in header_lines:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(parts.path, parse_qs(parts.query), headers)


# --------------------------------------------------------------------------- responses


def _head(status: int, reason: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _send(
    conn: socket.socket,
    status: int,
    reason: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> None:
    conn.sendall(_head(status, reason, {"Content-Length": str(len(body)), **(headers or {})}))
    conn.sendall(body)


def _redirect(status: int, location: str | None) -> Handler:
    reasons = {301: "Moved Permanently", 302: "Found", 308: "Permanent Redirect"}

    def handler(conn: socket.socket, request: Request, server: HostileServer) -> None:
        _send(conn, status, reasons[status], headers={"Location": location} if location else {})

    return handler


def _status(status: int, reason: str, headers: dict[str, str] | None = None) -> Handler:
    def handler(conn: socket.socket, request: Request, server: HostileServer) -> None:
        _send(conn, status, reason, b"no", headers)

    return handler


def _feed(conn: socket.socket, request: Request, server: HostileServer) -> None:
    validators = {"ETag": FEED_ETAG, "Last-Modified": FEED_LAST_MODIFIED}
    if (
        request.headers.get("if-none-match") == FEED_ETAG
        or request.headers.get("if-modified-since") == FEED_LAST_MODIFIED
    ):
        conn.sendall(_head(304, "Not Modified", validators))
        return
    headers = {"Content-Type": "application/rss+xml; charset=utf-8", **validators}
    _send(conn, 200, "OK", FEED_BODY, {**headers, "Cache-Control": "max-age=600"})


def _slow(conn: socket.socket, request: Request, server: HostileServer) -> None:
    every = float(request.query.get("every", ["2"])[0])
    count = int(request.query.get("n", ["30"])[0])
    conn.sendall(_head(200, "OK", {"Content-Length": str(count)}))
    deadline = time.monotonic() + server.lifetime
    for _ in range(count):
        if server.stopping.wait(every) or time.monotonic() > deadline:
            return
        conn.sendall(b"x")


def _silent(conn: socket.socket, request: Request, server: HostileServer) -> None:
    server.stopping.wait(server.lifetime)


def _endless(conn: socket.socket, request: Request, server: HostileServer) -> None:
    conn.sendall(_head(200, "OK", {"Content-Type": "application/rss+xml"}))
    block = b"<" * (64 * 1024)
    sent = 0
    while sent < server.endless_bytes and not server.stopping.is_set():
        conn.sendall(block)
        sent += len(block)


def _declared_big(conn: socket.socket, request: Request, server: HostileServer) -> None:
    conn.sendall(_head(200, "OK", {"Content-Length": str(1024 * _MIB)}))
    conn.sendall(b"<rss>")


def _encoded(coding: str, body: Callable[[], bytes]) -> Handler:
    def handler(conn: socket.socket, request: Request, server: HostileServer) -> None:
        _send(conn, 200, "OK", body(), {"Content-Encoding": coding})

    return handler


def _unlabelled_bomb(conn: socket.socket, request: Request, server: HostileServer) -> None:
    mib = int(request.query.get("mib", ["64"])[0])
    _send(conn, 200, "OK", _gzip_bomb(mib), {"Content-Type": "application/xml"})


def _bomb(coding: str, build: Callable[[int], bytes], default_mib: int) -> Handler:
    def handler(conn: socket.socket, request: Request, server: HostileServer) -> None:
        mib = int(request.query.get("mib", [str(default_mib)])[0])
        _send(conn, 200, "OK", build(mib), {"Content-Encoding": coding})

    return handler


@functools.cache
def _gzip_bomb(mib: int) -> bytes:
    return gzip.compress(bytes(mib * _MIB), compresslevel=9, mtime=0)


@functools.cache
def _deflate_bomb(mib: int) -> bytes:
    return _raw_deflate(bytes(mib * _MIB))


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@functools.cache
def _brotli_bomb(mib: int) -> bytes:
    packer = brotli.Compressor(quality=5)
    zeros = bytes(_MIB)
    body: bytes = b"".join(packer.process(zeros) for _ in range(mib)) + packer.finish()
    return body


def _hop(conn: socket.socket, request: Request, server: HostileServer) -> None:
    n = int(request.path.rsplit("/", 1)[1] or 0)
    _redirect(302, "/feed.xml" if n >= 10 else f"/hop/{n + 1}")(conn, request, server)


def _reset(conn: socket.socket, request: Request, server: HostileServer) -> None:
    conn.sendall(_head(200, "OK", {"Content-Length": "10000"}) + b"<" * 100)
    time.sleep(0.05)
    # SO_LINGER with a zero timeout turns close() into a RST instead of a FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _truncated(conn: socket.socket, request: Request, server: HostileServer) -> None:
    conn.sendall(_head(200, "OK", {"Content-Length": "10000"}) + b"<" * 100)


def _garbage(conn: socket.socket, request: Request, server: HostileServer) -> None:
    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\nnot http at all\r\n\r\n")


def _unavailable(conn: socket.socket, request: Request, server: HostileServer) -> None:
    when = format_datetime(server.now_http + timedelta(hours=1), usegmt=True)
    _send(conn, 503, "Service Unavailable", b"later", {"Retry-After": when})


def _hold(conn: socket.socket, request: Request, server: HostileServer) -> None:
    with server.lock:
        server.in_flight += 1
        server.max_in_flight = max(server.max_in_flight, server.in_flight)
    try:
        server.stopping.wait(float(request.query.get("s", ["0.3"])[0]))
    finally:
        with server.lock:
            server.in_flight -= 1
    _send(conn, 200, "OK", FEED_BODY)


def _redirect_to(conn: socket.socket, request: Request, server: HostileServer) -> None:
    _redirect(302, request.query["to"][0])(conn, request, server)


def _page(conn: socket.socket, request: Request, server: HostileServer) -> None:
    feed = html.escape(request.query["feed"][0])
    body = f'<html><head><link rel="alternate" type="application/rss+xml" href="{feed}">'
    _send(conn, 200, "OK", f"{body}</head><body>a page</body></html>".encode(), _HTML)


def _relative(conn: socket.socket, request: Request, server: HostileServer) -> None:
    _send(conn, 200, "OK", RELATIVE_BODY, {"Content-Type": "application/rss+xml"})


def _not_found(conn: socket.socket, request: Request, server: HostileServer) -> None:
    _send(conn, 404, "Not Found", b"nothing here")


Handler = Callable[[socket.socket, Request, HostileServer], None]

_ROUTES: dict[str, Handler] = {
    "/feed.xml": _feed,
    "/empty": lambda conn, request, server: _send(conn, 200, "OK", b""),
    "/slow": _slow,
    "/silent": _silent,
    "/endless": _endless,
    "/declared-big": _declared_big,
    "/gzip-bomb": _bomb("gzip", _gzip_bomb, 64),
    "/deflate-bomb": _bomb("deflate", _deflate_bomb, 64),
    "/brotli-bomb": _bomb("br", _brotli_bomb, 256),
    "/gzip-feed": _encoded("gzip", lambda: gzip.compress(FEED_BODY)),
    "/deflate-feed": _encoded("deflate", lambda: _raw_deflate(FEED_BODY)),
    "/zlib-feed": _encoded("deflate", lambda: zlib.compress(FEED_BODY)),
    "/br-feed": _encoded("br", lambda: brotli.compress(FEED_BODY)),
    "/bad-gzip": _encoded("gzip", lambda: b"this is not gzip at all" * 10),
    "/gzip-unlabelled": lambda conn, request, server: _send(
        conn, 200, "OK", gzip.compress(FEED_BODY), {"Content-Type": "application/xml"}
    ),
    "/gzip-twice": _encoded("gzip", lambda: gzip.compress(gzip.compress(FEED_BODY))),
    "/gzip-unlabelled-bomb": _unlabelled_bomb,
    "/loop/a": _redirect(302, "/loop/b"),
    "/loop/b": _redirect(302, "/loop/a"),
    "/to-file": _redirect(302, "file:///etc/passwd"),
    "/to-ftp": _redirect(301, "ftp://127.0.0.1/feed.xml"),
    "/no-location": _redirect(302, None),
    "/moved": _redirect(301, "moved2"),
    "/moved2": _redirect(308, "/feed.xml"),
    "/temporary": _redirect(302, "/feed.xml"),
    "/mixed": _redirect(301, "/temporary"),
    "/gone": _status(410, "Gone"),
    "/not-found": _status(404, "Not Found"),
    "/ratelimited": _status(429, "Too Many Requests", {"Retry-After": "120"}),
    "/unavailable": _unavailable,
    "/error": _status(500, "Internal Server Error"),
    "/reset": _reset,
    "/truncated": _truncated,
    "/garbage": _garbage,
    "/hold": _hold,
    "/redirect": _redirect_to,
    "/page": _page,
    "/relative": _relative,
}


def _prefix_route(path: str) -> Handler | None:
    return _hop if path.startswith("/hop/") else None
