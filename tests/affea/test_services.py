"""The suite brings its own PostgreSQL and Redis when the machine has none (affea.localdev)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from affea.localdev import (
    MACHINE_DATABASE_URL,
    MACHINE_REDIS_URL,
    free_port,
    plan_test_services,
    port_open,
    start_postgres,
    stop_postgres,
)


def test_throwaway_postgres_serves_and_is_gone_after_stop() -> None:
    # Not under pytest's tmp_path (private to root): as root the server runs as `postgres`.
    workdir = Path(tempfile.mkdtemp(prefix="affea-pg-test-"))
    workdir.chmod(0o755)
    port = free_port()
    server = start_postgres(workdir / "pg", port=port)
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres") as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        stop_postgres(server)
        shutil.rmtree(workdir, ignore_errors=True)
    assert server.returncode is not None
    assert not port_open("127.0.0.1", port)


def test_set_urls_are_used_as_given() -> None:
    env = {"DATABASE_URL": "postgres://u@db:5432/x", "REDIS_URL": "redis://cache:6379/2"}
    plan = plan_test_services(env)
    assert (plan.database_url, plan.redis_url) == (env["DATABASE_URL"], env["REDIS_URL"])


def test_forced_own_services_ignore_what_is_set_or_running() -> None:
    env = {"AFFEA_TEST_SERVICES": "own", "DATABASE_URL": "postgres://u@db/x"}
    plan = plan_test_services(env)
    assert (plan.database_url, plan.redis_url) == (None, None)


def test_unset_urls_fall_back_to_the_machine_services_that_answer() -> None:
    plan = plan_test_services({})
    expected_db = MACHINE_DATABASE_URL if port_open("127.0.0.1", 5432) else None
    expected_redis = MACHINE_REDIS_URL if port_open("127.0.0.1", 6379) else None
    assert (plan.database_url, plan.redis_url) == (expected_db, expected_redis)


@pytest.mark.django_db
def test_suite_database_and_redis_are_the_planned_ones(redis_connection) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("select current_setting('port')")
        port = int(cursor.fetchone()[0])
    assert redis_connection.ping()
    if os.environ.get("AFFEA_TEST_SERVICES") == "own":
        # Our own servers on free ports, beside the machine's (which keep running).
        assert port != 5432
        assert not settings.REDIS_URL.startswith("redis://127.0.0.1:6379/")
    assert settings.DATABASES["default"]["PORT"] in (port, str(port))
