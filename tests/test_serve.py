"""`feeds serve` for real: a subprocess, local sources, a local WebSub hub, raw HTTP.

One daemon runs for the module (interval 1 s) against a pytest-httpserver that serves
two small feeds and records the hub pings. Requests go through http.client, which
neither normalizes paths (so traversal attempts reach the server as written) nor
decompresses bodies (so gzip is checked byte for byte). A few rules that need a file
set up in a way the daemon would never produce (a symlink, a folder named like a feed)
are checked in-process by calling the ASGI app directly.
"""

from __future__ import annotations

import asyncio
import gzip
import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from servers import LOOPBACK
from werkzeug import Request, Response

from feeds import serve
from feeds.fetch import Fetcher
from feeds.types import FetchConfig

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data" / "pipeline"
FEEDS = ("all", "ai")
ATOM_LINK = "{http://www.w3.org/2005/Atom}link"
EXTRA_ITEM = """<item>
<title>سامسونغ تطلق هاتفا قابلا للطي</title>
<link>https://alpha.example/2026/11/galaxy-fold/</link>
<guid isPermaLink="false">https://alpha.example/?p=103</guid>
<pubDate>Mon, 23 Nov 2026 12:00:00 +0000</pubDate>
<description>أعلنت سامسونغ عن هاتف جديد قابل للطي.</description>
</item>
</channel>""".encode()


# --------------------------------------------------------------------------- helpers


