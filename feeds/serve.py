"""HTTP serving of output_dir for `feeds serve`; the only module that imports starlette
and uvicorn.

Only the published files are served, picked by name (never by joining a request path
onto a folder), so ``../``, ``%2e%2e``, absolute paths and dot files cannot reach
anything else: ``<slug>.rss|.atom|.json|.html``, ``index.html`` (also at ``/``) and
``feeds.opml``. Feed readers poll, so conditional requests matter more than speed:

* ``ETag`` is strong and computed from the bytes (RFC 9110 §8.8.3), cached per
  (inode, mtime_ns, size) so a file is hashed once per atomic replace, not per request.
  The gzip variant has its own tag (``"…-gz"``): a strong tag names one exact byte
  sequence, and each variant is a different one. ``Vary: Accept-Encoding`` goes on both.
* ``If-None-Match`` wins over ``If-Modified-Since`` (RFC 9110 §13.2.2); either gives 304
  (`feeds.conditional`, which the demo server shares), and either tag matches.
* ``Cache-Control: max-age`` is the schedule interval: nothing changes sooner.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gzip
import hashlib
import logging
import os
import re
import socket
import stat
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from .conditional import not_modified
from .errors import FeedsError
from .ops import Asked, Endpoint
from .publish import SCRIPT_HASH

__all__ = ["CONTENT_TYPES", "HttpServer", "app", "ops_app"]

log = logging.getLogger("feeds.serve")

#: Published file extension → Content-Type. XML declares its encoding in the prolog and
#: JSON is UTF-8 by definition (RFC 8259 §8.1), so only HTML carries a charset.
CONTENT_TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/feed+json",
    ".html": "text/html; charset=utf-8",
    ".opml": "text/x-opml",
}
_FEED_NAME = re.compile(r"([a-z0-9][a-z0-9_-]*)\.(rss|atom|json|html)")
_FIXED = frozenset({"index.html", "feeds.opml"})
_ALLOW = "GET, HEAD"
#: Seconds uvicorn may spend finishing responses in flight when told to stop.
_GRACEFUL_S = 5


@dataclass(frozen=True, slots=True)
class _Entity:
    """One version of one file, with both encodings and their validators."""

    key: tuple[int, int, int]  # inode, mtime_ns, size: a new atomic replace changes it
    body: bytes
    gzipped: bytes
    etag: str
    mtime: float

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gz"'


class _Files:
    """Reads published files by name, keeping the latest version of each in memory."""

    def __init__(self, output_dir: str, slugs: Collection[str] | None) -> None:
        self.root = os.path.realpath(output_dir)
        self.slugs = frozenset(slugs) if slugs is not None else None
        self.cache: dict[str, _Entity] = {}

    def allowed(self, name: str) -> bool:
        if name in _FIXED:
            return True
        match = _FEED_NAME.fullmatch(name)
        return match is not None and (self.slugs is None or match[1] in self.slugs)

    def get(self, name: str) -> _Entity | None:
        """The file's current version, or None when it is missing or not a plain file
        inside output_dir (a symlink pointing out of it counts as missing)."""
        path = os.path.join(self.root, name)
        real = os.path.realpath(path)
        if os.path.dirname(real) != self.root:
            return None
        try:
            # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            with open(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode):
                    return None
                key = (st.st_ino, st.st_mtime_ns, st.st_size)
                cached = self.cache.get(name)
                if cached is not None and cached.key == key:
                    return cached
                body = fh.read()
        except OSError:
            return None
        entity = _entity(key, body, st.st_mtime)
        self.cache[name] = entity
        return entity


def _entity(key: tuple[int, int, int], body: bytes, mtime: float) -> _Entity:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    # mtime=0 keeps the gzip bytes a pure function of the body, as its ETag promises.
    return _Entity(key, body, gzip.compress(body, compresslevel=6, mtime=0), etag, mtime)


# --------------------------------------------------------------------------- HTTP rules


def _accepts_gzip(header: str) -> bool:
    """RFC 9110 §12.5.3: "gzip" or "*" with a non-zero q (q=0 means "not acceptable")."""
    found: dict[str, float] = {}
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        found[coding.strip().lower()] = q
    q = found.get("gzip", found.get("x-gzip", found.get("*", 0.0)))
    return q > 0


def _respond(request: Request, name: str, entity: _Entity, max_age: int) -> Response:
    zipped = _accepts_gzip(request.headers.get("accept-encoding", ""))
    headers = {
        "Content-Type": CONTENT_TYPES[os.path.splitext(name)[1]],
        "ETag": entity.gzip_etag if zipped else entity.etag,
        "Last-Modified": formatdate(entity.mtime, usegmt=True),
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Encoding",
        **security_headers(name),
    }
    if not_modified(
        request.method,
        request.headers.get("if-none-match"),
        request.headers.get("if-modified-since"),
        etags=(entity.etag, entity.gzip_etag),
        last_modified=datetime.fromtimestamp(entity.mtime, UTC),
        now=datetime.now(UTC),
    ):
        del headers["Content-Type"]
        return Response(status_code=304, headers=headers)
    body = entity.gzipped if zipped else entity.body
    if zipped:
        headers["Content-Encoding"] = "gzip"
    headers["Content-Length"] = str(len(body))
    return Response(b"" if request.method == "HEAD" else body, headers=headers)


def app(
    output_dir: str | None,
    *,
    max_age: int,
    slugs: Collection[str] | None = None,
    endpoints: Mapping[str, Endpoint] | None = None,
) -> Starlette:
    """The ASGI app serving the published files of `output_dir`.

    `slugs`, when given, narrows the feed files to those of the configured feeds.
    `endpoints` are the operator's (`ops.Operator.endpoints`: healthz, readyz, metrics,
    status), by path; with `output_dir` None they are all it serves.
    """
    files = _Files(output_dir, slugs) if output_dir is not None else None
    endpoints = endpoints or {}

    async def published(request: Request) -> Response:
        # The method first: every path answers the same 405 to a method it never allows.
        if request.method not in ("GET", "HEAD"):
            return _plain(405, "method not allowed", Allow=_ALLOW)
        name = request.path_params["name"] or "index.html"
        if name in endpoints:
            return await _operator(request, endpoints[name])
        if files is None or not files.allowed(name):
            return _plain(404, "not found")
        # In a thread: opening and reading a file blocks, and a slow disk (or anything
        # that is not a regular file) must not stall every other request.
        entity = await run_in_threadpool(files.get, name)
        if entity is None:
            return _plain(404, "not found")
        return _respond(request, name, entity, max_age)

    # One catch-all route that accepts every method, so this code (not the router)
    # decides between 404 and 405, and a path with a slash in it never names a file.
    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    return Starlette(routes=[Route("/{name:path}", published, methods=methods)])


def ops_app(endpoints: Mapping[str, Endpoint]) -> Starlette:
    """Only the operator's endpoints: a worker's own port, or `metrics.port`."""
    return app(None, max_age=0, endpoints=endpoints)


async def _operator(request: Request, endpoint: Endpoint) -> Response:
    client = request.client.host if request.client else None
    reply = await endpoint(Asked(request.method, dict(request.headers), client))
    headers = {
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Content-Type": reply.content_type, **dict(reply.headers),
    }  # fmt: skip
    headers["Content-Length"] = str(len(reply.body))
    body = b"" if request.method == "HEAD" else reply.body
    return Response(body, status_code=reply.status, headers=headers)


def _plain(status: int, text: str, **headers: str) -> Response:
    headers = {**headers, "X-Content-Type-Options": "nosniff"}
    return Response(text + "\n", status_code=status, headers=headers, media_type="text/plain")


#: The reading page runs one script, its own relative-times one (allowed by its hash,
#: so nothing injected into a page could run), loads nothing of ours but itself and its
#: inline style, and shows the articles' pictures (remote, any https or http host)
#: without telling their hosts where the reader came from.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src '{SCRIPT_HASH}'; img-src https: http: data:; "
    "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def security_headers(name: str) -> dict[str, str]:
    headers = {"X-Content-Type-Options": "nosniff"}
    if name.endswith(".html"):
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["Referrer-Policy"] = "no-referrer"
    else:  # feeds and OPML: web-based readers fetch them from their own origin
        headers["Access-Control-Allow-Origin"] = "*"
    return headers


# --------------------------------------------------------------------------- the server

#: Seconds a client has to send a request's headers, from the moment it connects or its
#: previous response ends; a client that sends nothing, or a header line now and then
#: (slowloris), is disconnected then.
HEADER_TIMEOUT_S = 10.0
#: Seconds an idle keep-alive connection stays open after a response.
KEEP_ALIVE_S = 5
#: Open connections at most, and never more than the file descriptors left over.
MAX_CONNECTIONS = 256
_FD_RESERVE = 32  # descriptors kept for the store, the published files and the passes
#: Connections asyncio accepts in one go (and the kernel queues), before any of them
#: reaches `_GuardedH11`; two more batches may be accepted before the first is seen.
#: The limit leaves room for those, so that accept() never runs out of descriptors
#: (uvicorn's default batch is 2,048).
ACCEPT_BATCH = 16
_LISTEN_QUEUE = 512


def _connection_limit(wanted: int) -> int:
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return wanted
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(8, min(wanted, soft - _FD_RESERVE - 3 * ACCEPT_BATCH))


class _GuardedH11(H11Protocol):  # type: ignore[misc]
    """uvicorn's h11 protocol with the limits it lacks for a server on the internet.

    uvicorn times out a connection only once a response has been sent; one that never
    completes its first request's headers stays open for good, and enough of them use
    up the process's file descriptors. Here every connection has `header_timeout` to
    send each request's headers, and at `max_connections` the connection idle longest
    (between requests) is closed to make room, so slow clients cannot lock out others.
    """

    header_timeout = HEADER_TIMEOUT_S
    max_connections = MAX_CONNECTIONS
    _deadline: asyncio.TimerHandle | None = None
    _idle_since = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._idle_since = time.monotonic()
        self._arm()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def handle_events(self) -> None:
        super().handle_events()
        if self._awaiting_request() or self.transport.is_closing():
            return
        self._disarm()  # a request's headers are in: the handler's own time now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._idle_since = time.monotonic()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _awaiting_request(self) -> bool:
        return self.cycle is None or bool(self.cycle.response_complete)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        deadline = self._deadline
        if deadline is not None:
            deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self._awaiting_request() and not self.transport.is_closing():
            self.transport.close()

    def _make_room(self) -> None:
        # Skipping those already closing: they leave `connections` only on the next turn
        # of the loop, and closing one again would free nothing.
        idle = [
            c
            for c in self.connections
            if isinstance(c, _GuardedH11) and c._awaiting_request() and not c.transport.is_closing()
        ]
        if not idle:
            self.transport.close()  # every other connection is busy: this one waits no turn
            return
        oldest = min(idle, key=lambda c: c._idle_since)
        oldest.transport.close()


class _QuietAccept:
    """The event loop's exception handler, with "too many open files" said once a minute.

    When accept() fails for want of descriptors, asyncio retries every second and logs
    the error with its traceback each time: 87 MB of stderr in 25 s under a flood.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, every: float = 60.0) -> None:
        self.previous = loop.get_exception_handler()
        self.every = every
        self.last = -every

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS):
            now = time.monotonic()
            if now - self.last >= self.every:
                self.last = now
                log.warning("cannot accept connections: %s (said once a minute)", exc.strerror)
            return
        if self.previous is not None:
            self.previous(loop, context)
        else:
            loop.default_exception_handler(context)


