"""Single-use, expiring tokens for the links Affea mails: confirmation, reset, email change.

A token is `<timestamp base36>-<HMAC>`; the HMAC covers the purpose, the user's current
state and any extra value (the new address of an email change). Using a token changes
that state (`email_confirmed_at`, the password hash, the email), so a used token stops
matching. Different purposes use different salts, so no token works for another purpose,
and a JWT (which has dots and no dash-separated timestamp) never parses as one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, int_to_base36, urlsafe_base64_decode
from django.utils.http import urlsafe_base64_encode as _b64encode

from affea.numbers import parse_id
from users_app.models import User

_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)


class TokenPurpose(StrEnum):
    CONFIRM = "confirm"
    RESET = "reset"
    EMAIL_CHANGE = "email-change"


def _seconds(moment: datetime) -> int:
    return int((moment - _EPOCH).total_seconds())


def _state(user: User, purpose: TokenPurpose) -> str:
    login = "" if user.last_login is None else user.last_login.replace(microsecond=0).isoformat()
    confirmed = "" if user.email_confirmed_at is None else user.email_confirmed_at.isoformat()
    if purpose is TokenPurpose.CONFIRM:
        return f"{user.pk}|{user.email}|{confirmed}|{user.password}"
    if purpose is TokenPurpose.RESET:
        return f"{user.pk}|{user.email}|{user.password}|{login}|{user.is_active}"
    # An email change: every change sets email_confirmed_at, so a link works once, even when
    # the account later comes back to the address it was sent from; none for a deactivated one.
    return f"{user.pk}|{user.email}|{confirmed}|{user.password}|{user.is_active}"


def _signature(user: User, purpose: TokenPurpose, timestamp: int, extra: str, secret: str) -> str:
    value = f"{_state(user, purpose)}|{extra}|{timestamp}"
    return salted_hmac(
        f"users_app.tokens.{purpose}", value, secret=secret, algorithm="sha256"
    ).hexdigest()[::2]


def token_make(
    *, user: User, purpose: TokenPurpose, extra: str = "", at: datetime | None = None
) -> str:
    """Return a token for `user` and `purpose`; `at` back-dates it (the tests' clock seam)."""
    timestamp = _seconds(at or timezone.now())
    signature = _signature(user, purpose, timestamp, extra, settings.SECRET_KEY)
    return f"{int_to_base36(timestamp)}-{signature}"


def token_check(
    *, user: User, purpose: TokenPurpose, token: str, extra: str = "", at: datetime | None = None
) -> bool:
    """Tell whether `token` is genuine, unused and younger than ACCOUNT_CONFIRMATION_DAYS."""
    if not token or token.count("-") != 1 or len(token) > 100:
        return False
    ts_b36, _ = token.split("-")
    try:
        timestamp = base36_to_int(ts_b36)
    except ValueError:
        return False
    for secret in (settings.SECRET_KEY, *map(str, settings.SECRET_KEY_FALLBACKS)):
        expected = f"{ts_b36}-{_signature(user, purpose, timestamp, extra, secret)}"
        if constant_time_compare(expected, token):
            break
    else:
        return False
    age = _seconds(at or timezone.now()) - timestamp
    return 0 <= age <= settings.ACCOUNT_CONFIRMATION_DAYS * 86_400


def uid_encode(user: User) -> str:
    return _b64encode(force_bytes(user.pk))


def uid_decode(uid: str) -> int | None:
    """Return the user id in a link's `uid`, or None when it is not one.

    Only the spelling `uid_encode` writes names a user: base64 decoding skips stray
    characters and padding, and ids take leading zeros, so "MQ", "MQ=", ".MQ" and "MDE" would
    all be user 1, each counted apart by the per-account throttle.
    """
    try:
        value = force_str(urlsafe_base64_decode(uid))
    except (ValueError, UnicodeDecodeError):
        return None
    user_id = parse_id(value)
    if user_id is None or _b64encode(force_bytes(user_id)) != uid:
        return None
    return user_id


def text_encode(value: str) -> str:
    return _b64encode(force_bytes(value))


def text_decode(value: str) -> str | None:
    try:
        return force_str(urlsafe_base64_decode(value))
    except (ValueError, UnicodeDecodeError):
        return None
