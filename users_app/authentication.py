"""DRF authentication: JWT from the access cookie or a Bearer header, and sessions.

CSRF scheme (docs/csrf.md): an unsafe request authenticated by a cookie — the JWT access
cookie or the session cookie — is accepted only when the browser's `Origin` is this
site or on the CORS/CSRF allow-lists; a request with no `Origin` must pass Django's
CSRF token check instead. A foreign `Origin` is refused with 403. Bearer tokens are not
sent automatically by browsers, so Bearer requests need no CSRF check.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.http import is_same_domain
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.tokens import Token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def origin_trusted(request: HttpRequest, origin: str) -> bool:
    """Whether `origin` is this site, a CORS-allowed origin or a CSRF-trusted one; a
    CSRF_TRUSTED_ORIGINS entry like `https://*.example.com` covers its subdomains, as it
    does for Django's own check."""
    origin = origin.rstrip("/")
    own = f"{request.scheme}://{request.get_host()}"
    if origin in {own, *settings.CORS_ALLOWED_ORIGINS, *settings.CSRF_TRUSTED_ORIGINS}:
        return True
    parts = urlsplit(origin)
    wildcards = [urlsplit(t) for t in settings.CSRF_TRUSTED_ORIGINS if "*" in t]
    return bool(parts.netloc) and any(
        pattern.scheme == parts.scheme and is_same_domain(parts.netloc, pattern.netloc[1:])
        for pattern in wildcards
        if pattern.netloc.startswith("*.")
    )


def _unused_view(request: HttpRequest) -> HttpResponse:
    # CsrfViewMiddleware needs a view and a get_response; its check calls neither.
    return HttpResponse(status=204)


def _token_check(request: HttpRequest) -> None:
    """Run Django's own CSRF check (Referer on HTTPS, cookie + token)."""
    check = CsrfViewMiddleware(_unused_view)
    check.process_request(request)
    reason = check.process_view(request, _unused_view, (), {})
    if reason is not None:
        raise exceptions.PermissionDenied("CSRF Failed: CSRF token missing or incorrect.")


def enforce_csrf(request: HttpRequest) -> None:
    """Refuse a cookie-authenticated unsafe request that may come from a foreign site."""
    if request.method in SAFE_METHODS:
        return
    # Only Django's test client sets this; it mirrors CsrfViewMiddleware's behaviour.
    if getattr(request, "_dont_enforce_csrf_checks", False):
        return
    origin = request.META.get("HTTP_ORIGIN")
    if origin and origin != "null":
        if origin_trusted(request, origin):
            return
        raise exceptions.PermissionDenied("CSRF Failed: the request's origin is not trusted.")
    _token_check(request)


def refuse_cross_site(request: HttpRequest) -> None:
    """Refuse a sign-in or sign-up sent from a foreign site (login CSRF).

    These endpoints set cookies instead of reading them, so the cookie check above never
    runs: a foreign page could sign a visitor into the attacker's account. They take JSON
    only (a cross-site JSON POST needs a CORS preflight the API refuses), and a foreign
    `Origin` is refused outright.
    """
    origin = request.META.get("HTTP_ORIGIN")
    if origin and not origin_trusted(request, origin):
        raise exceptions.PermissionDenied("The request's origin is not trusted.")


class CookieJWTAuthentication(JWTAuthentication):
    """Authenticate with `Authorization: Bearer` or, failing that, the access cookie.

    A bad Bearer header is an error (401). A bad or expired cookie is ignored: the
    request continues anonymously, so public endpoints keep working and protected ones
    answer 401, which tells the SPA to refresh. SimpleJWT's own lookup checks that the
    account exists, is active and that the token predates no password change.
    """

    # SimpleJWT types the user as a TypeVar bound by nothing in the arguments, which no
    # override can satisfy; this class always answers a real account.
    def authenticate(  # type: ignore[override]
        self, request: Request
    ) -> tuple[AbstractBaseUser, Token] | None:
        header = self.get_header(request)
        # Another scheme (say, HTTP Basic of a staging proxy) leaves the cookie in charge.
        if header is not None and self.get_raw_token(header) is not None:
            return super().authenticate(request)
        raw = request.COOKIES.get(settings.JWT_ACCESS_COOKIE)
        if not raw:
            return None
        try:
            token = self.get_validated_token(raw.encode())
            user = self.get_user(token)
        except exceptions.AuthenticationFailed:  # InvalidToken is one too
            return None
        enforce_csrf(request._request)
        return user, token


class OriginSessionAuthentication(SessionAuthentication):
    """Django sessions for the site's own pages and scripts, with the same CSRF scheme."""

    def enforce_csrf(self, request: Request) -> None:
        enforce_csrf(request._request)
