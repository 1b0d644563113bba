"""Set and delete the JWT cookies with the flags API.md promises (HttpOnly, Path=/, …)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseBase

from users_app.jwt_tokens import TokenPair


def _flags() -> dict[str, object]:
    samesite = settings.JWT_COOKIE_SAMESITE
    return {
        "path": "/",
        "httponly": True,
        # Browsers drop SameSite=None cookies that are not Secure.
        "secure": settings.JWT_COOKIE_SECURE or samesite.lower() == "none",
        "samesite": samesite,
    }


def auth_cookies_set(response: HttpResponseBase, pair: TokenPair) -> None:
    response.set_cookie(
        settings.JWT_ACCESS_COOKIE,
        pair.access,
        max_age=int(pair.access_lifetime.total_seconds()),
        **_flags(),  # type: ignore[arg-type]
    )
    response.set_cookie(
        settings.JWT_REFRESH_COOKIE,
        pair.refresh,
        max_age=int(pair.refresh_lifetime.total_seconds()),
        **_flags(),  # type: ignore[arg-type]
    )


def auth_cookies_delete(response: HttpResponseBase) -> None:
    # Same flags as when set: a browser ignores a deletion whose Secure/SameSite differ.
    for name in (settings.JWT_ACCESS_COOKIE, settings.JWT_REFRESH_COOKIE):
        response.set_cookie(
            name,
            "",
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            **_flags(),  # type: ignore[arg-type]
        )
