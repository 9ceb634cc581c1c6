"""Fixtures for both stores, and the PostgreSQL server CI starts (.ci/postgres.sh).

Tests that need PostgreSQL take `pg_url`: a URL whose search_path is a fresh schema,
dropped afterwards, so tests never see each other's rows. Without FEEDS_TEST_PG_URL they
fail under CI (nothing may be skipped there) and skip only on a developer's machine.

The end-to-end pipeline tests (tests/test_pipeline.py) run twice, once per backend: for
the PostgreSQL run, `config.load` is wrapped so the loaded Config's `database:` is the
test's PostgreSQL URL, which every store the test opens then uses.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from servers import HostileServer, hostile_server, port_of

from feeds import config
from feeds.store import Store, open_store

BACKENDS = ("sqlite", "postgresql")
#: Modules whose every test runs against both backends.
BOTH_BACKENDS = {"test_pipeline"}


def pg_server_url() -> str:
    url = os.environ.get("FEEDS_TEST_PG_URL")
    if url:
        return url
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(
            "FEEDS_TEST_PG_URL is not set: under CI the PostgreSQL tests must run "
            "(.ci/run sources .ci/postgres.sh, which starts the server and sets it)",
            pytrace=False,
        )
    pytest.skip("FEEDS_TEST_PG_URL is not set and CI is not set (run .ci/postgres.sh)")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL on a fresh, empty schema of its own."""
    import psycopg

    server = pg_server_url()
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in server else "?"
    yield f"{server}{sep}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A `database:` value for each backend: an SQLite path, then a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "feeds.db")
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def any_store(database: str) -> Iterator[Store]:
    """An open, empty store of each backend."""
    store = open_store(database)
    try:
        yield store
    finally:
        store.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    name = metafunc.module.__name__.rpartition(".")[2]
    if name in BOTH_BACKENDS and "_backend" in metafunc.fixturenames:
        metafunc.parametrize("_backend", BACKENDS, indirect=True)


@pytest.fixture(autouse=True)
def _backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    backend: str = getattr(request, "param", "sqlite")
    if backend == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        load = config.load

        def load_on_postgres(*args: Any, **kwargs: Any) -> Any:
            return dataclasses.replace(load(*args, **kwargs), database=url)

        monkeypatch.setattr(config, "load", load_on_postgres)
    return backend


@pytest.fixture(scope="module")
def inside() -> Iterator[HostileServer]:
    """A server no fetch may reach: on 127.0.0.1, refused by default (issue 20)."""
    with hostile_server(lifetime=10.0) as server:
        yield server


@pytest.fixture(scope="module")
def allowed(inside: HostileServer) -> Iterator[HostileServer]:
    """On 127.0.0.2, at `inside`'s port, so that only the address tells them apart;
    ``allow_private: [127.0.0.2/32]`` lets it through (Linux routes all 127/8 to lo)."""
    with hostile_server(lifetime=10.0, host="127.0.0.2", port=port_of(inside)) as server:
        yield server
