"""Suite-wide fixtures: real SeaweedFS (S3), real Redis, real PostgreSQL when configured."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.files.storage import default_storage, storages
from django.utils.functional import empty

from affea.localdev import SeaweedS3, start_seaweed
from affea.storage import s3_client

TEST_BUCKET = "affea-test"


def _reset_storage_caches() -> None:
    storages._storages = {}  # type: ignore[attr-defined]
    default_storage._wrapped = empty  # type: ignore[attr-defined]
    s3_client.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """Start SeaweedFS on free loopback ports with a fresh data dir for the whole session."""
    server = start_seaweed(
        Path(tmp_path_factory.mktemp("seaweed")),
        bucket=TEST_BUCKET,
        access_key="affea-test-key",
        secret_key="affea-test-secret",
        cors_origins=["http://127.0.0.1", "http://localhost"],
    )
    overrides = {
        "AWS_S3_ENDPOINT_URL": server.endpoint_url,
        "AWS_S3_PUBLIC_ENDPOINT_URL": server.endpoint_url,
        "AWS_STORAGE_BUCKET_NAME": server.bucket,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_S3_ADDRESSING_STYLE": "path",
    }
    for name, value in overrides.items():
        setattr(settings, name, value)
    # Subprocesses (workers, servers started by tests) read the same S3 from the env.
    os.environ.update(
        {
            "STORAGE_BACKEND": "s3",
            "S3_ENDPOINT_URL": server.endpoint_url,
            "S3_BUCKET": server.bucket,
            "S3_ACCESS_KEY_ID": server.access_key,
            "S3_SECRET_ACCESS_KEY": server.secret_key,
            "S3_ADDRESSING_STYLE": "path",
        }
    )
    _reset_storage_caches()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_connection() -> redis.Redis:
    connection = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.exit(f"Redis does not answer at {settings.REDIS_URL}: {exc}", returncode=3)
    return connection


@pytest.fixture(autouse=True)
def _clean_redis(redis_connection: redis.Redis) -> None:
    """Give every test empty queues, cache and throttle counters (tests own this Redis DB)."""
    redis_connection.flushdb()


@pytest.fixture
def subprocess_env(django_db_blocker: object) -> dict[str, str]:
    """Environment for a child process (worker, server) that uses this test's database."""
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    # `python`, `gunicorn`, `rqworker` in child processes are this virtualenv's.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if connection.vendor == "postgresql":
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        env["DATABASE_URL"] = f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    return env
