"""Deployment: systemd's notify protocol, and the container files against the README.

The notify tests listen on a datagram socket of their own, as systemd would. The image
is built and run only where a container engine answers (`docker info` succeeds): a
client without its daemon, as on the development machines, is not an engine.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from feeds import cli, sdnotify

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    yield sock, path
    sock.close()


def messages(sock: socket.socket, until: str, timeout: float = 30) -> list[str]:
    """Datagrams received until one holds the line `until`."""
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            break
        if until in got[-1].splitlines():
            return got
    raise AssertionError(f"no {until!r} within {timeout} s; got {got}")


def test_ready_watchdog_and_stopping_reach_the_socket(
    notify_socket: tuple[socket.socket, str],
) -> None:
    sock, path = notify_socket
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000", "WATCHDOG_PID": str(os.getpid())}

    async def go() -> None:
        notifier = sdnotify.Notifier(env)
        assert notifier.watchdog_s == 0.1
        notifier.ready("ticking")
        await asyncio.sleep(0.22)  # the watchdog is fed every 50 ms
        notifier.stopping()
        await notifier.close()

    asyncio.run(go())
    got = messages(sock, "STOPPING=1")
    assert got[0] == "READY=1\nSTATUS=ticking"
    assert got.count("WATCHDOG=1") >= 3 and got[-1] == "STOPPING=1"


def test_the_abstract_namespace_and_no_socket() -> None:
    name = f"feeds-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert sdnotify.Notifier({"NOTIFY_SOCKET": "@" + name}).send("READY=1")
        assert sock.recv(100) == b"READY=1"
    quiet = sdnotify.Notifier({})
    assert quiet.address is None and not quiet.send("READY=1")
    # A watchdog meant for another process (WATCHDOG_PID) is not ours to feed.
    other = {"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
    assert sdnotify.Notifier(other).watchdog_s is None


def test_feeds_serve_notifies_systemd(
    notify_socket: tuple[socket.socket, str], tmp_path: Path
) -> None:
    sock, path = notify_socket
    from test_cli import write_config

    cfg = write_config(tmp_path, ["http://127.0.0.1:9/feed.xml"])  # refused: a failed source
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NOTIFY_SOCKET": path,
           "WATCHDOG_USEC": "200000"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "feeds", "serve", "-c", str(cfg)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        got = messages(sock, "READY=1")
        got += messages(sock, "WATCHDOG=1")
        got += messages(sock, "WATCHDOG=1")
        proc.send_signal(signal.SIGTERM)
        got += messages(sock, "STOPPING=1")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert got[0].startswith("READY=1\nSTATUS=ticking every 900 s")


# --------------------------------------------------------------------------- container


def dockerfile_commands() -> dict[str, list[str]]:
    """The exec-form CMD and HEALTHCHECK of the Dockerfile (continuations joined)."""
    text = (ROOT / "Dockerfile").read_text("utf-8").replace("\\\n", " ")
    found = {}
    for line in text.splitlines():
        match = re.match(r"(CMD|HEALTHCHECK)\s+(.*)", line.strip())
        if match:
            words = match[2].split("CMD", 1)[1] if match[1] == "HEALTHCHECK" else match[2]
            found[match[1]] = json.loads(words)
    return found


def compose_commands() -> list[list[str]]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))
    return [s["command"] for s in compose["services"].values() if "command" in s]


def test_the_dockerfile_and_compose_run_the_readmes_commands() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    found = dockerfile_commands()
    assert set(found) == {"CMD", "HEALTHCHECK"}
    commands = [found["CMD"], found["HEALTHCHECK"], *compose_commands()]
    assert {c[1] for c in commands} == {"serve", "health", "worker"}
    parser = cli._parser()
    for command in commands:
        assert command[0] == "feeds"
        line = shlex.join(command)
        assert f"`{line}`" in readme, f"the README does not say {line!r}"
        assert f"`feeds {command[1]}" in readme  # and its command table lists it
        args = parser.parse_args(command[1:])  # a command and options that exist
        assert args.handler.__name__ == f"_cmd_{command[1]}"
    # The README's build line builds this Dockerfile; its run line uses the CMD's config.
    assert "docker build -t feeds ." in readme
    assert found["CMD"][-1] == "/srv/feeds/config.yaml"
    assert '"$PWD/config.yaml:/srv/feeds/config.yaml:ro"' in readme


def test_the_dockerfile_runs_as_a_user_and_installs_this_checkout() -> None:
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert re.search(r"^FROM python:3\.\d+-slim", text, re.M)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "COPY feeds ./feeds" in text and "pip wheel --no-cache-dir --wheel-dir /wheels ." in text


def container_engine() -> str | None:
    """A client whose engine answers: `docker info` (or podman's) exits 0."""
    for name in ("docker", "podman"):
        if shutil.which(name) is None:
            continue
        try:
            proc = subprocess.run(
                [name, "info", "--format", "{{json .}}"],
                capture_output=True, timeout=30, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode == 0:
            return name
    return None


@pytest.mark.slow
def test_the_image_runs_the_demo_and_reports_healthy(tmp_path: Path) -> None:
    engine = container_engine()
    if engine is None:
        pytest.skip("no container engine answers here (`docker info` fails): image not built")
    tag = f"feeds-test:{uuid.uuid4().hex[:8]}"
    name = tag.replace(":", "-")

    def run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run([engine, *args], capture_output=True, text=True, timeout=timeout)

    built = run("build", "-t", tag, str(ROOT))
    assert built.returncode == 0, built.stderr[-3000:]
    try:
        demo = run("run", "--rm", tag, "feeds", "demo", "--out", "/tmp/demo", timeout=300)
        assert demo.returncode == 0, demo.stderr
        assert "demo published" in demo.stdout
        cfg = tmp_path / "config.yaml"
        cfg.write_text(
            "title: t\nbase_url: https://example.org/\noutput_dir: public\ndatabase: data/f.db\n"
            "schedule: {interval: 1m}\nsources:\n  - url: http://127.0.0.1:9/feed.xml\n"
            "feeds:\n  - slug: all\n    title: all\n",
            "utf-8",
        )
        os.chmod(tmp_path, 0o755)
        os.chmod(cfg, 0o644)
        started = run(
            "run", "-d", "--name", name, "--health-interval=2s", "--health-start-period=0s",
            "-v", f"{cfg}:/srv/feeds/config.yaml:ro", tag, timeout=60,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        deadline, health = time.monotonic() + 120, ""
        while time.monotonic() < deadline and health != "healthy":
            time.sleep(2)
            health = run("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
        assert health == "healthy", run("logs", name).stderr[-3000:]
        assert run("stop", "-t", "30", name, timeout=60).returncode == 0
        code = run("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        assert code == "0"
    finally:
        run("rm", "-f", name, timeout=60)
        run("rmi", "-f", tag, timeout=120)
