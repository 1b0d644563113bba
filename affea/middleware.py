"""Request middleware: a request id on every request, its metrics, and 503s for outages."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception, request_finished
from django.db import connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template import loader

from affea import metrics
from affea.api import UNAVAILABLE_ERRORS
from affea.errors import ServiceUnavailable
from affea.logging import bind_request_id

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# An id from the proxy or client is kept only when it is short and harmless in a log line.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

Handler = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Take X-Request-ID from the request (nginx sets one) or make one; send it back."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex
        bind_request_id(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


@receiver(request_finished)
def _forget_request_id(**kwargs: object) -> None:
    # Django logs a 4xx/5xx after the middleware chain returns: keep the id until the
    # response is closed, then let the thread's next lines carry no stale id.
    bind_request_id(None)


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], *args: Any) -> Any:
        self.count += 1
        return execute(*args)


class MetricsMiddleware:
    """Count requests, latency, queries and throttling by view, in one Redis write."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        queries = _QueryCounter()
        started = time.perf_counter()
        with metrics.batch(), connection.execute_wrapper(queries):
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            match = request.resolver_match
            # Unmatched paths are one label: scanners must not grow the series without end.
            view = (match.view_name or match.route) if match else "unmatched"
            metrics.record(
                metrics.REQUESTS, (view, request.method or "", str(response.status_code))
            )
            metrics.record(metrics.REQUEST_SECONDS, (view,), elapsed)
            metrics.record(metrics.DB_QUERIES, (view,), queries.count)
            if response.status_code == 429:
                metrics.record(metrics.THROTTLED, (view,))
        return response


_UNAVAILABLE = "_affea_unavailable"


@receiver(got_request_exception)
def _note_unavailable(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    # Sent while Django handles the exception, so it is still the current one.
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, UNAVAILABLE_ERRORS):
        setattr(request, _UNAVAILABLE, exc)


class ServiceUnavailableMiddleware:
    """Turn the 500 of a request that found PostgreSQL or Redis down into a 503.

    Views' own errors are caught by process_exception middleware, but an outage met in
    another middleware (the session and user a signed-in page loads first) reaches
    Django's 500 handler instead; this layer, outside them all, corrects the answer:
    templates/503.html for pages, the API's JSON 503 for the API.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        exc = getattr(request, _UNAVAILABLE, None)
        if response.status_code != 500 or exc is None:
            return response
        logger.warning("service unavailable on %s: %s: %s", request.path, type(exc).__name__, exc)
        if request.path_info.startswith("/api/"):
            detail = {"detail": ServiceUnavailable.default_message}
            return JsonResponse(detail, status=503, headers={"Retry-After": "5"})
        # Without the request context: that would read the session from the very
        # database that is down.
        body = loader.render_to_string("503.html")
        return HttpResponse(body, status=503, headers={"Retry-After": "30"})


class AdminNulQueryMiddleware:
    """Answer 400 to an admin address whose query holds a NUL character.

    The admin turns every unknown lookup into its "?e=1" page, but a NUL in a choice filter
    (`?processing_state__exact=%00`) reaches PostgreSQL, whose text cannot hold one: a 500
    on every change list. No admin address needs one.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The path first: other requests pay nothing for this guard.
        if request.path_info.startswith("/admin/") and any(
            "\x00" in key or "\x00" in "".join(values) for key, values in request.GET.lists()
        ):
            return HttpResponseBadRequest("The address holds a NUL character.")
        return self.get_response(request)
