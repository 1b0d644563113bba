"""Suite-wide fixtures: real SeaweedFS (S3), real Redis, real PostgreSQL.

PostgreSQL and Redis are the ones DATABASE_URL/REDIS_URL name, else the machine's when they
answer on their standard ports, else throw-away servers this module starts on free ports
and stops when the run ends (AFFEA_TEST_SERVICES=own forces those).
"""

from __future__ import annotations

import atexit
import importlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from asgiref.local import Local
from django.conf import settings
from django.core.files.storage import default_storage, storages
from django.utils.functional import empty

from affea.localdev import (
    SeaweedS3,
    free_port,
    plan_test_services,
    start_postgres,
    start_redis,
    start_seaweed,
    stop_postgres,
    stop_process,
)
from affea.logging import ContextFilter, JSONFormatter, RedactFilter, logging_config
from affea.storage import s3_client_reset
from content_app.pipeline.workspaces import sources_expire

TEST_BUCKET = "affea-test"


_OWN: list[tuple[str, subprocess.Popen[bytes]]] = []
_SERVICES_REPORT: list[str] = []


def _stop_own_services() -> None:
    while _OWN:
        name, process = _OWN.pop()
        (stop_postgres if name == "postgres" else stop_process)(process)


def _bring_services() -> None:
    """Point DATABASE_URL and REDIS_URL at real servers before any connection is made.

    pytest-django has loaded the settings by the time a conftest runs, so the settings
    module is read again with the new environment and its service settings copied in
    place (django-rq and the connection handlers hold the original dicts).
    """
    plan = plan_test_services(os.environ)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="affea-test-services-"))
    workdir.chmod(0o755)  # PostgreSQL runs as its own account when we are root
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    if plan.database_url is None:
        port = free_port()
        _OWN.append(("postgres", start_postgres(workdir / "postgres", port=port)))
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{port}/affea"
    else:
        os.environ["DATABASE_URL"] = plan.database_url
    if plan.redis_url is None:
        port = free_port()
        _OWN.append(("redis", start_redis(port=port)))
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/15"
    else:
        os.environ["REDIS_URL"] = plan.redis_url
    atexit.register(_stop_own_services)
    if _OWN:
        names = " and ".join(name for name, _ in _OWN)
        _SERVICES_REPORT.append(f"own {names} started in {time.monotonic() - started:.1f}s")
    _SERVICES_REPORT.append(f"database {os.environ['DATABASE_URL']}")
    _SERVICES_REPORT.append(f"redis {os.environ['REDIS_URL']}")
    fresh = importlib.reload(importlib.import_module(settings.SETTINGS_MODULE))
    for name in ("DATABASES", "CACHES", "RQ_QUEUES"):
        target, source = getattr(settings, name), getattr(fresh, name)
        target.clear()
        target.update(source)
    settings.REDIS_URL = fresh.REDIS_URL
    settings.IS_POSTGRES = fresh.IS_POSTGRES
    from django.core.cache import caches
    from django.db import connections

    # Re-read on first use; Django set-up may already have made connections from the old ones.
    connections.__dict__.pop("settings", None)
    caches.__dict__.pop("settings", None)
    connections._connections = Local(connections.thread_critical)  # type: ignore[attr-defined]
    caches._connections = Local(caches.thread_critical)  # type: ignore[attr-defined]


_bring_services()


def pytest_report_header() -> list[str]:
    return [f"services: {', '.join(_SERVICES_REPORT)}"]


def pytest_unconfigure() -> None:
    _stop_own_services()


def _reset_storage_caches() -> None:
    storages._storages = {}  # type: ignore[attr-defined]
    default_storage._wrapped = empty  # type: ignore[attr-defined]
    s3_client_reset()


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


@pytest.fixture(autouse=True)
def _drop_source_copy() -> Iterator[None]:
    """Pipeline steps run in this process (content, legal, account tests) keep a source copy
    in its name: drop it after each test, as a stopping worker does, so none outlives the
    suite in the temp dir."""
    yield
    sources_expire(unused_for=0)


@pytest.fixture
def subprocess_env(django_db_blocker: object) -> dict[str, str]:
    """Environment for a child process (worker, server) that uses this test's database."""
    from django.db import connection

    db = connection.settings_dict
    # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' own, for this process only.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    # `python`, `gunicorn`, `rqworker` in child processes are this virtualenv's.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["REDIS_URL"] = settings.REDIS_URL
    if connection.vendor == "postgresql":
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        env["DATABASE_URL"] = f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    return env


class JSONLog:
    """What the root logger wrote through the JSON formatter and filters of LOGGING."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict[str, object]]:
        """Every line, parsed: each one must be a JSON object on its own."""
        return [json.loads(line) for line in self.text.splitlines()]


@pytest.fixture
def json_log() -> Iterator[JSONLog]:
    """Capture the log as production writes it (LOG_FORMAT=json), at DEBUG."""
    config = logging_config(log_format="json", level="DEBUG")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter(config["formatters"]["json"]["format"]))
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield JSONLog(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
