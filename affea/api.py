"""API plumbing shared by every app: the exception handler and pagination."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError
from django.db import DatabaseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from affea.errors import DomainError, ServiceUnavailable

logger = logging.getLogger(__name__)

# Infrastructure failures become a clean 503 instead of a 500 with a stack trace.
_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, BotoCoreError, DatabaseError)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain errors and unavailable services to JSON; defer the rest to DRF."""
    if isinstance(exc, _UNAVAILABLE):
        logger.warning("service unavailable during %s: %s", context.get("view"), type(exc).__name__)
        exc = ServiceUnavailable()
    if isinstance(exc, DomainError):
        headers = {"Retry-After": "5"} if exc.status == 503 else None
        return Response({"detail": exc.message}, status=exc.status, headers=headers)
    return drf_exception_handler(exc, context)


class OptionalPageNumberPagination(PageNumberPagination):
    """Paginate only when the client asks with `?page=`; otherwise return a bare list."""

    page_size = 24
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        if self.page_query_param not in request.query_params:
            return None
        return super().paginate_queryset(queryset, request, view)
