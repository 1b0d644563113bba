"""Ask signed-in viewers to accept new terms: pages redirect, the API may refuse (a setting).

Pages: a signed-in viewer's page GET, while they have not accepted the current terms
version, redirects to the accept page, which sends them back afterwards. The API,
admin, static and media files, the legal pages and the account pages (log out, delete
the account) are left alone, so nobody is locked out of leaving.

API: only when TERMS_ENFORCE_API is on, an authenticated call outside the account and
legal endpoints answers 403 with `code: terms_not_accepted`. DRF authenticates inside
the view (JWT cookies), so the view's own authentication classes are run here first;
a request they refuse goes on untouched, and the view answers it as it always does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.views import APIView

from legal_app.terms.selectors import terms_accepted_document, terms_current
from users_app.models import User

SESSION_KEY = "legal_app.terms_accepted"
NOT_ACCEPTED_CODE = "terms_not_accepted"
NOT_ACCEPTED_DETAIL = (
    "Accept the current terms first: GET /api/legal/terms/, then POST /api/legal/terms/accept/."
)
API_PREFIX = "/api/"
# API endpoints a viewer must reach to learn about and accept the terms, or to leave.
API_EXEMPT = ("/api/legal/", "/api/users/", "/api/schema/", "/api/docs/")
PAGE_EXEMPT = ("/admin/", "/legal/", "/accounts/", "/embed/", "/health/")


def remember_accepted(request: HttpRequest, document_id: int) -> None:
    """Keep the accepted version in the session: later page views need no query."""
    if hasattr(request, "session"):
        request.session[SESSION_KEY] = document_id


def _has_accepted(request: HttpRequest, user: User, document_id: int) -> bool:
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_KEY) == document_id:
        return True
    accepted = terms_accepted_document(user=user, document_id=document_id)
    if accepted and session is not None:
        session[SESSION_KEY] = document_id
    return accepted


def _page_exempt(path: str) -> bool:
    prefixes = (API_PREFIX, settings.STATIC_URL or "/static/", settings.MEDIA_URL or "/media/")
    return path.startswith(prefixes + PAGE_EXEMPT)


def _api_user(request: HttpRequest, view_func: Callable[..., Any]) -> User | None:
    """Authenticate as the DRF view itself will; None for anonymous or refused requests."""
    view_class = getattr(view_func, "cls", None)
    if not (isinstance(view_class, type) and issubclass(view_class, APIView)):
        return None
    authenticators = [auth() for auth in view_class.authentication_classes]
    try:
        user = Request(request, authenticators=authenticators).user
    except APIException:
        return None
    return user if isinstance(user, User) and user.is_authenticated else None


class TermsAcceptanceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        path = request.path_info
        if path.startswith(API_PREFIX):
            return self._api(request, view_func, path)
        if request.method != "GET" or _page_exempt(path):
            return None
        user = getattr(request, "user", None)
        if not isinstance(user, User) or not user.is_authenticated:
            return None
        current = terms_current()
        if current is None or _has_accepted(request, user, current.document_id):
            return None
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('legal:terms_accept')}?{query}")

    def _api(
        self, request: HttpRequest, view_func: Callable[..., Any], path: str
    ) -> HttpResponse | None:
        if not settings.TERMS_ENFORCE_API or path.startswith(API_EXEMPT):
            return None
        current = terms_current()
        if current is None:
            return None
        user = _api_user(request, view_func)
        if user is None or terms_accepted_document(user=user, document_id=current.document_id):
            return None
        return JsonResponse({"detail": NOT_ACCEPTED_DETAIL, "code": NOT_ACCEPTED_CODE}, status=403)