@dataclass
class Sources:
    """The local publisher and WebSub hub: bodies by path, hits, and recorded pings."""

    server: HTTPServer
    bodies: dict[str, bytes] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    pings: list[dict[str, object]] = field(default_factory=list)
    delay: float = 0.0
    started: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.server.expect_request("").respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        if request.path == "/hub":
            self.pings.append({"type": request.mimetype, "form": request.form.to_dict(flat=False)})
            return Response(status=204)
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        self.started.set()
        time.sleep(self.delay)
        body = self.bodies.get(request.path)
        if body is None:
            return Response("missing", status=404)
        return Response(body, content_type="application/xml")


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    folder: Path
    port: int
    stderr: Path

    @property
    def out(self) -> Path:
        return self.folder / "out"

    def log(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], object], what: str, daemon: Daemon, limit: float = 20.0) -> None:
    """Poll `check` until it is true; fail with the daemon's log if it never is."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if check():
            return
        assert daemon.proc.poll() is None, f"feeds serve exited early:\n{daemon.log()}"
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}; feeds serve log:\n{daemon.log()}")


def fetch(
    daemon: Daemon, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        found = {k.lower(): v for k, v in response.getheaders()}
        return response.status, found, body
    finally:
        conn.close()


def answers(daemon: Daemon) -> bool:
    try:
        return fetch(daemon, "/all.rss")[0] == 200
    except OSError:
        return False


def start_sources() -> Sources:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    return Sources(server)


def write_config(
    folder: Path, sources: Sources, paths: list[str], interval: str, port: int
) -> Path:
    lines = [
        'title: "أخبار تجريبية"',
        f"base_url: http://127.0.0.1:{port}/",
        "output_dir: out",
        "database: data/feeds.db",
        f"schedule: {{interval: {interval}}}",
        f"serve: {{host: 127.0.0.1, port: {port}}}",
        f"websub_hub: {json.dumps(sources.server.url_for('/hub'))}",
        "fetch: {min_interval: 1s, timeout: 10, allow_private: [127.0.0.0/8, '::1/128']}",
        "sources:",
        *(f"  - url: {json.dumps(sources.server.url_for(p))}" for p in paths),
        "feeds:",
        '  - {slug: all, title: "كل الأخبار"}',
        '  - {slug: ai, title: "الذكاء الاصطناعي", topics: [ai]}',
    ]
    path = folder / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def command(config: Path) -> list[str]:
    return [sys.executable, "-m", "feeds", "serve", "-c", str(config)]


ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def start_daemon(folder: Path, sources: Sources, paths: list[str], interval: str) -> Daemon:
    port = free_port()
    config = write_config(folder, sources, paths, interval, port)
    stderr = folder / "stderr.log"
    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            command(config), cwd=folder, env=ENV, stdout=subprocess.DEVNULL, stderr=err
        )
    return Daemon(proc, folder, port, stderr)


def stop(daemon: Daemon, sig: signal.Signals = signal.SIGTERM) -> int:
    daemon.proc.send_signal(sig)
    try:
        return daemon.proc.wait(timeout=30)  # the contract's limit, not a speed check
    except subprocess.TimeoutExpired:
        daemon.proc.kill()
        daemon.proc.wait()
        pytest.fail(f"feeds serve did not exit within 30 s of SIGTERM:\n{daemon.log()}")


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith(".") or "tmp" in p.name)


@pytest.fixture(scope="module")
def sources() -> Iterator[Sources]:
    src = start_sources()
    src.bodies["/alpha.rss"] = (DATA / "alpha.rss").read_bytes()
    src.bodies["/beta.atom"] = (DATA / "beta.atom").read_bytes()
    yield src
    src.server.clear()
    src.server.stop()


@pytest.fixture(scope="module")
def daemon(sources: Sources, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = start_daemon(tmp_path_factory.mktemp("serve"), sources, ["/alpha.rss", "/beta.atom"], "1s")
    try:
        # feeds.opml is the last file a pass writes (and every file is new on the first).
        wait_for(lambda: (d.out / "feeds.opml").exists() and answers(d), "the first pass", d)
        yield d
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


# --------------------------------------------------------------------------- headers

TYPES = {
    "/all.rss": "application/rss+xml",
    "/all.atom": "application/atom+xml",
    "/all.json": "application/feed+json",
    "/ai.rss": "application/rss+xml",
    "/index.html": "text/html; charset=utf-8",
    "/": "text/html; charset=utf-8",
    "/feeds.opml": "text/x-opml",
}


@pytest.mark.parametrize(("path", "ctype"), TYPES.items(), ids=list(TYPES))
def test_get_serves_the_published_file_with_its_type(daemon: Daemon, path: str, ctype: str) -> None:
    status, headers, body = fetch(daemon, path)
    assert status == 200
    assert headers["content-type"] == ctype
    assert body == (daemon.out / (path.lstrip("/") or "index.html")).read_bytes()
    assert headers["content-length"] == str(len(body))
    assert "content-encoding" not in headers


@pytest.mark.parametrize("path", ["/all.rss", "/all.json", "/index.html"])
def test_head_has_the_headers_of_get_and_no_body(daemon: Daemon, path: str) -> None:
    _, got, body = fetch(daemon, path)
    status, head, empty = fetch(daemon, path, "HEAD")
    assert status == 200 and empty == b""
    for name in ("content-type", "content-length", "etag", "last-modified", "cache-control"):
        assert head[name] == got[name], name
    assert int(head["content-length"]) == len(body)


def test_etag_is_strong_and_last_modified_is_the_file_time(daemon: Daemon) -> None:
    _, first, _ = fetch(daemon, "/all.atom")
    _, again, _ = fetch(daemon, "/all.atom")
    etag = first["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 8
    assert again["etag"] == etag
    mtime = (daemon.out / "all.atom").stat().st_mtime
    assert first["last-modified"] == formatdate(mtime, usegmt=True)


def test_if_none_match_gives_304(daemon: Daemon) -> None:
    _, got, _ = fetch(daemon, "/all.json")
    for tag in (got["etag"], "W/" + got["etag"], f'"nope", {got["etag"]}', "*"):
        status, headers, body = fetch(daemon, "/all.json", headers={"If-None-Match": tag})
        assert (status, body) == (304, b""), tag
        assert headers["etag"] == got["etag"]
        assert headers["cache-control"] == got["cache-control"]
    status, _, body = fetch(daemon, "/all.json", headers={"If-None-Match": '"other"'})
    assert status == 200 and body


def test_if_modified_since_gives_304(daemon: Daemon) -> None:
    _, got, _ = fetch(daemon, "/all.rss")
    modified = got["last-modified"]
    status, _, body = fetch(daemon, "/all.rss", headers={"If-Modified-Since": modified})
    assert (status, body) == (304, b"")
    earlier = formatdate(parsedate_to_datetime(modified).timestamp() - 86400, usegmt=True)
    assert fetch(daemon, "/all.rss", headers={"If-Modified-Since": earlier})[0] == 200
    assert fetch(daemon, "/all.rss", headers={"If-Modified-Since": "garbage"})[0] == 200
    when = parsedate_to_datetime(modified)
    asctime = f"{when:%a %b} {when.day:2d} {when:%H:%M:%S %Y}"  # no zone: UTC
    assert fetch(daemon, "/all.rss", headers={"If-Modified-Since": asctime})[0] == 304
    tomorrow = formatdate(time.time() + 86400, usegmt=True)  # past the server's clock
    assert fetch(daemon, "/all.rss", headers={"If-Modified-Since": tomorrow})[0] == 200
    status, _, body = fetch(daemon, "/all.rss", "HEAD", headers={"If-Modified-Since": modified})
    assert (status, body) == (304, b"")
    # RFC 9110 §13.2.2: when If-None-Match is present, If-Modified-Since is ignored.
    both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert fetch(daemon, "/all.rss", headers=both)[0] == 200


def test_gzip_when_asked(daemon: Daemon) -> None:
    _, plain, body = fetch(daemon, "/all.rss")
    status, headers, zipped = fetch(daemon, "/all.rss", headers={"Accept-Encoding": "gzip, br"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped) == body
    assert headers["content-length"] == str(len(zipped))
    assert (
        "accept-encoding" in headers["vary"].lower() and "accept-encoding" in plain["vary"].lower()
    )
    assert headers["etag"] != plain["etag"]  # a strong tag names one byte sequence
    again = {"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]}
    assert fetch(daemon, "/all.rss", headers=again)[0] == 304
    refused = fetch(daemon, "/all.rss", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused[1] and refused[2] == body


def test_cache_control_is_the_schedule_interval(daemon: Daemon) -> None:
    for path in ("/all.rss", "/index.html", "/feeds.opml"):
        assert fetch(daemon, path)[1]["cache-control"] == "public, max-age=1"


BAD_PATHS = [
    "/nope.rss",  # not a configured feed
    "/all.xml",
    "/config.yaml",
    "/stderr.log",
    "/data/feeds.db",
    "/out/all.rss",
    "/.all.rss.tmp",
    "/../config.yaml",
    "/%2e%2e/config.yaml",
    "/..%2fconfig.yaml",
    "/%2E%2E%2Fconfig.yaml",
    "//etc/passwd",
    "/%2Fetc%2Fpasswd",
    "/all.rss/../../config.yaml",
    "/all.rss%00.html",
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_anything_else_is_404(daemon: Daemon, path: str) -> None:
    status, _, body = fetch(daemon, path)
    assert status == 404
    assert b"title" not in body and b"root:" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(daemon: Daemon, method: str) -> None:
    status, headers, _ = fetch(daemon, "/all.rss", method)
    assert status == 405
    assert headers["allow"] == "GET, HEAD"


# --------------------------------------------------------------------------- schedule, WebSub


def test_ticks_keep_running(daemon: Daemon, sources: Sources) -> None:
    wait_for(lambda: sources.hits.get("/alpha.rss", 0) >= 2, "a second tick", daemon)


def topic_urls(daemon: Daemon, ping: dict[str, object]) -> set[str]:
    form = ping["form"]
    assert isinstance(form, dict)
    assert form["hub.mode"] == ["publish"]
    assert ping["type"] == "application/x-www-form-urlencoded"
    return set(form["hub.url"])


def test_websub_ping_only_after_a_pass_that_changed_feeds(daemon: Daemon, sources: Sources) -> None:
    every = {daemon.url(f"{slug}{ext}") for slug in FEEDS for ext in (".rss", ".atom", ".json")}

    def pinged(start: int = 0) -> set[str]:
        return set().union(*(topic_urls(daemon, p) for p in sources.pings[start:]))

    # The first pass wrote every feed file; its pings go out together, in any order.
    wait_for(lambda: pinged() == every, "the first pass's hub pings", daemon)
    assert len(sources.pings) == len(every)
    # Passes are sequential: once the source is hit twice more, the pass between the
    # two hits (which found nothing new) has finished, and must not have pinged.
    pings, hits = len(sources.pings), sources.hits["/alpha.rss"]
    wait_for(lambda: sources.hits["/alpha.rss"] >= hits + 2, "two more ticks", daemon)
    assert len(sources.pings) == pings
    # A new article: the next pass rewrites the merged feeds and pings for them only.
    sources.bodies["/alpha.rss"] = sources.bodies["/alpha.rss"].replace(b"</channel>", EXTRA_ITEM)
    merged = {daemon.url("all.rss"), daemon.url("all.atom"), daemon.url("all.json")}
    wait_for(lambda: merged <= pinged(pings), "the pings after the change", daemon)
    assert pinged(pings) <= every
    status, _, body = fetch(daemon, "/all.rss")
    assert status == 200 and "سامسونغ".encode() in body  # served fresh after the replace


@pytest.mark.parametrize("name", ["all.rss", "all.atom", "ai.rss"])
def test_every_feed_names_its_hub_and_itself(daemon: Daemon, sources: Sources, name: str) -> None:
    root = ET.fromstring(fetch(daemon, "/" + name)[2])
    links = {link.get("rel"): link.get("href") for link in root.iter(ATOM_LINK)}
    assert links["hub"] == sources.server.url_for("/hub")
    assert links["self"] == daemon.url(name)


def test_sigterm_exits_0(daemon: Daemon) -> None:
    assert stop(daemon) == 0
    assert "Traceback" not in daemon.log()
    assert leftovers(daemon.out) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_a_pass_finishes_it_then_exits_0(
    tmp_path: Path, sig: signal.Signals
) -> None:
    src = start_sources()
    try:
        src.bodies["/slow.rss"] = (DATA / "alpha.rss").read_bytes()
        src.delay = 2.0
        d = start_daemon(tmp_path, src, ["/slow.rss"], "1h")
        wait_for(src.started.is_set, "the slow fetch to start", d)
        assert stop(d, sig) == 0, d.log()
    finally:
        src.server.clear()
        src.server.stop()
    assert src.hits == {"/slow.rss": 1}  # no new tick started after the signal
    assert leftovers(d.out) == []
    rss = (d.out / "all.rss").read_bytes()  # the pass in flight was completed, not cut
    titles = [t.text for t in ET.fromstring(rss).iter("title")]
    assert "آبل تكشف عن هاتف آيفون 17 برو بكاميرا جديدة" in titles


def test_a_busy_port_is_a_fatal_error(tmp_path: Path) -> None:
    src = start_sources()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = write_config(tmp_path, src, ["/alpha.rss"], "1h", port)
        try:
            done = subprocess.run(
                command(config), cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=30
            )
        finally:
            src.server.stop()
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


# --------------------------------------------------------------------------- in-process


def call(asgi: object, path: str) -> tuple[int, dict[str, str], bytes]:
    """One GET straight through the ASGI interface (no server, no client library)."""
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope: dict[str, object] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [], "server": ("127.0.0.1", 80), "client": None,
    }  # fmt: skip
    asyncio.run(asgi(scope, receive, send))  # type: ignore[operator]
    start = sent[0]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}  # type: ignore[attr-defined]
    body = b"".join(m.get("body", b"") for m in sent[1:])  # type: ignore[misc]
    return int(start["status"]), headers, body  # type: ignore[call-overload]


def test_symlinks_out_of_output_dir_and_folders_are_not_served(tmp_path: Path) -> None:
    out, secret = tmp_path / "out", tmp_path / "secret.txt"
    out.mkdir()
    secret.write_text("secret", encoding="utf-8")
    (out / "all.rss").symlink_to(secret)
    (out / "ai.rss").mkdir()
    (out / "feeds.opml").write_bytes(b"<opml/>")
    (out / "index.html").symlink_to(out / "feeds.opml")  # a link inside output_dir is fine
    asgi = serve.app(str(out), max_age=60)
    assert call(asgi, "/all.rss")[0] == 404
    assert call(asgi, "/ai.rss")[0] == 404
    assert call(asgi, "/")[2] == b"<opml/>"


def test_a_replaced_file_is_served_fresh_with_a_new_etag(tmp_path: Path) -> None:
    (tmp_path / "all.json").write_bytes(b'{"v": 1}')
    asgi = serve.app(str(tmp_path), max_age=60, slugs=["all"])
    first = call(asgi, "/all.json")
    (tmp_path / ".new").write_bytes(b'{"v": 22}')
    os.replace(tmp_path / ".new", tmp_path / "all.json")
    second = call(asgi, "/all.json")
    assert (first[2], second[2]) == (b'{"v": 1}', b'{"v": 22}')
    assert first[1]["etag"] != second[1]["etag"]
    assert call(asgi, "/other.json")[0] == 404  # not a configured slug


# --------------------------------------------------------------------------- the hub ping


def test_a_hub_outage_never_fails_the_pass(caplog: pytest.LogCaptureFixture) -> None:
    hub = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    hub.start()
    hub.expect_request("/broken-hub").respond_with_data("no", status=500)

    def slow(_: Request) -> Response:
        time.sleep(1.5)
        return Response(status=204)

    hub.expect_request("/slow-hub").respond_with_handler(slow)

    async def ping_all(fetcher: Fetcher) -> None:
        await fetcher.ping_hub(hub.url_for("/broken-hub"), ["http://x.example/all.rss"])
        await fetcher.ping_hub(hub.url_for("/slow-hub"), ["http://x.example/all.rss"])
        await fetcher.ping_hub(f"http://127.0.0.1:{free_port()}/hub", ["http://x.example/a"])
        await fetcher.ping_hub(hub.url_for("/hub"), [])  # nothing changed: no ping

    async def run() -> None:
        async with Fetcher(FetchConfig(timeout=0.5, allow_private=LOOPBACK)) as fetcher:
            await ping_all(fetcher)

    try:
        with caplog.at_level(logging.WARNING, logger="feeds.fetch"):
            asyncio.run(run())  # returns: nothing raised
    finally:
        paths = [request.path for request, _ in hub.log]
        hub.clear()
        hub.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert any("HTTP 500 to the publish ping" in m for m in messages)
    assert any("no answer to the publish ping within 0.5 s" in m for m in messages)
    assert any("publish ping for http://x.example/a failed" in m for m in messages)
    assert "/broken-hub" in paths and "/hub" not in paths  # no ping for an empty list
