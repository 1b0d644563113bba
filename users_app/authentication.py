"""DRF authentication: JWT from the access cookie or a Bearer header, and sessions.

CSRF scheme (docs/csrf.md): an unsafe request authenticated by a cookie — the JWT access
cookie or the session cookie — is accepted only when the browser's `Origin` is this
site or on the CORS/CSRF allow-lists; a request with no `Origin` must pass Django's
CSRF token check instead. A foreign `Origin` is refused with 403. Bearer tokens are not
sent automatically by browsers, so Bearer requests need no CSRF check.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow, get_md5_hash_password

from users_app.selectors import user_by_id

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


@lru_cache(maxsize=2048)
def _verified_token(raw: bytes) -> Token:
    """Decode and verify a JWT once per process; TokenError/InvalidToken are not remembered.

    PyJWT spends about 80 µs of CPU per decode (it scans the base64 text character by
    character), the largest single cost of an authenticated request. An SPA sends the same
    access token for its whole life (5 minutes), so a verified token is remembered by its
    full text, signature included; callers check its expiry again on every use.
    """
    return JWTAuthentication().get_validated_token(raw)


def trusted_origins(request: HttpRequest) -> set[str]:
    own = f"{request.scheme}://{request.get_host()}"
    return {own, *settings.CORS_ALLOWED_ORIGINS, *settings.CSRF_TRUSTED_ORIGINS}


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
        if origin.rstrip("/") in trusted_origins(request):
            return
        raise exceptions.PermissionDenied("CSRF Failed: the request's origin is not trusted.")
    _token_check(request)


class CookieJWTAuthentication(JWTAuthentication):
    """Authenticate with `Authorization: Bearer` or, failing that, the access cookie.

    A bad Bearer header is an error (401). A bad or expired cookie is ignored: the
    request continues anonymously, so public endpoints keep working and protected ones
    answer 401, which tells the SPA to refresh.

    With `defer_account`, the token is verified but its account is left to the view:
    `request.user` is a `TokenUser`. Only for a view whose own query checks the account
    (exists, active, password unchanged) in the same round trip, falling back to
    `account_for_token`: video-url (`content_app.playback.viewer_renditions`), the
    hottest endpoint, saves a query that way.
    """

    def __init__(self, *, defer_account: bool = False) -> None:
        super().__init__()
        self.defer_account = defer_account

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = _verified_token(raw_token)
        try:
            # Against the current time, not the time it was first verified.
            token.check_exp(current_time=aware_utcnow())
        except TokenError as error:
            raise InvalidToken({"detail": str(error)}) from error
        return token

    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
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
        except (InvalidToken, exceptions.AuthenticationFailed):
            return None
        enforce_csrf(request._request)
        return user, token

    def get_user(self, validated_token: Token) -> Any:
        """simplejwt's checks (user exists, is active, password unchanged) on a faster lookup."""
        if self.defer_account:
            token_user_id(validated_token)  # a token without a usable id is refused here
            return TokenUser(validated_token)
        user = user_by_id(token_user_id(validated_token))
        if user is None:
            raise exceptions.AuthenticationFailed("User not found", code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise exceptions.AuthenticationFailed("User is inactive", code="user_inactive")
        if not token_matches_password(validated_token, user.password):
            raise exceptions.AuthenticationFailed(
                "The user's password has been changed.", code="password_changed"
            )
        return user


def token_user_id(token: Token) -> int:
    try:
        return int(token[api_settings.USER_ID_CLAIM])
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidToken("Token contained no recognizable user identification") from error


def token_matches_password(token: Token, password: str) -> bool:
    """Tokens carry a hash of the password hash: a changed password revokes them."""
    if not api_settings.CHECK_REVOKE_TOKEN:
        return True
    return bool(token.get(api_settings.REVOKE_TOKEN_CLAIM) == get_md5_hash_password(password))


def account_for_token(token: Token) -> Any:
    """The token's active account, or AuthenticationFailed (401)."""
    return CookieJWTAuthentication().get_user(token)


class OriginSessionAuthentication(SessionAuthentication):
    """Django sessions for the site's own pages and scripts, with the same CSRF scheme."""

    def enforce_csrf(self, request: Request) -> None:
        enforce_csrf(request._request)
