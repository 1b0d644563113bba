"""affea.postgresql: the health check that needs no round trip while a connection is idle."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import close_old_connections, connection
from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLDatabaseWrapper

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own backend"),
]


def _terminate_backend(pid: int) -> None:
    params = connection.get_connection_params()
    dsn = psycopg.conninfo.make_conninfo(
        host=params.get("host") or "127.0.0.1",
        port=params.get("port") or 5432,
        user=params.get("user") or "postgres",
        dbname="postgres",
    )
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def test_an_idle_healthy_connection_is_usable_without_asking_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection.ensure_connection()
    asked: list[bool] = []

    def select_one(self: object) -> bool:
        asked.append(True)
        return True

    monkeypatch.setattr(PostgreSQLDatabaseWrapper, "is_usable", select_one)

    assert connection.is_usable()
    assert asked == []  # no `SELECT 1` round trip


def test_a_connection_the_server_closed_is_replaced_when_the_next_request_starts() -> None:
    pid = _backend_pid()
    _terminate_backend(pid)
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.05)  # the goodbye travels asynchronously
    assert not connection.is_usable()

    close_old_connections()  # what Django does when a request starts

    assert _backend_pid() != pid  # the request's first query works, on a new connection