class _QuietServer(uvicorn.Server):  # type: ignore[misc]
    """uvicorn without its own SIGINT/SIGTERM handlers: the scheduler owns the signals,
    because it must finish the pass in flight before the server stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    """uvicorn serving `app` on host:port inside the caller's event loop."""

    def __init__(
        self,
        asgi: Starlette,
        *,
        host: str,
        port: int,
        header_timeout: float = HEADER_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.host, self.port = host, port
        limits = {
            "header_timeout": header_timeout,
            "max_connections": _connection_limit(max_connections),
        }
        protocol = type("_Guarded", (_GuardedH11,), limits)  # this server's limits
        self._config = uvicorn.Config(
            asgi, lifespan="off", log_config=None, access_log=False, http=protocol,
            timeout_graceful_shutdown=_GRACEFUL_S, server_header=False,
            timeout_keep_alive=KEEP_ALIVE_S, backlog=ACCEPT_BATCH,
        )  # fmt: skip
        self._server = _QuietServer(self._config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Bind (raising FeedsError when the address is unusable), then serve."""
        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(_QuietAccept(loop))
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()  # a startup failure is a bug: let it propagate
        # asyncio set the kernel's queue to its accept batch; a longer queue lets a
        # burst of clients wait for their turn instead of retrying their SYN a second on.
        sock.listen(_LISTEN_QUEUE)
        log.info("serving on http://%s:%d/", self.host, self.port)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        await self._task


def _bind(host: str, port: int) -> socket.socket:
    """Bind ourselves so a busy port is a FeedsError (uvicorn would call sys.exit)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(_LISTEN_QUEUE)
    except OSError as e:
        sock.close()
        raise FeedsError(f"cannot listen on {host}:{port} ({e.strerror})", subject="serve") from e
    sock.setblocking(False)
    return sock
