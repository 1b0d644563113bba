"""`GET /health/`: is every component Affea needs answering, told within a few seconds?

A probe must never wait on a hung service as long as the application does: each check
uses a client of its own with short timeouts and no retries, the checks run side by
side, and whatever has not answered by the deadline counts as down.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import lru_cache
from typing import TYPE_CHECKING

import boto3
import redis
from botocore.config import Config
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from redis.backoff import NoBackoff
from redis.retry import Retry

from affea.api import UNAVAILABLE_ERRORS

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

# The whole answer (with the metrics write after it) stays under the 3 s a probe is given.
DEADLINE_SECONDS = 2.0
CONNECT_TIMEOUT = 1.0
# libpq rounds connect_timeout up to at least 2 s.
DB_CONNECT_TIMEOUT = 2
READ_TIMEOUT = 2.0


@lru_cache(maxsize=4)
def _s3(endpoint: str | None, region: str, key: str, secret: str, style: str) -> S3Client:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key or None,
        aws_secret_access_key=secret or None,
        config=Config(
            signature_version=settings.AWS_S3_SIGNATURE_VERSION,
            s3={"addressing_style": style},  # type: ignore[arg-type]
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"total_max_attempts": 1},
        ),
    )


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=READ_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )


def _check_database() -> None:
    # A connection of its own: the request's pooled one may be stuck in a hung socket, and
    # a fresh one is bounded by connect_timeout even when the server accepts and says nothing.
    connection = connections.create_connection(DEFAULT_DB_ALIAS)
    if connection.vendor == "postgresql":
        options = {**connection.settings_dict.get("OPTIONS", {})}
        options["connect_timeout"] = DB_CONNECT_TIMEOUT
        connection.settings_dict = {**connection.settings_dict, "OPTIONS": options}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()


def _check_redis() -> None:
    _redis(settings.REDIS_URL).ping()


def _check_storage() -> None:
    if settings.STORAGE_BACKEND == "s3":
        client = _s3(
            settings.AWS_S3_ENDPOINT_URL,
            settings.AWS_S3_REGION_NAME,
            settings.AWS_ACCESS_KEY_ID,
            settings.AWS_SECRET_ACCESS_KEY,
            settings.AWS_S3_ADDRESSING_STYLE,
        )
        client.head_bucket(Bucket=settings.AWS_STORAGE_BUCKET_NAME)
    elif not os.access(settings.MEDIA_ROOT, os.W_OK):
        raise OSError(f"media root is not writable: {settings.MEDIA_ROOT}")


CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "redis": _check_redis,
    "storage": _check_storage,
}


def _state(name: str, future: Future[None]) -> str:
    if not future.done():
        logger.error("health check %s gave no answer within %.1fs", name, DEADLINE_SECONDS)
        return "unavailable"
    exc = future.exception()
    if exc is None:
        return "ok"
    # A service out of reach is one line; anything else is a bug: its traceback.
    logger.error(
        "health check %s failed: %s: %s",
        name,
        type(exc).__name__,
        exc,
        exc_info=None if isinstance(exc, UNAVAILABLE_ERRORS) else exc,
    )
    return "unavailable"


def check_components() -> dict[str, str]:
    """Run every check at once; "ok" or "unavailable" per component, by the deadline."""
    executor = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="health")
    try:
        futures = {name: executor.submit(check) for name, check in CHECKS.items()}
        wait(futures.values(), timeout=DEADLINE_SECONDS)
        return {name: _state(name, future) for name, future in futures.items()}
    finally:
        # A check past the deadline ends on its own socket timeout; nobody waits for it.
        executor.shutdown(wait=False, cancel_futures=True)


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Answer 200 when all components are up, else 503 naming the failing ones.

    Details of a failure go to the log, never to the response: the endpoint is
    public and must not leak hosts, credentials or stack traces.
    """
    components = check_components()
    healthy = all(state == "ok" for state in components.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "components": components},
        status=200 if healthy else 503,
    )
