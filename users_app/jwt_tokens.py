"""Issue, rotate and revoke the SimpleJWT pair that the API keeps in HttpOnly cookies.

Refresh tokens are built here instead of with `RefreshToken.for_user` so that a
"remember me" token carries its own lifetime (7 days, kept across rotations) and its
`OutstandingToken.expires_at` matches: `flushexpiredtokens` must never drop the
blacklist entry of a token that could still verify.

Every token of one sign-in shares a family id (a claim, copied into access tokens, and a
`LoginToken` row). Rotation follows the OAuth 2.0 security BCP on refresh-token reuse: a
token traded less than `JWT_REFRESH_GRACE_SECONDS` ago still refreshes (a page firing
two calls at once refreshes twice with one cookie), a token traded earlier is a replay,
so the whole family is revoked.
"""

from __future__ import annotations

import enum
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, Token
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from affea.errors import DomainError
from users_app.models import LoginToken, User

logger = logging.getLogger(__name__)

REMEMBER_CLAIM = "remember"
FAMILY_CLAIM = "fam"


class InvalidRefreshToken(DomainError):
    status = 401
    default_message = "Refresh token is missing, invalid, expired or revoked."


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    access_lifetime: timedelta
    refresh_lifetime: timedelta


class _SignedRefresh(RefreshToken):
    """A refresh token checked for signature, expiry and type, but not the blacklist.

    Rotation decides about blacklisted tokens itself: a recently rotated one is a
    concurrent refresh, an older one a replay.
    """

    def check_blacklist(self) -> None:
        return None


def refresh_lifetime(*, remember: bool) -> timedelta:
    if remember:
        return settings.JWT_REMEMBER_ME_LIFETIME
    return api_settings.REFRESH_TOKEN_LIFETIME


def password_claim(user: User) -> str:
    """The claim that ties a token to the current password (SimpleJWT's revoke claim)."""
    return get_md5_hash_password(user.password)


def token_pair_issue(*, user: User, remember: bool, family: uuid.UUID | None = None) -> TokenPair:
    """Create a refresh token (recorded in its login family) and its access token."""
    lifetime = refresh_lifetime(remember=remember)
    family = family or uuid.uuid4()
    refresh = RefreshToken()
    refresh.set_exp(from_time=refresh.current_time, lifetime=lifetime)
    refresh[api_settings.USER_ID_CLAIM] = str(user.pk)
    refresh[REMEMBER_CLAIM] = remember
    refresh[FAMILY_CLAIM] = str(family)
    if api_settings.CHECK_REVOKE_TOKEN:
        refresh[api_settings.REVOKE_TOKEN_CLAIM] = password_claim(user)
    outstanding = OutstandingToken.objects.create(
        user=user,
        jti=refresh[api_settings.JTI_CLAIM],
        token=str(refresh),
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    LoginToken.objects.create(outstanding=outstanding, family=family)
    access = refresh.access_token  # copies the family claim
    return TokenPair(
        access=str(access),
        refresh=str(refresh),
        access_lifetime=api_settings.ACCESS_TOKEN_LIFETIME,
        refresh_lifetime=lifetime,
    )


def _signed_refresh(raw: str | None) -> _SignedRefresh | None:
    if not raw:
        return None
    try:
        return _SignedRefresh(raw)  # type: ignore[arg-type]
    except TokenError:
        return None


def _token_user(token: RefreshToken) -> User | None:
    user = User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM), is_active=True).first()
    if user is None:
        return None
    if api_settings.CHECK_REVOKE_TOKEN and token.get(
        api_settings.REVOKE_TOKEN_CLAIM
    ) != password_claim(user):
        return None
    return user


def _login_token(token: RefreshToken) -> LoginToken:
    """Lock the token's row (concurrent rotations of one token queue here) and return it."""
    jti = token[api_settings.JTI_CLAIM]
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=jti,
        defaults={
            "user_id": token.get(api_settings.USER_ID_CLAIM),
            "token": str(token),
            "created_at": token.current_time,
            "expires_at": datetime_from_epoch(token["exp"]),
        },
    )
    OutstandingToken.objects.select_for_update().filter(pk=outstanding.pk).first()
    # Tokens issued before families existed start their own family.
    claimed = token.get(FAMILY_CLAIM)
    family = uuid.UUID(claimed) if claimed else uuid.uuid4()
    login, _ = LoginToken.objects.get_or_create(
        outstanding=outstanding, defaults={"family": family}
    )
    return login


