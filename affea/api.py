"""API plumbing shared by every app: the exception handler and pagination."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from affea.errors import DomainError, ServiceUnavailable

logger = logging.getLogger(__name__)

# A service that cannot be reached right now: a clean 503 the client may retry. Any other
# error (an IntegrityError, a bad query, a botocore parameter error) is a bug: DRF lets it
# through and Django answers 500 and logs its traceback.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    EndpointConnectionError,
    ConnectTimeoutError,
    ConnectionClosedError,
    ReadTimeoutError,
)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain errors and unavailable services to JSON; defer the rest to DRF."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        exc = DomainError(f"The request body is larger than {limit} MB.", status=413)
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        exc = DomainError("The request has too many fields or files.")
    if isinstance(exc, UNAVAILABLE_ERRORS):
        logger.warning(
            "service unavailable during %s: %s: %s", context.get("view"), type(exc).__name__, exc
        )
        exc = ServiceUnavailable()
    if isinstance(exc, DomainError):
        set_rollback()  # as DRF does for the errors it answers itself
        headers = {"Retry-After": "5"} if exc.status == 503 else None
        return Response({"detail": exc.message}, status=exc.status, headers=headers)
    return drf_exception_handler(exc, context)


PAGE_SIZE, MAX_PAGE_SIZE = 24, 100


class PageQuerySerializer(serializers.Serializer[Any]):
    """`?page=` and `?page_size=` of every paginated list: a malformed one is a 400 naming
    it (DRF's paginator would answer 404 "Invalid page." or quietly use its default)."""

    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)


class OptionalPageNumberPagination(PageNumberPagination):
    """Paginate only when the client asks with `?page=`; otherwise return a bare list.

    A page past the end is a 404, as DRF answers it.
    """

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # `schema` is the bare list's; without `?page=` that is the answer.
        return {"oneOf": [schema, super().get_paginated_response_schema(schema)]}

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        if self.page_query_param not in request.query_params:
            return None
        query = PageQuerySerializer(
            data={k: v for k, v in request.query_params.items() if k in ("page", "page_size")}
        )
        if not query.is_valid():
            raise ValidationError(query.errors)
        return super().paginate_queryset(queryset, request, view)
