"""`GET /health/`: is every component Affea needs answering?"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import django_rq
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from affea.api import UNAVAILABLE_ERRORS
from affea.storage import s3_client

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    django_rq.get_connection("default").ping()


def _check_storage() -> None:
    if settings.STORAGE_BACKEND == "s3":
        s3_client().head_bucket(Bucket=settings.AWS_STORAGE_BUCKET_NAME)
    elif not os.access(settings.MEDIA_ROOT, os.W_OK):
        raise OSError(f"media root is not writable: {settings.MEDIA_ROOT}")


CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "redis": _check_redis,
    "storage": _check_storage,
}


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Answer 200 when all components are up, else 503 naming the failing ones.

    Details of a failure go to the log, never to the response: the endpoint is
    public and must not leak hosts, credentials or stack traces.
    """
    components: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure means "down"
            # A service out of reach is one line; anything else is a bug: its traceback.
            logger.error(
                "health check %s failed: %s: %s",
                name,
                type(exc).__name__,
                exc,
                exc_info=not isinstance(exc, UNAVAILABLE_ERRORS),
            )
            components[name] = "unavailable"
        else:
            components[name] = "ok"
    healthy = all(state == "ok" for state in components.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "components": components},
        status=200 if healthy else 503,
    )