def login_family_is_live(family: str | uuid.UUID) -> bool:
    """Whether the sign-in still holds a refresh token that is neither revoked nor expired."""
    return OutstandingToken.objects.filter(
        login__family=family, blacklistedtoken__isnull=True, expires_at__gt=timezone.now()
    ).exists()


def login_family_revoke(family: uuid.UUID) -> int:
    """Blacklist every refresh token of one sign-in; return how many were added."""
    pending = OutstandingToken.objects.filter(login__family=family, blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=outstanding) for outstanding in pending]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _within_grace(login: LoginToken) -> bool:
    grace = timedelta(seconds=settings.JWT_REFRESH_GRACE_SECONDS)
    return login.rotated_at is not None and timezone.now() - login.rotated_at <= grace


class _Outcome(enum.Enum):
    ROTATED = "rotated"
    REFUSED = "refused"
    REPLAYED = "replayed"


@transaction.atomic
def _rotate(token: _SignedRefresh) -> tuple[_Outcome, User | None, TokenPair | None]:
    login = _login_token(token)
    user = _token_user(token)
    if user is None:
        return _Outcome.REFUSED, None, None
    remember = bool(token.get(REMEMBER_CLAIM))
    if login.rotated_at is None:
        _, created = BlacklistedToken.objects.get_or_create(token_id=login.pk)
        if not created:  # revoked: logout, password change, a detected replay
            return _Outcome.REFUSED, None, None
        login.rotated_at = timezone.now()
        login.save(update_fields=["rotated_at"])
        return (
            _Outcome.ROTATED,
            user,
            token_pair_issue(user=user, remember=remember, family=login.family),
        )
    if not _within_grace(login):
        login_family_revoke(login.family)
        return _Outcome.REPLAYED, None, None
    # A concurrent refresh with the same cookie: a sibling token, unless the sign-in ended.
    if not login_family_is_live(login.family):
        return _Outcome.REFUSED, None, None
    return (
        _Outcome.ROTATED,
        user,
        token_pair_issue(user=user, remember=remember, family=login.family),
    )


def token_pair_rotate(*, raw_refresh: str | None) -> tuple[User, TokenPair]:
    """Trade a refresh token for a new pair (see the module docstring for reuse)."""
    token = _signed_refresh(raw_refresh)
    if token is None:
        raise InvalidRefreshToken()
    # The family revocation of a replay commits before the 401 is raised.
    outcome, user, pair = _rotate(token)
    if outcome is _Outcome.REPLAYED:
        logger.warning("a rotated refresh token was replayed; its sign-in is revoked")
    if user is None or pair is None:
        raise InvalidRefreshToken()
    return user, pair


def refresh_token_revoke(*, raw_refresh: str | None) -> bool:
    """End the sign-in a refresh token belongs to; True when that token was still valid."""
    token = _signed_refresh(raw_refresh)
    if token is None:
        return False
    with transaction.atomic():
        login = _login_token(token)
        valid = _token_user(token) is not None and (
            not BlacklistedToken.objects.filter(token_id=login.pk).exists()
            or (_within_grace(login) and login_family_is_live(login.family))
        )
        login_family_revoke(login.family)
    return valid


def access_token_revoke(*, token: Token) -> None:
    """End the sign-in an access token was issued to (its family claim), if it has one."""
    family = token.get(FAMILY_CLAIM)
    if isinstance(family, str):
        try:
            login_family_revoke(uuid.UUID(family))
        except ValueError:
            return


def refresh_tokens_revoke_all(*, user: User) -> int:
    """Blacklist every outstanding refresh token of `user`; return how many were added."""
    pending = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=outstanding) for outstanding in pending]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
