"""The friendly 503 page: a page request that cannot reach the database or Redis right now."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template import loader

from affea.api import UNAVAILABLE_ERRORS

logger = logging.getLogger(__name__)


class ServiceUnavailableMiddleware:
    """Answer pages with 503.html (and Retry-After) when a service they need is down.

    The API has its own JSON 503 (affea.api.exception_handler); any other error stays a
    500 with its traceback in the log.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, UNAVAILABLE_ERRORS):
            return None
        logger.warning(
            "service unavailable on page %s: %s: %s",
            request.path,
            type(exception).__name__,
            exception,
        )
        # Rendered without the request context: that would read the session from the
        # database that may be the very service that is down.
        body = loader.render_to_string("503.html")
        return HttpResponse(body, status=503, headers={"Retry-After": "30"})
