"""Issue, rotate and revoke the SimpleJWT pair that the API keeps in HttpOnly cookies.

Refresh tokens are built here instead of with `RefreshToken.for_user` so that a
"remember me" token carries its own lifetime (7 days, kept across rotations) and its
`OutstandingToken.expires_at` matches: `flushexpiredtokens` must never drop the
blacklist entry of a token that could still verify.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from affea.errors import DomainError
from users_app.models import User

REMEMBER_CLAIM = "remember"


class InvalidRefreshToken(DomainError):
    status = 401
    default_message = "Refresh token is missing, invalid, expired or revoked."


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    access_lifetime: timedelta
    refresh_lifetime: timedelta


def refresh_lifetime(*, remember: bool) -> timedelta:
    if remember:
        return settings.JWT_REMEMBER_ME_LIFETIME
    return api_settings.REFRESH_TOKEN_LIFETIME


def token_pair_issue(*, user: User, remember: bool) -> TokenPair:
    """Create a refresh token (recorded as outstanding) and its access token for `user`."""
    lifetime = refresh_lifetime(remember=remember)
    refresh = RefreshToken()
    refresh.set_exp(from_time=refresh.current_time, lifetime=lifetime)
    refresh[api_settings.USER_ID_CLAIM] = str(user.pk)
    refresh[REMEMBER_CLAIM] = remember
    if api_settings.CHECK_REVOKE_TOKEN:
        refresh[api_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[api_settings.JTI_CLAIM],
        token=str(refresh),
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    access = refresh.access_token
    return TokenPair(
        access=str(access),
        refresh=str(refresh),
        access_lifetime=api_settings.ACCESS_TOKEN_LIFETIME,
        refresh_lifetime=lifetime,
    )


def _verified_refresh(raw: str) -> RefreshToken:
    try:
        # Verifies signature, expiry, type ("refresh", so an access token is refused)
        # and the blacklist.
        return RefreshToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise InvalidRefreshToken() from exc


def _token_user(token: RefreshToken) -> User:
    user = User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM), is_active=True).first()
    if user is None:
        raise InvalidRefreshToken()
    if api_settings.CHECK_REVOKE_TOKEN and token.get(
        api_settings.REVOKE_TOKEN_CLAIM
    ) != get_md5_hash_password(user.password):
        raise InvalidRefreshToken()
    return user


def _blacklist_once(token: RefreshToken) -> bool:
    """Blacklist `token`; False when another request blacklisted it first."""
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=token[api_settings.JTI_CLAIM],
        defaults={
            "user_id": token.get(api_settings.USER_ID_CLAIM),
            "token": str(token),
            "created_at": token.current_time,
            "expires_at": datetime_from_epoch(token["exp"]),
        },
    )
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    return created


@transaction.atomic
def token_pair_rotate(*, raw_refresh: str | None) -> tuple[User, TokenPair]:
    """Trade a valid refresh token for a new pair; the old one is blacklisted, once."""
    if not raw_refresh:
        raise InvalidRefreshToken()
    token = _verified_refresh(raw_refresh)
    user = _token_user(token)
    # Two concurrent refreshes with one token: the unique blacklist row lets only one win.
    if not _blacklist_once(token):
        raise InvalidRefreshToken()
    return user, token_pair_issue(user=user, remember=bool(token.get(REMEMBER_CLAIM)))


def refresh_token_revoke(*, raw_refresh: str | None) -> None:
    """Blacklist a refresh token if it is still valid; anything else is already dead."""
    if not raw_refresh:
        return
    try:
        token = RefreshToken(raw_refresh)  # type: ignore[arg-type]
    except TokenError:
        return
    _blacklist_once(token)


def refresh_tokens_revoke_all(*, user: User) -> int:
    """Blacklist every outstanding refresh token of `user`; return how many were added."""
    pending = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=outstanding) for outstanding in pending]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
