"""`feeds serve` under clients that are slow, idle, many, or odd: real sockets on
127.0.0.1 against the real uvicorn server, in a thread of this process or, where the
test lowers the file-descriptor limit, in a child process."""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from feeds import publish, serve


@contextmanager
def running(
    root: Path, *, header_timeout: float = 10.0, max_connections: int = 256
) -> Iterator[int]:
    """An HttpServer over `root` in a thread with its own event loop; yields its port."""
    loop = asyncio.new_event_loop()
    app = serve.app(str(root), max_age=60)
    server = serve.HttpServer(
        app, host="127.0.0.1", port=0, header_timeout=header_timeout,
        max_connections=max_connections,
    )  # fmt: skip
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield server.port
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def _published(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("<!DOCTYPE html><title>t</title>", encoding="utf-8")
    (out / "all.rss").write_bytes(b"<?xml version='1.0'?><rss version='2.0'/>")
    return out


def _get(port: int, path: str, method: str = "GET", **headers: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(method, path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def _closed_within(sock: socket.socket, seconds: float, *, trickle: bool = False) -> float:
    """Seconds until the server closes `sock` (at most `seconds`, else the test fails);
    with `trickle`, a header line is sent every 0.1 s meanwhile, as slowloris does."""
    start = time.monotonic()
    sock.settimeout(0.1)
    if trickle:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    while time.monotonic() - start < seconds:
        try:
            if sock.recv(1024) == b"":
                return time.monotonic() - start
        except TimeoutError:
            if trickle:
                try:
                    sock.sendall(b"X-Slow: yes\r\n")
                except OSError:
                    return time.monotonic() - start
        except OSError:
            return time.monotonic() - start
    pytest.fail(f"the connection was still open after {seconds} s")


@pytest.mark.parametrize("trickle", [False, True], ids=["silent", "slowloris"])
def test_a_client_that_never_finishes_its_headers_is_disconnected(
    tmp_path: Path, trickle: bool
) -> None:
    with running(_published(tmp_path), header_timeout=0.5) as port:
        sock = socket.create_connection(("127.0.0.1", port))
        with sock:
            assert 0.4 <= _closed_within(sock, 5.0, trickle=trickle) < 5.0
        assert _get(port, "/index.html").status == 200  # the server itself is fine


def test_idle_connections_make_room_for_new_ones(tmp_path: Path) -> None:
    with running(_published(tmp_path), max_connections=8) as port:
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        try:
            for _ in range(5):
                assert _get(port, "/all.rss").status == 200
        finally:
            for sock in idle:
                sock.close()


def test_a_fifo_in_output_dir_does_not_hang_the_server(tmp_path: Path) -> None:
    out = _published(tmp_path)
    os.mkfifo(out / "ai.rss")
    with running(out) as port:
        start = time.monotonic()
        assert _get(port, "/ai.rss").status == 404  # only regular files are served
        assert _get(port, "/all.rss").status == 200
        assert time.monotonic() - start < 3


@pytest.mark.parametrize("path", ["/all.rss", "/index.html", "/nothing-here", "/../etc/passwd"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_a_method_not_allowed_is_always_the_same_405(
    tmp_path: Path, method: str, path: str
) -> None:
    with running(_published(tmp_path)) as port:
        resp = _get(port, path, method)
        assert (resp.status, resp.getheader("Allow")) == (405, "GET, HEAD")
        assert resp.getheader("X-Content-Type-Options") == "nosniff"


def test_security_headers(tmp_path: Path) -> None:
    with running(_published(tmp_path)) as port:
        page = _get(port, "/")
        feed = _get(port, "/all.rss")
        missing = _get(port, "/none.rss")
        again = _get(port, "/all.rss", **{"If-None-Match": feed.getheader("ETag") or ""})
    for resp in (page, feed, missing, again):
        assert resp.getheader("X-Content-Type-Options") == "nosniff"
    csp = page.getheader("Content-Security-Policy") or ""
    assert "default-src 'none'" in csp
    # One script may run: the pages' own, by its hash; no 'unsafe-inline' for scripts.
    assert f"script-src '{publish.SCRIPT_HASH}';" in csp
    assert "img-src https: http: data:" in csp
    assert page.getheader("Referrer-Policy") == "no-referrer"
    assert page.getheader("Access-Control-Allow-Origin") is None
    assert feed.getheader("Access-Control-Allow-Origin") == "*"
    assert feed.getheader("Content-Security-Policy") is None
    assert again.status == 304


_CHILD = """
import asyncio, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))
from feeds import publish, serve

async def main():
    server = serve.HttpServer(serve.app(sys.argv[1], max_age=60), host="127.0.0.1", port=0)
    await server.start()
    print(server.port, flush=True)
    await asyncio.sleep(float(sys.argv[2]))
    await server.stop()

asyncio.run(main())
"""


def test_a_flood_under_a_low_descriptor_limit(tmp_path: Path) -> None:
    """200 idle connections against a server allowed 128 descriptors: normal requests
    still get answers, and stderr holds a few lines, not a traceback per accept."""
    out = _published(tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(out), "8"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        flood = []
        for _ in range(200):
            try:
                flood.append(socket.create_connection(("127.0.0.1", port), timeout=2))
            except OSError:
                break
        ok = sum(_get(port, "/all.rss").status == 200 for _ in range(10))
        for sock in flood:
            sock.close()
        assert ok == 10
    finally:
        _, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert len(err) < 10_000, err[:2000]
